package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestConcurrentWriters is the regression test of the SQLITE_BUSY errors magload met: a write
// transaction that needs a second pooled connection (to prepare a statement not yet cached) while
// every other pooled connection waited in SQLite's busy handler for that transaction's lock. The
// waiters gave up after busy_timeout with "database is locked". Writers must queue without
// holding connections, so that every write below succeeds.
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "magd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC()
	if err := s.CreateOrg(ctx, Org{ID: "org_0", Name: "Zero", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}

	const writers = 24 // three times the pool
	inTx := make(chan struct{})
	var started sync.WaitGroup
	started.Add(writers)
	errs := make(chan error, writers+1)
	var done sync.WaitGroup
	for i := range writers {
		done.Add(1)
		go func() {
			defer done.Done()
			<-inTx
			started.Done()
			var err error
			switch i % 3 {
			case 0: // a write transaction
				err = s.Tx(ctx, func(q Q) error {
					return q.CreateOrg(ctx, Org{ID: fmt.Sprintf("org_w%d", i), Name: "W", CreatedAt: now})
				})
			case 1: // a single write outside a transaction
				err = s.SetSetting(ctx, fmt.Sprintf("k%d", i), "v")
			default: // a read
				_, err = s.OrgByID(ctx, "org_0")
			}
			if err != nil {
				errs <- fmt.Errorf("writer %d: %w", i, err)
			}
		}()
	}
	err = s.Tx(ctx, func(q Q) error {
		close(inTx)
		started.Wait()
		// Let the others reach the write lock: this is scheduling, not a measured bound.
		time.Sleep(300 * time.Millisecond)
		// A statement this store has not prepared yet, inside the held write transaction.
		return q.Audit(ctx, AuditEvent{ID: "evt_1", At: now, Type: "test"})
	})
	if err != nil {
		errs <- fmt.Errorf("holder: %w", err)
	}
	done.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n, err := s.CountOrgs(ctx)
	if err != nil || n != 1+writers/3 {
		t.Fatalf("%d organisations (%v), want %d", n, err, 1+writers/3)
	}
}
