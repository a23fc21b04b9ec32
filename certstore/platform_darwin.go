package certstore

// On macOS Safari and Chrome use the keychains; Firefox profiles are NSS databases, listed
// directly and changed when the NSS tools are installed (brew install nss).
func platformStores(o InventoryOptions) []Store {
	return append([]Store{NewKeychainStore(o.Runner)}, nssStores(o)...)
}
