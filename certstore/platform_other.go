//go:build !linux && !windows && !darwin

package certstore

// Other Unix systems (the BSDs) use NSS like Linux.
func platformStores(o InventoryOptions) []Store { return nssStores(o) }
