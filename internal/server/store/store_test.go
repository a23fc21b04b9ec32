package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/internal/testenv"
)

// eachEngine runs a test of the store contract on a fresh database of each engine: every test
// of this package but the SQLite file checks goes through it, unchanged for both.
func eachEngine(t *testing.T, fn func(t *testing.T, dsn string)) {
	for _, e := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{EngineSQLite, func(t *testing.T) string { return filepath.Join(t.TempDir(), "magd.db") }},
		{EnginePostgres, func(t *testing.T) string { return testenv.Postgres(t) }},
	} {
		t.Run(e.name, func(t *testing.T) { fn(t, e.dsn(t)) })
	}
}

func open(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStore(t *testing.T) { eachEngine(t, testStore) }

func testStore(t *testing.T, path string) {
	ctx := context.Background()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := s.CreateOrg(ctx, Org{ID: "org_1", Name: "One", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateOrg(ctx, Org{ID: "org_1", Name: "Again", CreatedAt: now}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate id: %v, want ErrConflict", err)
	}
	if _, err := s.OrgByID(ctx, "org_missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing org: %v, want ErrNotFound", err)
	}
	// A failed transaction leaves nothing behind; the generation counts commits.
	gen := s.Generation()
	boom := errors.New("boom")
	err = s.Tx(ctx, func(q Q) error {
		if err := q.CreateOrg(ctx, Org{ID: "org_2", Name: "Two", CreatedAt: now}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if _, err := s.OrgByID(ctx, "org_2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rolled-back insert is visible: %v", err)
	}
	if err := s.Tx(ctx, func(q Q) error {
		return q.CreateAccount(ctx, Account{ID: "acct_1", UserID: "ann_1000", OrgID: "org_1", Email: "a@b.example",
			FirstName: "Ann", LastName: "A", Status: AccountPending, CreatedAt: now})
	}); err != nil {
		t.Fatal(err)
	}
	if s.Generation() != gen+1 { // the rolled-back transaction does not count
		t.Fatalf("generation %d, want %d", s.Generation(), gen+1)
	}
	// Foreign keys are enforced.
	if err := s.CreateAccount(ctx, Account{ID: "acct_2", UserID: "bob_1000", OrgID: "org_nope", Email: "b@b.example",
		FirstName: "Bob", LastName: "B", Status: AccountPending, CreatedAt: now}); err == nil {
		t.Fatal("an account in a missing organisation was stored")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopening keeps the data.
	s = open(t, path)
	a, err := s.AccountByUserID(ctx, "ann_1000")
	if err != nil || a.OrgName != "One" || !a.CreatedAt.Equal(now) || a.DisplayName() != "Ann A" || a.OrgAdmin {
		t.Fatalf("reopened: %+v %v", a, err)
	}
}

// TestSQLiteFile: the database is in WAL mode and its files are private.
func TestSQLiteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "magd.db")
	s := open(t, path)
	if err := s.SetSetting(context.Background(), "k", "v"); err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := s.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q %v", mode, err)
	}
	for _, f := range []string{path, path + "-wal"} {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v, want a private file", f, st, err)
		}
	}
}
