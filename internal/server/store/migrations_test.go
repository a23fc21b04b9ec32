package store

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
)

// TestMigrationList: versions start at 1 and follow each other, so that a step added by two
// branches at once cannot land with the same number unnoticed.
func TestMigrationList(t *testing.T) {
	for i, m := range migrations {
		if m.version != i+1 || m.name == "" || len(m.stmts) == 0 {
			t.Errorf("migration %d: version %d name %q with %d statements, want version %d, a name and statements",
				i, m.version, m.name, len(m.stmts), i+1)
		}
	}
}

// TestMigrations: instances opening one database at once apply each step exactly once (the
// migration lock), reopening applies nothing, and a database migrated by a newer magd is refused
// with what to do.
func TestMigrations(t *testing.T) { eachEngine(t, testMigrations) }

func testMigrations(t *testing.T, dsn string) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(dsn)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d starting with the others: %v", i, err)
		}
	}
	s := open(t, dsn)
	applied := func() map[int]int64 {
		rows, err := s.db.QueryContext(ctx, `SELECT version, applied_at FROM schema_migrations`)
		got, err := collect(rows, err, func(r *sql.Rows) ([2]int64, error) {
			var p [2]int64
			return p, r.Scan(&p[0], &p[1])
		})
		if err != nil {
			t.Fatal(err)
		}
		m := map[int]int64{}
		for _, p := range got {
			m[int(p[0])] = p[1]
		}
		return m
	}
	first := applied()
	if len(first) != len(migrations) {
		t.Fatalf("applied versions %v, want 1..%d once each", first, len(migrations))
	}
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("Ready after migrating: %v", err)
	}
	open(t, dsn)
	if again := applied(); len(again) != len(first) || again[1] != first[1] {
		t.Fatalf("reopening re-applied: %v then %v", first, again)
	}

	newer := len(migrations) + 1
	if _, err := s.db.ExecContext(ctx, s.d.rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
		newer, "from the future", 0); err != nil {
		t.Fatal(err)
	}
	if s3, err := Open(dsn); err == nil {
		_ = s3.Close()
		t.Fatal("a database of a newer schema version was opened")
	} else if !strings.Contains(err.Error(), "newer") || !strings.Contains(err.Error(), "run the magd release") {
		t.Fatalf("error does not say what happened and what to do: %v", err)
	}
}
