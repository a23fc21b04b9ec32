package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "magd.db")
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

	// Reopening applies the schema again without harm and keeps the data; the database is in WAL mode.
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, err := s.AccountByUserID(ctx, "ann_1000")
	if err != nil || a.OrgName != "One" || !a.CreatedAt.Equal(now) || a.DisplayName() != "Ann A" {
		t.Fatalf("reopened: %+v %v", a, err)
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
