// Package store is magd's persistence: the schema and every query, written once in portable
// SQL for its two engines, SQLite (embedded, the default) and PostgreSQL (several magd instances
// sharing one database). dialect.go holds all that differs between them: opening, placeholders
// (queries use `?`, rebound to `$n` for PostgreSQL when a statement is prepared), column types of
// the schema, error codes and locking. migrations.go is the versioned schema. Times are stored as
// INTEGER Unix milliseconds (UTC), ids as TEXT; no query uses date functions.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Errors the server maps to API codes.
var (
	ErrNotFound = errors.New("store: not found")
	ErrConflict = errors.New("store: already exists")
	ErrFull     = errors.New("store: the disk is full")
)

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Q runs queries on the database or inside a transaction.
type Q struct{ q querier }

// Store is an open database.
type Store struct {
	Q
	db    *sql.DB
	d     *dialect
	cache *stmtCache
	write writeLock
	gen   atomic.Uint64
}

// Engine names the database engine: EngineSQLite or EnginePostgres.
func (s *Store) Engine() string { return s.d.name }

// writeLock admits one writer of this process at a time, before it takes a pooled connection.
// SQLite allows one writer anyway; waiting here rather than in SQLite's busy handler keeps the
// waiters from holding connections, which a transaction may need (to prepare a statement), and
// queues them in order without the busy handler's sleeps. busy_timeout is then only for other
// processes (`magd admin`).
type writeLock chan struct{}

func (l writeLock) lock(ctx context.Context) error {
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l writeLock) unlock() { <-l }

// Generation counts the write transactions committed by this process; a reader may keep a
// derived value while it does not change. (Writes that change what users see always run in Tx.)
// Other instances' writes do not count: with several instances such a value is also bounded in age.
func (s *Store) Generation() uint64 { return s.gen.Load() }

// stmtCache keeps every query prepared once: parsing SQL is most of the cost of a small query
// with modernc.org/sqlite. database/sql re-prepares a statement on each pooled connection as needed.
// It is keyed by the portable query and prepares the engine's rebound form.
type stmtCache struct {
	db    *sql.DB
	d     *dialect
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// get prepares outside the mutex: preparing takes a pooled connection, which may have to wait.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, ok := c.stmts[query]
	c.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, c.d.rebind(query))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.stmts[query]; ok { // prepared meanwhile by another caller
		_ = st.Close()
		return prev, nil
	}
	if c.stmts == nil {
		_ = st.Close()
		return nil, sql.ErrConnDone
	}
	c.stmts[query] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		_ = st.Close()
	}
	c.stmts = nil
}

// cachedQuerier runs queries through the statement cache, on the database or bound to a
// transaction. Outside a transaction, ExecContext (every write) takes the write lock on SQLite.
type cachedQuerier struct {
	cache *stmtCache
	write writeLock
	tx    *sql.Tx
}

func (c cachedQuerier) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	st, err := c.cache.get(ctx, query)
	if err != nil || c.tx == nil {
		return st, err
	}
	return c.tx.StmtContext(ctx, st), nil
}

// portableArgs stores Go booleans as the 0 and 1 of an INTEGER column, which both engines
// compare and scan back into a bool; PostgreSQL would not take a bool for an integer.
func portableArgs(args []any) []any {
	copied := false
	for i, a := range args {
		if b, ok := a.(bool); ok {
			if !copied { // the caller's slice stays as it was
				args, copied = slices.Clone(args), true
			}
			args[i] = int64(0)
			if b {
				args[i] = int64(1)
			}
		}
	}
	return args
}

func (c cachedQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	args = portableArgs(args)
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.tx == nil && c.cache.d.serialExec {
		if err := c.write.lock(ctx); err != nil {
			return nil, err
		}
		defer c.write.unlock()
	}
	return st.ExecContext(ctx, args...)
}

func (c cachedQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	args = portableArgs(args)
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (c cachedQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	args = portableArgs(args)
	st, err := c.stmt(ctx, query)
	if err != nil {
		// *sql.Row cannot be built with an error from outside database/sql; the plain path
		// reports the same prepare error from Scan.
		query = c.cache.d.rebind(query)
		if c.tx != nil {
			return c.tx.QueryRowContext(ctx, query, args...)
		}
		return c.cache.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// Open opens the database named by dsn and brings its schema to the newest version: a
// postgres:// URL (see IsPostgres) or else the path of a SQLite file, created if needed.
func Open(dsn string) (*Store, error) {
	d, open, what := sqliteDialect, openSQLite, dsn
	if IsPostgres(dsn) {
		d, open, what = postgresDialect, openPostgres, "PostgreSQL"
	}
	db, err := open(dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", what, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := migrate(ctx, db, d); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("prepare database %s: %w", what, err)
	}
	cache := &stmtCache{db: db, d: d, stmts: map[string]*sql.Stmt{}}
	write := make(writeLock, 1)
	return &Store{Q: Q{cachedQuerier{cache: cache, write: write}}, db: db, d: d, cache: cache, write: write}, nil
}

// Ready reports whether the database answers and carries the schema version this magd needs.
func (s *Store) Ready(ctx context.Context) error {
	v, err := schemaVersion(ctx, s.db, s.d)
	if err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	if want := migrations[len(migrations)-1].version; v < want {
		return fmt.Errorf("database at schema version %d, this magd needs %d", v, want)
	}
	return nil
}

// queryWrite runs fn, a single write that returns rows (RETURNING), outside a transaction:
// on SQLite it queues on the write lock like every other single write.
func (s *Store) queryWrite(ctx context.Context, fn func(q querier) error) error {
	if s.d.serialExec {
		if err := s.write.lock(ctx); err != nil {
			return err
		}
		defer s.write.unlock()
	}
	return fn(cachedQuerier{cache: s.cache})
}

// Close closes the database.
func (s *Store) Close() error {
	s.cache.close()
	return s.db.Close()
}

// Tx runs fn in one write transaction; fn's error rolls it back. fn must use only tx: the
// write lock is held until Tx returns, so a write through the Store inside fn would wait for
// itself (until ctx ends).
func (s *Store) Tx(ctx context.Context, fn func(tx Q) error) error {
	if err := s.write.lock(ctx); err != nil {
		return err
	}
	defer s.write.unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap(err)
	}
	if s.d.txLock != "" {
		if _, err := tx.ExecContext(ctx, s.d.txLock); err != nil {
			_ = tx.Rollback()
			return wrap(err)
		}
	}
	if err := fn(Q{cachedQuerier{cache: s.cache, tx: tx}}); err != nil {
		_ = tx.Rollback()
		return err
	}
	err = tx.Commit()
	s.gen.Add(1)
	return wrap(err)
}

// collect scans every row of a query with scan.
func collect[T any](rows *sql.Rows, err error, scan func(*sql.Rows) (T, error)) ([]T, error) {
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, wrap(err)
		}
		out = append(out, v)
	}
	return out, wrap(rows.Err())
}

func (q Q) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := q.q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, wrap(err)
	}
	n, err := res.RowsAffected()
	return n, wrap(err)
}

// ms converts a time to the stored form; the zero time is stored as NULL.
func ms(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// tm converts a stored time back; NULL becomes the zero time.
func tm(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

// Setting reads a key of the settings table ("" when absent).
func (q Q) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := q.q.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, wrap(err)
}

// SetSetting writes a key of the settings table.
func (q Q) SetSetting(ctx context.Context, key, value string) error {
	_, err := q.exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// InitSetting writes a key of the settings table unless it has a value already.
func (q Q) InitSetting(ctx context.Context, key, value string) error {
	_, err := q.exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, value)
	return err
}

// AuditEvent is one row of the audit log.
type AuditEvent struct {
	ID, Type, Actor, Subject, IP, RequestID, Details string
	At                                               time.Time
}

// Audit appends an event.
func (q Q) Audit(ctx context.Context, e AuditEvent) error {
	_, err := q.exec(ctx, `INSERT INTO audit_events (id, at, type, actor, subject, ip, request_id, details)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, ms(e.At), e.Type, e.Actor, e.Subject, e.IP, e.RequestID, e.Details)
	return err
}

// AuditEvents lists events of a type ("" for all), oldest first.
func (q Q) AuditEvents(ctx context.Context, typ string) ([]AuditEvent, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT id, at, type, actor, subject, ip, request_id, details
		FROM audit_events WHERE ? = '' OR type = ? ORDER BY at, id`, typ, typ)
	return collect(rows, err, func(rows *sql.Rows) (AuditEvent, error) {
		var e AuditEvent
		var at sql.NullInt64
		err := rows.Scan(&e.ID, &at, &e.Type, &e.Actor, &e.Subject, &e.IP, &e.RequestID, &e.Details)
		e.At = tm(at)
		return e, err
	})
}

// Purge deletes what can no longer be used: sessions, tickets, recoveries and unfinished
// authenticator registrations that expired before cutoff, spent launch assertions older than
// cutoff, account events older than cutoff (the feed is for running apps, which reload the rest),
// and failure counters untouched since cutoff and no longer blocking at now. The audit log is kept. It returns how many rows went.
func (s *Store) Purge(ctx context.Context, cutoff, now time.Time) (int64, error) {
	var total int64
	err := s.Tx(ctx, func(q Q) error {
		for _, stmt := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM sessions WHERE absolute_expires_at < ? OR (revoked_at IS NOT NULL AND revoked_at < ?)`, []any{ms(cutoff), ms(cutoff)}},
			{`DELETE FROM mfa_tickets WHERE expires_at < ?`, []any{ms(cutoff)}},
			{`DELETE FROM launch_tickets WHERE expires_at < ?`, []any{ms(cutoff)}},
			{`DELETE FROM oidc_auth_requests WHERE expires_at < ?`, []any{ms(cutoff)}},
			{`DELETE FROM oidc_tokens WHERE expires_at < ? AND (refresh_expires_at IS NULL OR refresh_expires_at < ?)`, []any{ms(cutoff), ms(cutoff)}},
			{`DELETE FROM browser_sessions WHERE expires_at < ?`, []any{ms(cutoff)}},
			{`DELETE FROM recoveries WHERE expires_at < ?`, []any{ms(cutoff)}},
			{`DELETE FROM totp_credentials WHERE status = 'pending' AND expires_at < ?`, []any{ms(cutoff)}},
			{`DELETE FROM throttle WHERE updated_at < ? AND (blocked_until IS NULL OR blocked_until < ?)`, []any{ms(cutoff), ms(now)}},
			{`DELETE FROM account_events WHERE at < ?`, []any{ms(cutoff)}},
			{`DELETE FROM mail_outbox WHERE sent_at < ?`, []any{ms(cutoff)}},
		} {
			n, err := q.exec(ctx, stmt.sql, stmt.args...)
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	return total, err
}
