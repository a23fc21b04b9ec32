package store

import (
	"context"
	"database/sql"
	"time"
)

// AccountEvent is one entry of an account's events feed. Seq numbers the account's events
// from 1 without gaps; Data is the event's JSON body.
type AccountEvent struct {
	AccountID, Type, Data string
	Seq                   int64
	At                    time.Time
}

// nextSeq is the next position of an account's feed. Numbering per account keeps writers of
// different accounts apart; two writers of one account collide on the primary key
// (ErrConflict) rather than both taking a number.
const nextSeq = `(SELECT COALESCE(MAX(e.seq), 0) + 1 FROM account_events e WHERE e.account_id = `

// AddEvent appends an event to an account's feed.
func (q Q) AddEvent(ctx context.Context, accountID, typ string, at time.Time, data string) error {
	_, err := q.exec(ctx, `INSERT INTO account_events (account_id, seq, type, at, data) SELECT ?, `+nextSeq+`?), ?, ?, ?`,
		accountID, accountID, typ, ms(at), data)
	return err
}

// AddOrgEvent appends an event to the feed of every active account of an organisation.
func (q Q) AddOrgEvent(ctx context.Context, orgID, typ string, at time.Time, data string) error {
	_, err := q.exec(ctx, `INSERT INTO account_events (account_id, seq, type, at, data)
		SELECT a.id, `+nextSeq+`a.id), ?, ?, ? FROM accounts a WHERE a.org_id = ? AND a.status = 'active'`,
		typ, ms(at), data, orgID)
	return err
}

// EventsAfter lists at most limit events of an account after position after, oldest first.
func (q Q) EventsAfter(ctx context.Context, accountID string, after int64, limit int) ([]AccountEvent, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT account_id, seq, type, at, data FROM account_events
		WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?`, accountID, after, limit)
	return collect(rows, err, func(rows *sql.Rows) (AccountEvent, error) {
		var e AccountEvent
		var at sql.NullInt64
		err := rows.Scan(&e.AccountID, &e.Seq, &e.Type, &at, &e.Data)
		e.At = tm(at)
		return e, err
	})
}

// LastEventSeq is the position of an account's newest event (0 when it has none).
func (q Q) LastEventSeq(ctx context.Context, accountID string) (int64, error) {
	var n int64
	err := q.q.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM account_events WHERE account_id = ?`, accountID).Scan(&n)
	return n, wrap(err)
}

// Renewal links a renewed certificate to the one it replaces until the new one is first used.
type Renewal struct {
	NewID, OldID, AccountID string
	CreatedAt, CompletedAt  time.Time
}

// CreateRenewal records that newID renews oldID.
func (q Q) CreateRenewal(ctx context.Context, r Renewal) error {
	_, err := q.exec(ctx, `INSERT INTO certificate_renewals (new_id, old_id, account_id, created_at) VALUES (?, ?, ?, ?)`,
		r.NewID, r.OldID, r.AccountID, ms(r.CreatedAt))
	return err
}

// RenewalOf is the renewal that issued certificate newID; ErrNotFound when it was not a renewal.
func (q Q) RenewalOf(ctx context.Context, newID string) (Renewal, error) {
	var r Renewal
	var c, d sql.NullInt64
	err := q.q.QueryRowContext(ctx, `SELECT new_id, old_id, account_id, created_at, completed_at FROM certificate_renewals WHERE new_id = ?`,
		newID).Scan(&r.NewID, &r.OldID, &r.AccountID, &c, &d)
	r.CreatedAt, r.CompletedAt = tm(c), tm(d)
	return r, wrap(err)
}

// PendingRenewals are the renewals of an account not yet completed, by the new certificate's id.
func (q Q) PendingRenewals(ctx context.Context, accountID string) (map[string]string, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT new_id, old_id FROM certificate_renewals WHERE account_id = ? AND completed_at IS NULL`, accountID)
	pairs, err := collect(rows, err, func(rows *sql.Rows) ([2]string, error) {
		var p [2]string
		return p, rows.Scan(&p[0], &p[1])
	})
	out := make(map[string]string, len(pairs))
	for _, p := range pairs {
		out[p[0]] = p[1]
	}
	return out, err
}

// DropPendingRenewals unlinks the renewals of oldID not yet completed and returns the new
// certificates they had issued.
func (q Q) DropPendingRenewals(ctx context.Context, oldID string) ([]Certificate, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+certCols+` FROM certificates c JOIN certificate_renewals r ON r.new_id = c.id
		WHERE r.old_id = ? AND r.completed_at IS NULL ORDER BY r.created_at`, oldID)
	certs, err := collect(rows, err, func(rows *sql.Rows) (Certificate, error) { return scanCert(rows) })
	if err != nil || len(certs) == 0 {
		return certs, err
	}
	_, err = q.exec(ctx, `DELETE FROM certificate_renewals WHERE old_id = ? AND completed_at IS NULL`, oldID)
	return certs, err
}

// CompleteRenewal marks a renewal done; ErrNotFound when it already was.
func (q Q) CompleteRenewal(ctx context.Context, newID string, at time.Time) error {
	n, err := q.exec(ctx, `UPDATE certificate_renewals SET completed_at = ? WHERE new_id = ? AND completed_at IS NULL`, ms(at), newID)
	if err == nil && n == 0 {
		return ErrNotFound
	}
	return err
}

// CertificatesEnteringWindow lists the active certificates whose renewal window (window before
// not_after) opened in (from, to].
func (q Q) CertificatesEnteringWindow(ctx context.Context, from, to time.Time, window time.Duration) ([]Certificate, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+certCols+` FROM certificates c WHERE c.status = 'active'
		AND c.not_after > ? AND c.not_after <= ? ORDER BY c.not_after, c.id`, ms(from.Add(window)), ms(to.Add(window)))
	return collect(rows, err, func(rows *sql.Rows) (Certificate, error) { return scanCert(rows) })
}
