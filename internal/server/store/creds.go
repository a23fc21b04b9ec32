package store

import (
	"context"
	"database/sql"
	"time"
)

// TOTP credential statuses.
const (
	TOTPPending = "pending"
	TOTPActive  = "active"
)

// TOTP is an authenticator registration; the secret is stored encrypted.
type TOTP struct {
	ID, AccountID, Status string
	SecretEnc             []byte
	LastUsedStep          int64
	CreatedAt, ExpiresAt  time.Time
}

// HasTOTP tells whether any TOTP secret (encrypted with the server key) is stored.
func (q Q) HasTOTP(ctx context.Context) (bool, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM totp_credentials`).Scan(&n)
	return n > 0, wrap(err)
}

// CreateTOTP inserts a pending enrolment.
func (q Q) CreateTOTP(ctx context.Context, t TOTP) error {
	_, err := q.exec(ctx, `INSERT INTO totp_credentials (id, account_id, secret_enc, status, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		t.ID, t.AccountID, t.SecretEnc, t.Status, ms(t.CreatedAt), ms(t.ExpiresAt))
	return err
}

const totpCols = `id, account_id, status, secret_enc, last_used_step, created_at, expires_at`

func scanTOTP(sc interface{ Scan(...any) error }) (TOTP, error) {
	var t TOTP
	var c, e sql.NullInt64
	err := sc.Scan(&t.ID, &t.AccountID, &t.Status, &t.SecretEnc, &t.LastUsedStep, &c, &e)
	t.CreatedAt, t.ExpiresAt = tm(c), tm(e)
	return t, wrap(err)
}

// TOTPByID loads an enrolment of an account.
func (q Q) TOTPByID(ctx context.Context, accountID, id string) (TOTP, error) {
	return scanTOTP(q.q.QueryRowContext(ctx, `SELECT `+totpCols+` FROM totp_credentials WHERE id = ? AND account_id = ?`, id, accountID))
}

// ActiveTOTP loads the account's active authenticator; ErrNotFound when it has none.
func (q Q) ActiveTOTP(ctx context.Context, accountID string) (TOTP, error) {
	return scanTOTP(q.q.QueryRowContext(ctx, `SELECT `+totpCols+` FROM totp_credentials WHERE account_id = ? AND status = 'active'
		ORDER BY created_at DESC LIMIT 1`, accountID))
}

// ActivateTOTP makes a pending enrolment active and records the step its first code used.
func (q Q) ActivateTOTP(ctx context.Context, id string, step int64) error {
	n, err := q.exec(ctx, `UPDATE totp_credentials SET status = 'active', last_used_step = ? WHERE id = ? AND status = 'pending'`, step, id)
	if err == nil && n == 0 {
		return ErrNotFound
	}
	return err
}

// UseTOTPStep records a used time step; ErrConflict when that step (or a later one) was used already.
func (q Q) UseTOTPStep(ctx context.Context, id string, step int64) error {
	n, err := q.exec(ctx, `UPDATE totp_credentials SET last_used_step = ? WHERE id = ? AND last_used_step < ?`, step, id, step)
	if err == nil && n == 0 {
		return ErrConflict
	}
	return err
}

// Certificate is an issued client certificate.
type Certificate struct {
	ID, SerialHex, SHA256, Subject, Status, IssuedTo, Label string
	DER                                                     []byte
	NotBefore, NotAfter, CreatedAt                          time.Time
	BoundVia                                                string // for listings: how it is bound to the listed account
	BoundAccounts                                           int
}

// Certificate statuses.
const (
	CertActive  = "active"
	CertRevoked = "revoked"
)

// CreateCertificate inserts a certificate and binds it to the account it was issued to.
func (q Q) CreateCertificate(ctx context.Context, c Certificate) error {
	if _, err := q.exec(ctx, `INSERT INTO certificates (id, serial_hex, sha256, der, subject, not_before, not_after, status, issued_to, label, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, c.SerialHex, c.SHA256, c.DER, c.Subject, ms(c.NotBefore), ms(c.NotAfter),
		c.Status, c.IssuedTo, c.Label, ms(c.CreatedAt)); err != nil {
		return err
	}
	return q.Bind(ctx, c.ID, c.IssuedTo, "issuance", c.CreatedAt)
}

// Bind binds a certificate to an account; ErrConflict when it already is.
func (q Q) Bind(ctx context.Context, certID, accountID, via string, at time.Time) error {
	_, err := q.exec(ctx, `INSERT INTO certificate_bindings (certificate_id, account_id, bound_at, bound_via) VALUES (?, ?, ?, ?)`,
		certID, accountID, ms(at), via)
	return err
}

const certCols = `c.id, c.serial_hex, c.sha256, c.subject, c.status, c.issued_to, c.label, c.der, c.not_before, c.not_after, c.created_at,
	(SELECT COUNT(*) FROM certificate_bindings b2 WHERE b2.certificate_id = c.id)`

func scanCert(sc interface{ Scan(...any) error }, extra ...any) (Certificate, error) {
	var c Certificate
	var nb, na, ca sql.NullInt64
	dst := append([]any{&c.ID, &c.SerialHex, &c.SHA256, &c.Subject, &c.Status, &c.IssuedTo, &c.Label, &c.DER, &nb, &na, &ca, &c.BoundAccounts}, extra...)
	err := sc.Scan(dst...)
	c.NotBefore, c.NotAfter, c.CreatedAt = tm(nb), tm(na), tm(ca)
	return c, wrap(err)
}

// CertificateBySHA256 loads a certificate by the hex SHA-256 of its DER.
func (q Q) CertificateBySHA256(ctx context.Context, sha string) (Certificate, error) {
	return scanCert(q.q.QueryRowContext(ctx, `SELECT `+certCols+` FROM certificates c WHERE c.sha256 = ?`, sha))
}

// BoundAccountIDs lists the accounts a certificate is bound to.
func (q Q) BoundAccountIDs(ctx context.Context, certID string) ([]string, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT account_id FROM certificate_bindings WHERE certificate_id = ? ORDER BY bound_at`, certID)
	return collect(rows, err, func(rows *sql.Rows) (string, error) {
		var id string
		return id, rows.Scan(&id)
	})
}

// AccountCertificates lists the certificates bound to an account, newest first.
func (q Q) AccountCertificates(ctx context.Context, accountID string) ([]Certificate, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+certCols+`, b.bound_via FROM certificate_bindings b JOIN certificates c ON c.id = b.certificate_id
		WHERE b.account_id = ? ORDER BY c.created_at DESC, c.id`, accountID)
	return collect(rows, err, func(rows *sql.Rows) (Certificate, error) {
		var via string
		c, err := scanCert(rows, &via)
		c.BoundVia = via
		return c, err
	})
}

// RevokeCertificate marks a certificate revoked; ErrNotFound when there is no active one with that id.
func (q Q) RevokeCertificate(ctx context.Context, id string) error {
	n, err := q.exec(ctx, `UPDATE certificates SET status = 'revoked' WHERE id = ? AND status = 'active'`, id)
	if err == nil && n == 0 {
		return ErrNotFound
	}
	return err
}

// EndCertificateSessions ends every live session that logged in with a certificate and returns
// how many.
func (q Q) EndCertificateSessions(ctx context.Context, certID string, at time.Time) (int64, error) {
	return q.exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE revoked_at IS NULL
		AND cert_sha256 = (SELECT sha256 FROM certificates WHERE id = ?)`, ms(at), certID)
}

// IssuanceCounts says how many certificates were issued to an account since a time, and how
// many of its certificates are active and unexpired at now.
func (q Q) IssuanceCounts(ctx context.Context, accountID string, since, now time.Time) (recent, active int, err error) {
	err = q.q.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN created_at > ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'active' AND not_after > ? THEN 1 ELSE 0 END), 0)
		FROM certificates WHERE issued_to = ?`, ms(since), ms(now), accountID).Scan(&recent, &active)
	return recent, active, wrap(err)
}
