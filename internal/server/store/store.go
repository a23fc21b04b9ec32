// Package store is magd's persistence: the schema and every query, in portable SQL, so that a
// PostgreSQL backend can follow. Queries reach the database only through the small querier
// interface (database/sql's ExecContext, QueryContext, QueryRowContext); what is SQLite's own is
// kept to Open (the driver, its pragmas), wrap (its error codes) and the `?` placeholders, which
// a PostgreSQL backend would rebind to `$n` in cachedQuerier. Times are stored as INTEGER Unix
// milliseconds (UTC), ids as TEXT, and no query uses RETURNING, UPSERT or date functions.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
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
	cache *stmtCache
	write writeLock
	gen   atomic.Uint64
}

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
func (s *Store) Generation() uint64 { return s.gen.Load() }

// stmtCache keeps every query prepared once: parsing SQL is most of the cost of a small query
// with modernc.org/sqlite. database/sql re-prepares a statement on each pooled connection as needed.
type stmtCache struct {
	db    *sql.DB
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
	st, err := c.db.PrepareContext(ctx, query)
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
// transaction. Outside a transaction, ExecContext (every write) takes the write lock.
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

func (c cachedQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.tx == nil {
		if err := c.write.lock(ctx); err != nil {
			return nil, err
		}
		defer c.write.unlock()
	}
	return st.ExecContext(ctx, args...)
}

func (c cachedQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (c cachedQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := c.stmt(ctx, query)
	if err != nil {
		// *sql.Row cannot be built with an error from outside database/sql; the plain path
		// reports the same prepare error from Scan.
		if c.tx != nil {
			return c.tx.QueryRowContext(ctx, query, args...)
		}
		return c.cache.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// Open opens (creating if needed) the SQLite database at path in WAL mode with foreign keys on
// and a busy timeout, and applies the schema. Write transactions start IMMEDIATE so that a
// writer of another process queues on the lock instead of failing on upgrade; writers of this
// process queue on the Store's write lock first.
func Open(path string) (*Store, error) {
	// Created private before SQLite opens it: its -wal and -shm files take the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	v := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		v.Add("_pragma", p)
	}
	v.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+v.Encode())
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := migrate(ctx, db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("prepare database %s: %w", path, err)
	}
	cache := &stmtCache{db: db, stmts: map[string]*sql.Stmt{}}
	write := make(writeLock, 1)
	return &Store{Q: Q{cachedQuerier{cache: cache, write: write}}, db: db, cache: cache, write: write}, nil
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
	if err := fn(Q{cachedQuerier{cache: s.cache, tx: tx}}); err != nil {
		_ = tx.Rollback()
		return err
	}
	err = tx.Commit()
	s.gen.Add(1)
	return wrap(err)
}

// wrap maps driver errors to the store's sentinel errors.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %v", ErrConflict, err)
		case sqlite3.SQLITE_FULL:
			return fmt.Errorf("%w: %v", ErrFull, err)
		}
	}
	return err
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

func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for _, stmt := range schema {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%w in %.60q", err, stmt)
		}
	}
	return tx.Commit()
}

var schema = []string{
	`CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS orgs (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, user_id TEXT NOT NULL UNIQUE,
		org_id TEXT NOT NULL REFERENCES orgs(id), email TEXT NOT NULL, first_name TEXT NOT NULL,
		last_name TEXT NOT NULL, org_admin INTEGER NOT NULL DEFAULT 0,
		status TEXT NOT NULL CHECK (status IN ('pending','active','disabled')),
		password_phc TEXT, first_login_at INTEGER, created_at INTEGER NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS accounts_email ON accounts(email)`,
	`CREATE TABLE IF NOT EXISTS activation_tokens (token_hash TEXT PRIMARY KEY,
		account_id TEXT NOT NULL REFERENCES accounts(id), created_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL, consumed_at INTEGER, superseded_at INTEGER)`,
	`CREATE INDEX IF NOT EXISTS activation_tokens_account ON activation_tokens(account_id)`,
	`CREATE TABLE IF NOT EXISTS security_answers (account_id TEXT NOT NULL REFERENCES accounts(id),
		question_id TEXT NOT NULL, answer_phc TEXT NOT NULL, created_at INTEGER NOT NULL,
		PRIMARY KEY (account_id, question_id))`,
	`CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE,
		account_id TEXT NOT NULL REFERENCES accounts(id), aal INTEGER NOT NULL, amr TEXT NOT NULL,
		cert_sha256 TEXT NOT NULL DEFAULT '', authenticated_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL,
		idle_expires_at INTEGER NOT NULL, absolute_expires_at INTEGER NOT NULL, revoked_at INTEGER,
		client_name TEXT NOT NULL DEFAULT '', client_version TEXT NOT NULL DEFAULT '', ip TEXT NOT NULL DEFAULT '')`,
	`CREATE INDEX IF NOT EXISTS sessions_account ON sessions(account_id)`,
	`CREATE TABLE IF NOT EXISTS mfa_tickets (ticket_hash TEXT PRIMARY KEY,
		account_id TEXT NOT NULL REFERENCES accounts(id), amr TEXT NOT NULL, expires_at INTEGER NOT NULL,
		consumed_at INTEGER, attempts INTEGER NOT NULL DEFAULT 0)`,
	`CREATE TABLE IF NOT EXISTS throttle (key TEXT PRIMARY KEY, failures INTEGER NOT NULL,
		blocked_until INTEGER, updated_at INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS totp_credentials (id TEXT PRIMARY KEY,
		account_id TEXT NOT NULL REFERENCES accounts(id), secret_enc BLOB NOT NULL,
		status TEXT NOT NULL CHECK (status IN ('pending','active')), last_used_step INTEGER NOT NULL DEFAULT 0,
		created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS certificates (id TEXT PRIMARY KEY, serial_hex TEXT NOT NULL UNIQUE,
		sha256 TEXT NOT NULL UNIQUE, der BLOB NOT NULL, subject TEXT NOT NULL, not_before INTEGER NOT NULL,
		not_after INTEGER NOT NULL, status TEXT NOT NULL CHECK (status IN ('active','revoked')),
		issued_to TEXT NOT NULL REFERENCES accounts(id), label TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS certificate_bindings (certificate_id TEXT NOT NULL REFERENCES certificates(id),
		account_id TEXT NOT NULL REFERENCES accounts(id), bound_at INTEGER NOT NULL, bound_via TEXT NOT NULL,
		PRIMARY KEY (certificate_id, account_id))`,
	`CREATE TABLE IF NOT EXISTS applications (id TEXT PRIMARY KEY, name TEXT NOT NULL,
		description TEXT NOT NULL DEFAULT '', launch_url TEXT NOT NULL, required_aal INTEGER NOT NULL DEFAULT 1,
		current_terms_id TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS terms_versions (id TEXT PRIMARY KEY, app_id TEXT NOT NULL REFERENCES applications(id),
		version TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, sha256 TEXT NOT NULL,
		published_at INTEGER NOT NULL, UNIQUE (app_id, version))`,
	`CREATE TABLE IF NOT EXISTS org_subscriptions (org_id TEXT NOT NULL REFERENCES orgs(id),
		app_id TEXT NOT NULL REFERENCES applications(id), subscribed_at INTEGER NOT NULL, PRIMARY KEY (org_id, app_id))`,
	`CREATE TABLE IF NOT EXISTS terms_acceptances (id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id),
		app_id TEXT NOT NULL REFERENCES applications(id), terms_version_id TEXT NOT NULL REFERENCES terms_versions(id),
		accepted_by TEXT NOT NULL REFERENCES accounts(id), accepted_at INTEGER NOT NULL, body_sha256 TEXT NOT NULL,
		UNIQUE (org_id, terms_version_id))`,
	`CREATE TABLE IF NOT EXISTS access_requests (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
		app_id TEXT NOT NULL REFERENCES applications(id),
		status TEXT NOT NULL CHECK (status IN ('pending','approved','denied')), reason TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL, decided_at INTEGER, decided_by TEXT)`,
	`CREATE INDEX IF NOT EXISTS access_requests_account_app ON access_requests(account_id, app_id, created_at)`,
	`CREATE UNIQUE INDEX IF NOT EXISTS access_requests_one_pending ON access_requests(account_id, app_id) WHERE status = 'pending'`,
	`CREATE TABLE IF NOT EXISTS app_grants (account_id TEXT NOT NULL REFERENCES accounts(id),
		app_id TEXT NOT NULL REFERENCES applications(id), status TEXT NOT NULL CHECK (status IN ('active','suspended')),
		granted_at INTEGER NOT NULL, PRIMARY KEY (account_id, app_id))`,
	`CREATE TABLE IF NOT EXISTS launch_tickets (ticket_hash TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
		app_id TEXT NOT NULL REFERENCES applications(id), aal INTEGER NOT NULL, expires_at INTEGER NOT NULL, consumed_at INTEGER)`,
	`CREATE TABLE IF NOT EXISTS used_assertions (jti TEXT PRIMARY KEY, used_at INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS recoveries (id TEXT PRIMARY KEY, user_key TEXT NOT NULL, account_id TEXT,
		code_hash TEXT NOT NULL, questions TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
		created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, consumed_at INTEGER)`,
	`CREATE TABLE IF NOT EXISTS audit_events (id TEXT PRIMARY KEY, at INTEGER NOT NULL, type TEXT NOT NULL,
		actor TEXT NOT NULL DEFAULT '', subject TEXT NOT NULL DEFAULT '', ip TEXT NOT NULL DEFAULT '',
		request_id TEXT NOT NULL DEFAULT '', details TEXT NOT NULL DEFAULT '')`,
	`CREATE INDEX IF NOT EXISTS audit_events_at ON audit_events(at)`,
	`CREATE TABLE IF NOT EXISTS account_events (account_id TEXT NOT NULL REFERENCES accounts(id), seq INTEGER NOT NULL,
		type TEXT NOT NULL, at INTEGER NOT NULL, data TEXT NOT NULL DEFAULT '', PRIMARY KEY (account_id, seq))`,
	`CREATE INDEX IF NOT EXISTS account_events_at ON account_events(at)`,
	`CREATE TABLE IF NOT EXISTS certificate_renewals (new_id TEXT PRIMARY KEY REFERENCES certificates(id),
		old_id TEXT NOT NULL REFERENCES certificates(id), account_id TEXT NOT NULL REFERENCES accounts(id),
		created_at INTEGER NOT NULL, completed_at INTEGER)`,
	`CREATE INDEX IF NOT EXISTS certificate_renewals_old ON certificate_renewals(old_id)`,
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
	n, err := q.exec(ctx, `UPDATE settings SET value = ? WHERE key = ?`, value, key)
	if err != nil || n > 0 {
		return err
	}
	_, err = q.exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)`, key, value)
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
			{`DELETE FROM used_assertions WHERE used_at < ?`, []any{ms(cutoff)}},
			{`DELETE FROM recoveries WHERE expires_at < ?`, []any{ms(cutoff)}},
			{`DELETE FROM totp_credentials WHERE status = 'pending' AND expires_at < ?`, []any{ms(cutoff)}},
			{`DELETE FROM throttle WHERE updated_at < ? AND (blocked_until IS NULL OR blocked_until < ?)`, []any{ms(cutoff), ms(now)}},
			{`DELETE FROM account_events WHERE at < ?`, []any{ms(cutoff)}},
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
