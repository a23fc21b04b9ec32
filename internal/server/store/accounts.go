package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// Org is an organisation.
type Org struct {
	ID, Name  string
	CreatedAt time.Time
}

// CreateOrg inserts an organisation.
func (q Q) CreateOrg(ctx context.Context, o Org) error {
	_, err := q.exec(ctx, `INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)`, o.ID, o.Name, ms(o.CreatedAt))
	return err
}

// CountOrgs tells how many organisations exist (0 for a fresh data folder).
func (q Q) CountOrgs(ctx context.Context) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM orgs`).Scan(&n)
	return n, wrap(err)
}

// Orgs lists every organisation by name.
func (q Q) Orgs(ctx context.Context) ([]Org, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT id, name, created_at FROM orgs ORDER BY name, id`)
	return collect(rows, err, func(rows *sql.Rows) (Org, error) {
		var o Org
		var at sql.NullInt64
		err := rows.Scan(&o.ID, &o.Name, &at)
		o.CreatedAt = tm(at)
		return o, err
	})
}

// OrgAccounts lists the accounts of an organisation by user id.
func (q Q) OrgAccounts(ctx context.Context, orgID string) ([]Account, error) {
	return q.accounts(ctx, `a.org_id = ? ORDER BY a.user_id`, orgID)
}

// OrgByID loads an organisation.
func (q Q) OrgByID(ctx context.Context, id string) (Org, error) {
	var o Org
	var at sql.NullInt64
	err := q.q.QueryRowContext(ctx, `SELECT id, name, created_at FROM orgs WHERE id = ?`, id).Scan(&o.ID, &o.Name, &at)
	o.CreatedAt = tm(at)
	return o, wrap(err)
}

// Account statuses.
const (
	AccountPending  = "pending"
	AccountActive   = "active"
	AccountDisabled = "disabled"
)

// Account is a user account with its organisation's name.
type Account struct {
	ID, UserID, OrgID, OrgName, Email, FirstName, LastName string
	OrgAdmin                                               bool
	Status, PasswordPHC                                    string
	FirstLoginAt, CreatedAt                                time.Time
}

// DisplayName is "First Last".
func (a Account) DisplayName() string { return strings.TrimSpace(a.FirstName + " " + a.LastName) }

// CreateAccount inserts an account. UserID must already be normalised (lower case).
func (q Q) CreateAccount(ctx context.Context, a Account) error {
	_, err := q.exec(ctx, `INSERT INTO accounts (id, user_id, org_id, email, first_name, last_name, org_admin, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, a.UserID, a.OrgID, a.Email, a.FirstName, a.LastName, a.OrgAdmin, a.Status, ms(a.CreatedAt))
	return err
}

const accountCols = `a.id, a.user_id, a.org_id, o.name, a.email, a.first_name, a.last_name, a.org_admin, a.status,
	COALESCE(a.password_phc, ''), a.first_login_at, a.created_at`

func scanAccount(sc interface{ Scan(...any) error }, a *Account) error {
	var first, created sql.NullInt64
	err := sc.Scan(&a.ID, &a.UserID, &a.OrgID, &a.OrgName, &a.Email, &a.FirstName, &a.LastName, &a.OrgAdmin, &a.Status,
		&a.PasswordPHC, &first, &created)
	a.FirstLoginAt, a.CreatedAt = tm(first), tm(created)
	return err
}

// AccountByID loads an account by its internal id.
func (q Q) AccountByID(ctx context.Context, id string) (Account, error) {
	var a Account
	err := scanAccount(q.q.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts a JOIN orgs o ON o.id = a.org_id WHERE a.id = ?`, id), &a)
	return a, wrap(err)
}

// AccountByUserID loads an account by its (normalised) login id.
func (q Q) AccountByUserID(ctx context.Context, userID string) (Account, error) {
	var a Account
	err := scanAccount(q.q.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts a JOIN orgs o ON o.id = a.org_id WHERE a.user_id = ?`, userID), &a)
	return a, wrap(err)
}

// AccountsByEmail lists the accounts registered to an address (case-insensitive).
func (q Q) AccountsByEmail(ctx context.Context, email string) ([]Account, error) {
	return q.accounts(ctx, `LOWER(a.email) = LOWER(?) ORDER BY a.created_at, a.user_id`, email)
}

// OrgAdmins lists the active org admins of an organisation.
func (q Q) OrgAdmins(ctx context.Context, orgID string) ([]Account, error) {
	return q.accounts(ctx, `a.org_id = ? AND a.org_admin = 1 AND a.status = 'active' ORDER BY a.user_id`, orgID)
}

func (q Q) accounts(ctx context.Context, where string, args ...any) ([]Account, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+accountCols+` FROM accounts a JOIN orgs o ON o.id = a.org_id WHERE `+where, args...)
	return collect(rows, err, func(rows *sql.Rows) (Account, error) {
		var a Account
		return a, scanAccount(rows, &a)
	})
}

// Activate sets the first password of a pending account and makes it active.
func (q Q) Activate(ctx context.Context, accountID, phc string) error {
	n, err := q.exec(ctx, `UPDATE accounts SET password_phc = ?, status = 'active' WHERE id = ? AND status = 'pending'`, phc, accountID)
	if err == nil && n == 0 {
		return ErrNotFound
	}
	return err
}

// SetPassword replaces the password of an account.
func (q Q) SetPassword(ctx context.Context, accountID, phc string) error {
	_, err := q.exec(ctx, `UPDATE accounts SET password_phc = ? WHERE id = ?`, phc, accountID)
	return err
}

// MarkFirstLogin records the first successful login; it reports whether this call set it.
func (q Q) MarkFirstLogin(ctx context.Context, accountID string, at time.Time) (bool, error) {
	n, err := q.exec(ctx, `UPDATE accounts SET first_login_at = ? WHERE id = ? AND first_login_at IS NULL`, ms(at), accountID)
	return n == 1, err
}

// ActivationToken is a stored (hashed) activation token.
type ActivationToken struct {
	Hash, AccountID                              string
	CreatedAt, ExpiresAt, ConsumedAt, Superseded time.Time
}

// IssueActivationToken stores a new token for the account and supersedes every earlier one.
func (q Q) IssueActivationToken(ctx context.Context, t ActivationToken) error {
	if _, err := q.exec(ctx, `UPDATE activation_tokens SET superseded_at = ? WHERE account_id = ? AND consumed_at IS NULL AND superseded_at IS NULL`,
		ms(t.CreatedAt), t.AccountID); err != nil {
		return err
	}
	_, err := q.exec(ctx, `INSERT INTO activation_tokens (token_hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		t.Hash, t.AccountID, ms(t.CreatedAt), ms(t.ExpiresAt))
	return err
}

// ActivationTokenByHash loads a token.
func (q Q) ActivationTokenByHash(ctx context.Context, hash string) (ActivationToken, error) {
	var t ActivationToken
	var c, e, u, s sql.NullInt64
	err := q.q.QueryRowContext(ctx, `SELECT token_hash, account_id, created_at, expires_at, consumed_at, superseded_at
		FROM activation_tokens WHERE token_hash = ?`, hash).Scan(&t.Hash, &t.AccountID, &c, &e, &u, &s)
	t.CreatedAt, t.ExpiresAt, t.ConsumedAt, t.Superseded = tm(c), tm(e), tm(u), tm(s)
	return t, wrap(err)
}

// ConsumeActivationToken marks a token used if it is still usable at now; ErrNotFound otherwise.
func (q Q) ConsumeActivationToken(ctx context.Context, hash string, now time.Time) error {
	n, err := q.exec(ctx, `UPDATE activation_tokens SET consumed_at = ? WHERE token_hash = ? AND consumed_at IS NULL
		AND superseded_at IS NULL AND expires_at > ?`, ms(now), hash, ms(now))
	if err == nil && n == 0 {
		return ErrNotFound
	}
	return err
}

// SaveSecurityAnswer stores one hashed answer (replacing an earlier one for the same question).
func (q Q) SaveSecurityAnswer(ctx context.Context, accountID, questionID, phc string, at time.Time) error {
	_, err := q.exec(ctx, `INSERT INTO security_answers (account_id, question_id, answer_phc, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id, question_id) DO UPDATE SET answer_phc = excluded.answer_phc, created_at = excluded.created_at`,
		accountID, questionID, phc, ms(at))
	return err
}

// SecurityAnswers maps question id to answer hash for an account.
func (q Q) SecurityAnswers(ctx context.Context, accountID string) (map[string]string, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT question_id, answer_phc FROM security_answers WHERE account_id = ?`, accountID)
	pairs, err := collect(rows, err, func(rows *sql.Rows) ([2]string, error) {
		var p [2]string
		return p, rows.Scan(&p[0], &p[1])
	})
	out := map[string]string{}
	for _, p := range pairs {
		out[p[0]] = p[1]
	}
	return out, err
}

// Session is a login session; the token itself is never stored, only its hash.
type Session struct {
	ID, TokenHash, AccountID, AMR, CertSHA256, ClientName, ClientVersion, IP string
	AAL                                                                      int
	AuthenticatedAt, LastSeenAt, IdleExpiresAt, AbsoluteExpiresAt, RevokedAt time.Time
}

// CreateSession inserts a session.
func (q Q) CreateSession(ctx context.Context, s Session) error {
	_, err := q.exec(ctx, `INSERT INTO sessions (id, token_hash, account_id, aal, amr, cert_sha256, authenticated_at, last_seen_at,
		idle_expires_at, absolute_expires_at, client_name, client_version, ip) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.TokenHash, s.AccountID, s.AAL, s.AMR, s.CertSHA256, ms(s.AuthenticatedAt), ms(s.LastSeenAt),
		ms(s.IdleExpiresAt), ms(s.AbsoluteExpiresAt), s.ClientName, s.ClientVersion, s.IP)
	return err
}

// SessionByTokenHash loads a session with its account in one query.
func (q Q) SessionByTokenHash(ctx context.Context, hash string) (Session, Account, error) {
	var s Session
	var a Account
	var au, ls, ie, ae, rv, first, created sql.NullInt64
	err := q.q.QueryRowContext(ctx, `SELECT s.id, s.token_hash, s.account_id, s.aal, s.amr, s.cert_sha256, s.authenticated_at,
		s.last_seen_at, s.idle_expires_at, s.absolute_expires_at, s.revoked_at,
		a.id, a.user_id, a.org_id, o.name, a.email, a.first_name, a.last_name, a.org_admin, a.status,
		COALESCE(a.password_phc, ''), a.first_login_at, a.created_at
		FROM sessions s JOIN accounts a ON a.id = s.account_id JOIN orgs o ON o.id = a.org_id WHERE s.token_hash = ?`, hash).Scan(
		&s.ID, &s.TokenHash, &s.AccountID, &s.AAL, &s.AMR, &s.CertSHA256, &au, &ls, &ie, &ae, &rv,
		&a.ID, &a.UserID, &a.OrgID, &a.OrgName, &a.Email, &a.FirstName, &a.LastName, &a.OrgAdmin, &a.Status,
		&a.PasswordPHC, &first, &created)
	s.AuthenticatedAt, s.LastSeenAt, s.IdleExpiresAt, s.AbsoluteExpiresAt, s.RevokedAt = tm(au), tm(ls), tm(ie), tm(ae), tm(rv)
	a.FirstLoginAt, a.CreatedAt = tm(first), tm(created)
	return s, a, wrap(err)
}

// TouchSession moves the idle expiry of a live session.
func (q Q) TouchSession(ctx context.Context, id string, now, idleExpires time.Time) error {
	_, err := q.exec(ctx, `UPDATE sessions SET last_seen_at = ?, idle_expires_at = ? WHERE id = ? AND revoked_at IS NULL`,
		ms(now), ms(idleExpires), id)
	return err
}

// RevokeSession ends one session.
func (q Q) RevokeSession(ctx context.Context, id string, at time.Time) error {
	_, err := q.exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, ms(at), id)
	return err
}

// RevokeAccountSessions ends every session of an account and returns how many.
func (q Q) RevokeAccountSessions(ctx context.Context, accountID string, at time.Time) (int64, error) {
	return q.exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL`, ms(at), accountID)
}

// MFATicket is the pending second step of a login.
type MFATicket struct {
	Hash, AccountID, AMR string
	ExpiresAt, Consumed  time.Time
	Attempts             int
}

// CreateMFATicket inserts a ticket.
func (q Q) CreateMFATicket(ctx context.Context, t MFATicket) error {
	_, err := q.exec(ctx, `INSERT INTO mfa_tickets (ticket_hash, account_id, amr, expires_at) VALUES (?, ?, ?, ?)`,
		t.Hash, t.AccountID, t.AMR, ms(t.ExpiresAt))
	return err
}

// MFATicketByHash loads a ticket and counts this attempt on it.
func (q Q) MFATicketByHash(ctx context.Context, hash string) (MFATicket, error) {
	if _, err := q.exec(ctx, `UPDATE mfa_tickets SET attempts = attempts + 1 WHERE ticket_hash = ?`, hash); err != nil {
		return MFATicket{}, err
	}
	var t MFATicket
	var e, c sql.NullInt64
	err := q.q.QueryRowContext(ctx, `SELECT ticket_hash, account_id, amr, expires_at, consumed_at, attempts FROM mfa_tickets
		WHERE ticket_hash = ?`, hash).Scan(&t.Hash, &t.AccountID, &t.AMR, &e, &c, &t.Attempts)
	t.ExpiresAt, t.Consumed = tm(e), tm(c)
	return t, wrap(err)
}

// ConsumeMFATicket marks a ticket used; ErrNotFound when it already was.
func (q Q) ConsumeMFATicket(ctx context.Context, hash string, at time.Time) error {
	n, err := q.exec(ctx, `UPDATE mfa_tickets SET consumed_at = ? WHERE ticket_hash = ? AND consumed_at IS NULL`, ms(at), hash)
	if err == nil && n == 0 {
		return ErrNotFound
	}
	return err
}

// Throttle is the failure counter of one key (a normalised user id, a TOTP credential, ...).
type Throttle struct {
	Failures                int
	BlockedUntil, UpdatedAt time.Time
}

// GetThrottle reads a counter (zero when absent).
func (q Q) GetThrottle(ctx context.Context, key string) (Throttle, error) {
	var t Throttle
	var b, u sql.NullInt64
	err := q.q.QueryRowContext(ctx, `SELECT failures, blocked_until, updated_at FROM throttle WHERE key = ?`, key).Scan(&t.Failures, &b, &u)
	t.BlockedUntil, t.UpdatedAt = tm(b), tm(u)
	if err == sql.ErrNoRows {
		return Throttle{}, nil
	}
	return t, wrap(err)
}

// PutThrottle writes a counter.
func (q Q) PutThrottle(ctx context.Context, key string, t Throttle, now time.Time) error {
	_, err := q.exec(ctx, `INSERT INTO throttle (key, failures, blocked_until, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, blocked_until = excluded.blocked_until,
		updated_at = excluded.updated_at`, key, t.Failures, ms(t.BlockedUntil), ms(now))
	return err
}

// ClearThrottle forgets a counter.
func (q Q) ClearThrottle(ctx context.Context, key string) error {
	_, err := q.exec(ctx, `DELETE FROM throttle WHERE key = ?`, key)
	return err
}

// Recovery is a forgotten-password recovery in progress. AccountID is empty for the decoy
// recoveries of unknown user ids, which can never complete.
type Recovery struct {
	ID, UserKey, AccountID, CodeHash, Questions string
	Attempts                                    int
	CreatedAt, ExpiresAt, ConsumedAt            time.Time
}

// CreateRecovery inserts a recovery and ends every earlier live one of the same user key: one
// live recovery per user id.
func (q Q) CreateRecovery(ctx context.Context, r Recovery) error {
	if _, err := q.exec(ctx, `UPDATE recoveries SET consumed_at = ? WHERE user_key = ? AND consumed_at IS NULL`,
		ms(r.CreatedAt), r.UserKey); err != nil {
		return err
	}
	var acct any
	if r.AccountID != "" {
		acct = r.AccountID
	}
	_, err := q.exec(ctx, `INSERT INTO recoveries (id, user_key, account_id, code_hash, questions, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, r.ID, r.UserKey, acct, r.CodeHash, r.Questions, ms(r.CreatedAt), ms(r.ExpiresAt))
	return err
}

// RecoveriesSince counts the recoveries started for a user key since a time.
func (q Q) RecoveriesSince(ctx context.Context, userKey string, since time.Time) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM recoveries WHERE user_key = ? AND created_at > ?`, userKey, ms(since)).Scan(&n)
	return n, wrap(err)
}

// RecoveryByID loads a recovery and counts this attempt on it, in one statement, so that
// each of several attempts at once sees its own count (apart, the increments of all of them
// could land before any read, and every attempt would see the total).
func (s *Store) RecoveryByID(ctx context.Context, id string) (Recovery, error) {
	var r Recovery
	err := s.queryWrite(ctx, func(q querier) error {
		var c, e, u sql.NullInt64
		err := q.QueryRowContext(ctx, `UPDATE recoveries SET attempts = attempts + 1 WHERE id = ?
			RETURNING id, user_key, COALESCE(account_id, ''), code_hash, questions, attempts, created_at, expires_at, consumed_at`,
			id).Scan(&r.ID, &r.UserKey, &r.AccountID, &r.CodeHash, &r.Questions, &r.Attempts, &c, &e, &u)
		r.CreatedAt, r.ExpiresAt, r.ConsumedAt = tm(c), tm(e), tm(u)
		return err
	})
	return r, wrap(err)
}

// ConsumeRecovery marks a recovery used; ErrNotFound when it already was.
func (q Q) ConsumeRecovery(ctx context.Context, id string, at time.Time) error {
	n, err := q.exec(ctx, `UPDATE recoveries SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL`, ms(at), id)
	if err == nil && n == 0 {
		return ErrNotFound
	}
	return err
}
