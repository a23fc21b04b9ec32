package certstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Backend names, as policy's cert_stores list uses them.
const (
	BackendFile     = "file"
	BackendNSS      = "nss"
	BackendWindows  = "windows"
	BackendKeychain = "keychain"
)

// InventoryOptions says which stores to open.
type InventoryOptions struct {
	Home     string   // MAGDESK_HOME: the file store lives in Home/certs
	Backends []string // policy's cert_stores; empty = every backend that applies on this OS
	Runner   Runner   // nil = ExecRunner
	Discover DiscoverOptions
	FileOpts []FileOption // e.g. WithKeyring in tests
}

// Inventory is every store of this user on this OS.
type Inventory struct {
	File   *FileStore
	Stores []Store // File first
}

// OpenInventory opens the file store and the platform's stores (NSS databases on Linux,
// CurrentUser\MY on Windows, the keychains and Firefox NSS profiles on macOS).
func OpenInventory(o InventoryOptions) (*Inventory, error) {
	if o.Runner == nil {
		o.Runner = ExecRunner{}
	}
	want := func(name string) bool { return len(o.Backends) == 0 || slices.Contains(o.Backends, name) }
	inv := &Inventory{}
	fs, err := OpenFileStore(o.Home, o.FileOpts...)
	if err != nil {
		return nil, err
	}
	inv.File = fs
	inv.Stores = append(inv.Stores, fs)
	if !want(BackendFile) {
		inv.Stores = nil // still kept as inv.File: requests and logins need it
	}
	for _, s := range platformStores(o) {
		if want(s.Location().Backend) {
			inv.Stores = append(inv.Stores, s)
		}
	}
	return inv, nil
}

// nssStores opens every discovered NSS database.
func nssStores(o InventoryOptions) []Store {
	var out []Store
	for _, db := range DiscoverNSS(o.Discover) {
		s := NewNSSStore(db.Dir, db.Label, o.Runner)
		s.readOnly = db.ReadOnly
		out = append(out, s)
	}
	return out
}

// List lists every store. A store that can't be read doesn't hide the others: its problem is
// returned as a warning.
func (inv *Inventory) List(ctx context.Context) ([]Identity, []string) {
	var all []Identity
	var warnings []string
	for _, s := range inv.Stores {
		ids, err := s.List(ctx)
		all = append(all, ids...)
		var pe *PartialError
		switch {
		case errors.As(err, &pe):
			warnings = append(warnings, fmt.Sprintf("%s: %s", s.Location().Label, pe.Error()))
		case err != nil:
			warnings = append(warnings, fmt.Sprintf("%s (%s) was not read: %s", s.Location().Label, s.Location().Store, err.Error()))
		}
	}
	return all, warnings
}

// Find returns every place identity fp is in, with the store holding it.
func (inv *Inventory) Find(ctx context.Context, fp Fingerprint) ([]Identity, []Store) {
	var ids []Identity
	var stores []Store
	for _, s := range inv.Stores {
		list, _ := s.List(ctx)
		for _, id := range list {
			if id.SHA256 == fp {
				ids = append(ids, id)
				stores = append(stores, s)
			}
		}
	}
	return ids, stores
}
