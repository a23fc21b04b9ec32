package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// A migration is one step of the schema, for both engines (portable DDL, see dialect). The list
// is the one source of truth of the schema: append a step with the next version to change it;
// never edit or reorder a step that has landed, since databases already carry it. Each step runs
// in one transaction with its version recorded in schema_migrations.
type migration struct {
	version int
	name    string
	stmts   []string
}

var migrations = []migration{
	// IF NOT EXISTS: SQLite databases made before versioned migrations already have these tables.
	{1, "initial schema", []string{
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
	}},
	// IF NOT EXISTS: these two tables, too, came before versioned migrations.
	{2, "account events and certificate renewals", []string{
		`CREATE TABLE IF NOT EXISTS account_events (account_id TEXT NOT NULL REFERENCES accounts(id), seq INTEGER NOT NULL,
			type TEXT NOT NULL, at INTEGER NOT NULL, data TEXT NOT NULL DEFAULT '', PRIMARY KEY (account_id, seq))`,
		`CREATE INDEX IF NOT EXISTS account_events_at ON account_events(at)`,
		`CREATE TABLE IF NOT EXISTS certificate_renewals (new_id TEXT PRIMARY KEY REFERENCES certificates(id),
			old_id TEXT NOT NULL REFERENCES certificates(id), account_id TEXT NOT NULL REFERENCES accounts(id),
			created_at INTEGER NOT NULL, completed_at INTEGER)`,
		`CREATE INDEX IF NOT EXISTS certificate_renewals_old ON certificate_renewals(old_id)`,
	}},
	{3, "federation: OpenID Connect clients, SAML service providers, signing keys, browser sessions", federationSchema},
	{4, "recoveries by user id", []string{
		`CREATE INDEX recoveries_user_key ON recoveries(user_key, created_at)`,
	}},
	{5, "mail outbox", []string{
		`CREATE TABLE mail_outbox (id TEXT PRIMARY KEY, to_addr TEXT NOT NULL, subject TEXT NOT NULL, body_enc BLOB NOT NULL,
			template TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, due_at INTEGER NOT NULL,
			attempts INTEGER NOT NULL DEFAULT 0, sent_at INTEGER, last_error TEXT NOT NULL DEFAULT '')`,
		`CREATE INDEX mail_outbox_due ON mail_outbox(due_at) WHERE sent_at IS NULL`,
	}},
}

// migrate brings the database to the newest version, holding the engine's migration lock so
// that instances starting together apply each step once.
func migrate(ctx context.Context, db *sql.DB, d *dialect) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	unlock, err := d.lockMigrations(ctx, conn)
	if err != nil {
		return fmt.Errorf("take the migration lock: %w", err)
	}
	defer unlock()
	for _, m := range migrations {
		if err := applyMigration(ctx, conn, d, m); err != nil {
			return fmt.Errorf("schema version %d (%s): %w", m.version, m.name, err)
		}
	}
	newest, err := schemaVersion(ctx, conn, d)
	if err != nil {
		return err
	}
	if latest := migrations[len(migrations)-1].version; newest > latest {
		return fmt.Errorf("the database has schema version %d, newer than this magd knows (%d): run the magd release that migrated it, or a newer one", newest, latest)
	}
	return nil
}

// applyMigration applies m unless the database has it; the check is inside m's transaction.
func applyMigration(ctx context.Context, conn *sql.Conn, d *dialect, m migration) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	// Inside the (on SQLite: IMMEDIATE) transaction, so that instances starting together on a
	// new database wait for each other instead of failing.
	if _, err := tx.ExecContext(ctx, d.ddl(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,
		name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, d.rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	for _, stmt := range m.stmts {
		if _, err := tx.ExecContext(ctx, d.ddl(stmt)); err != nil {
			return fmt.Errorf("%w in %.60q", err, stmt)
		}
	}
	if _, err := tx.ExecContext(ctx, d.rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
		m.version, m.name, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

func schemaVersion(ctx context.Context, q querier, d *dialect) (int, error) {
	var v sql.NullInt64
	err := q.QueryRowContext(ctx, d.rebind(`SELECT MAX(version) FROM schema_migrations`)).Scan(&v)
	return int(v.Int64), err
}
