package store

import (
	"context"
	"database/sql"
	"errors"
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
func TestConcurrentWriters(t *testing.T) { eachEngine(t, testConcurrentWriters) }

func testConcurrentWriters(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
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
	err := s.Tx(ctx, func(q Q) error {
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

// TestOneWinnerAcrossInstances: two Stores on one database stand for two magd instances (or
// magd and `magd admin`). A launch ticket, an activation token and a TOTP time step presented to
// both at the same moment, many times over, are used exactly once each.
func TestOneWinnerAcrossInstances(t *testing.T) { eachEngine(t, testOneWinner) }

func testOneWinner(t *testing.T, dsn string) {
	ctx := context.Background()
	a, b := open(t, dsn), open(t, dsn)
	now := time.Now().UTC()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(a.CreateOrg(ctx, Org{ID: "org_1", Name: "One", CreatedAt: now}))
	must(a.CreateAccount(ctx, Account{ID: "acct_1", UserID: "ann_1", OrgID: "org_1", Email: "a@example.com",
		FirstName: "Ann", LastName: "A", Status: AccountPending, CreatedAt: now}))
	must(a.CreateApp(ctx, App{ID: "app_1", Name: "App", LaunchURL: "https://app.example", CreatedAt: now}))
	must(a.CreateTOTP(ctx, TOTP{ID: "otp_1", AccountID: "acct_1", SecretEnc: []byte{1, 2, 3}, Status: "pending",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	must(a.ActivateTOTP(ctx, "otp_1", 1))

	const rounds, each = 10, 4 // each contender on both instances
	for r := range rounds {
		ticket, token, step := fmt.Sprintf("lt_%d", r), fmt.Sprintf("at_%d", r), int64(100+r)
		must(a.CreateLaunchTicket(ctx, LaunchTicket{Hash: ticket, AccountID: "acct_1", AppID: "app_1", AAL: 1, ExpiresAt: now.Add(time.Minute)}))
		must(a.IssueActivationToken(ctx, ActivationToken{Hash: token, AccountID: "acct_1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
		uses := []struct {
			name string
			use  func(s *Store) error
		}{
			{"launch ticket", func(s *Store) error { _, err := s.ConsumeLaunchTicket(ctx, ticket, now); return err }},
			{"activation token", func(s *Store) error { return s.ConsumeActivationToken(ctx, token, now) }},
			{"TOTP step", func(s *Store) error { return s.UseTOTPStep(ctx, "otp_1", step) }},
		}
		for _, u := range uses {
			var wins sync.WaitGroup
			var mu sync.Mutex
			won, lost := 0, 0
			start := make(chan struct{})
			for i := range 2 * each {
				s := []*Store{a, b}[i%2]
				wins.Add(1)
				go func() {
					defer wins.Done()
					<-start
					err := u.use(s)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						won++
					case errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict):
						lost++
					default:
						t.Errorf("%s round %d: %v", u.name, r, err)
					}
				}()
			}
			close(start)
			wins.Wait()
			if won != 1 || lost != 2*each-1 {
				t.Fatalf("%s round %d: %d successes and %d refusals, want exactly 1 and %d", u.name, r, won, lost, 2*each-1)
			}
		}
	}
}

// TestTxSerialisesInstances: read-then-write transactions of two instances on one counter lose
// no update (the server's lockout counters are written this way).
func TestTxSerialisesInstances(t *testing.T) { eachEngine(t, testTxSerialises) }

func testTxSerialises(t *testing.T, dsn string) {
	ctx := context.Background()
	a, b := open(t, dsn), open(t, dsn)
	const per = 25
	var wg sync.WaitGroup
	errs := make(chan error, 2*per)
	for i := range 2 * per {
		s := []*Store{a, b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Tx(ctx, func(q Q) error {
				th, err := q.GetThrottle(ctx, "user:ann")
				if err != nil {
					return err
				}
				th.Failures++
				return q.PutThrottle(ctx, "user:ann", th, time.Now())
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	th, err := a.GetThrottle(ctx, "user:ann")
	if err != nil || th.Failures != 2*per {
		t.Fatalf("counter %d (%v) after %d increments on two instances", th.Failures, err, 2*per)
	}
}

// TestFirstOpenWaitsForWAL: a new SQLite file that another connection is writing in its first
// journal mode (as a second instance or `magd admin` starting at the same moment may) still
// opens once the writer is done. Switching to WAL needs the file to itself, and SQLite does not
// wait for that in its busy handler when waiting could deadlock.
func TestFirstOpenWaitsForWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "magd.db")
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`CREATE TABLE first_writer (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	opened := make(chan error, 1)
	go func() {
		s, err := Open(path)
		if err == nil {
			err = s.Close()
		}
		opened <- err
	}()
	select {
	case err := <-opened:
		t.Fatalf("opened while another connection held the file: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-opened; err != nil {
		t.Fatalf("open after the reader finished: %v", err)
	}
}
