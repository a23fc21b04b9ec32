package certstore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInventory(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	db := filepath.Join(home, ".pki", "nssdb")
	os.MkdirAll(filepath.Dir(db), 0o700)
	if err := os.Rename(newNSSDB(t), db); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(home, ".mozilla", "firefox", "broken.default")
	os.MkdirAll(broken, 0o700)
	os.WriteFile(filepath.Join(broken, "cert9.db"), []byte("not sqlite"), 0o600)
	disc := DiscoverOptions{Home: home, XDGConfigHome: filepath.Join(home, ".config"), XDGDataHome: filepath.Join(home, ".local", "share"), SystemDirs: []string{}}
	ca := newTestCA(t, "CA")
	b := ca.issue(t, "Jane", "c-1", issueOpt{})

	inv, err := OpenInventory(InventoryOptions{Home: t.TempDir(), Discover: disc})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Stores) != 3 || inv.Stores[0] != Store(inv.File) {
		t.Fatalf("stores: %d", len(inv.Stores))
	}
	inv.File.Import(ctx, b)
	inv.Stores[1].Import(ctx, b)
	ids, warnings := inv.List(ctx)
	if len(ids) != 2 || len(warnings) != 1 || !strings.Contains(warnings[0], "broken.default") {
		t.Fatalf("list: %d identities, warnings %q", len(ids), warnings)
	}
	found, stores := inv.Find(ctx, FingerprintOf(b.Cert))
	if len(found) != 2 || len(stores) != 2 {
		t.Fatalf("find: %d", len(found))
	}
	// Policy narrows the stores to NSS; the file store stays available for requests and logins.
	inv, _ = OpenInventory(InventoryOptions{Home: t.TempDir(), Discover: disc, Backends: []string{BackendNSS}})
	if inv.File == nil || len(inv.Stores) != 2 || inv.Stores[0].Location().Backend != BackendNSS {
		t.Fatalf("policy-narrowed stores: %d", len(inv.Stores))
	}
}
