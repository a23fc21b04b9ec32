package certstore

// On Windows every browser offers CurrentUser\MY (Firefox through osclientcerts). NSS tools
// are not on Windows (its certutil.exe is another program), so Firefox databases are left out.
func platformStores(o InventoryOptions) []Store { return []Store{newWindowsStore()} }
