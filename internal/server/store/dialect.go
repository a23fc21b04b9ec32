package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is everything that differs between the two engines. Queries and migrations are
// written once, in SQL both accept: `?` placeholders, INTEGER for whole numbers (Unix
// milliseconds too) and BLOB for bytes, INSERT … ON CONFLICT for upserts, 0/1 for booleans in
// INTEGER columns, PostgreSQL's FOR UPDATE SKIP LOCKED for row claims (dropped on SQLite, whose
// one writer at a time claims alone), no date functions.
type dialect struct {
	name string
	// rebind turns the portable query into the engine's own (placeholders).
	rebind func(query string) string
	// ddl turns a portable schema statement into the engine's own (types).
	ddl func(stmt string) string
	// serialExec makes single writes outside a transaction wait for the process's write lock
	// (SQLite: one writer at a time anyway, better queued here than in its busy handler).
	serialExec bool
	// txLock is run first in every write transaction: on PostgreSQL it serialises the write
	// transactions of every instance, as SQLite's one writer does, so that the read-then-write
	// code of the server stays correct with several instances.
	txLock string
	// lockMigrations holds off other instances while conn migrates; the returned function
	// releases it.
	lockMigrations func(ctx context.Context, conn *sql.Conn) (func(), error)
}

// Engine names, as Store.Engine reports them.
const (
	EngineSQLite   = "sqlite"
	EnginePostgres = "postgres"
)

// IsPostgres reports whether a --db value names a PostgreSQL database (a postgres:// URL).
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

var sqliteDialect = &dialect{
	name:       EngineSQLite,
	rebind:     func(q string) string { return strings.ReplaceAll(q, " FOR UPDATE SKIP LOCKED", "") },
	ddl:        func(s string) string { return s },
	serialExec: true,
	// Each migration runs in an IMMEDIATE transaction that re-reads the applied versions:
	// SQLite's write lock is the migration lock.
	lockMigrations: func(context.Context, *sql.Conn) (func(), error) { return func() {}, nil },
}

// Advisory lock keys of magd on PostgreSQL (any two fixed numbers; they only need to differ
// from each other and from other applications sharing the database).
const (
	pgMigrationLock = 0x6d61_6764_0001
	pgWriteLock     = 0x6d61_6764_0002
)

var pgTypes = regexp.MustCompile(`\b(INTEGER|BLOB)\b`)

var postgresDialect = &dialect{
	name:   EnginePostgres,
	rebind: dollarPlaceholders,
	ddl: func(s string) string {
		return pgTypes.ReplaceAllStringFunc(s, func(t string) string {
			if t == "BLOB" {
				return "BYTEA"
			}
			return "BIGINT" // Unix milliseconds do not fit PostgreSQL's 32-bit INTEGER
		})
	},
	txLock: `SELECT pg_advisory_xact_lock(` + strconv.Itoa(pgWriteLock) + `)`,
	lockMigrations: func(ctx context.Context, conn *sql.Conn) (func(), error) {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(pgMigrationLock)); err != nil {
			return nil, err
		}
		return func() {
			_, _ = conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(pgMigrationLock))
		}, nil
	},
}

// dollarPlaceholders numbers the `?` placeholders outside string literals as $1, $2, ….
func dollarPlaceholders(q string) string {
	var b strings.Builder
	n, quoted := 0, false
	for _, r := range q {
		switch {
		case r == '\'':
			quoted = !quoted
		case r == '?' && !quoted:
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// openSQLite opens (creating if needed) the SQLite database at path in WAL mode with foreign
// keys on and a busy timeout. Write transactions start IMMEDIATE so that a writer of another
// process queues on the lock instead of failing on upgrade; writers of this process queue on
// the Store's write lock first.
func openSQLite(path string) (*sql.DB, error) {
	// Created private before SQLite opens it: its -wal and -shm files take the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	v := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		v.Add("_pragma", p)
	}
	v.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+v.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(0)
	if err := enableWAL(db); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// enableWAL switches the file to WAL, which then lasts in the file for every later connection.
// The switch needs the database to itself and SQLite does not wait for that through its busy
// handler, so processes opening a new file together would fail; they retry here instead.
func enableWAL(db *sql.DB) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		var mode string
		err := db.QueryRowContext(ctx, `PRAGMA journal_mode=WAL`).Scan(&mode)
		switch {
		case err == nil && strings.EqualFold(mode, "wal"):
			return nil
		case err == nil:
			return fmt.Errorf("the database stays in journal mode %q instead of WAL (is it on a network file system?)", mode)
		case !isBusy(err):
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("switch to WAL: %w", err)
		case <-time.After(wait):
		}
	}
}

func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// openPostgres connects to a PostgreSQL URL through pgx's database/sql adapter. The pool is
// sized per instance; PostgreSQL's max_connections must cover every instance's pool.
func openPostgres(dsn string) (*sql.DB, error) {
	// pgconn's messages name the URL with its password masked.
	if _, err := pgconn.ParseConfig(dsn); err != nil {
		return nil, fmt.Errorf("%v; give a URL like postgres://magd@db.example.com/magd", err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	db.SetConnMaxIdleTime(5 * time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("cannot reach PostgreSQL (is it running, and does it accept this user?): %w", err)
	}
	return db, nil
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
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %v", ErrConflict, err)
		case "53100": // disk_full
			return fmt.Errorf("%w: %v", ErrFull, err)
		}
	}
	return err
}
