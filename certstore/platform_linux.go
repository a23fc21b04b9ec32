package certstore

// On Linux the browsers keep client certificates in NSS databases.
func platformStores(o InventoryOptions) []Store { return nssStores(o) }
