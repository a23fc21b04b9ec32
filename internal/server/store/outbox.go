package store

import (
	"context"
	"database/sql"
	"time"
)

// OutboxMail is one email of the outbox table: every email is stored there first, so that it
// outlives the instance that wrote it and is handed to the mail transport exactly once. The
// body is stored encrypted by the server (it may carry an activation link or a code).
type OutboxMail struct {
	ID, To, Subject, Template string
	BodyEnc                   []byte
	Date                      time.Time
	Attempts                  int
}

// EnqueueMail stores an email, due at due. (Leases and retries run on the wall clock of the
// senders; m.Date is the email's own date.)
func (q Q) EnqueueMail(ctx context.Context, m OutboxMail, due time.Time) error {
	_, err := q.exec(ctx, `INSERT INTO mail_outbox (id, to_addr, subject, body_enc, template, created_at, due_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.To, m.Subject, m.BodyEnc, m.Template, ms(m.Date), ms(due))
	return err
}

// ClaimMail takes up to n unsent emails that are due at now (only the one with that id, if id
// is not "") and leases them to the caller until now+lease; a sender that dies lets its lease run
// out and another takes the email over. Claimers skip rows another is claiming (SKIP LOCKED on
// PostgreSQL; SQLite has one writer anyway), so each email goes to one sender.
func (s *Store) ClaimMail(ctx context.Context, id string, n int, now time.Time, lease time.Duration) ([]OutboxMail, error) {
	var out []OutboxMail
	err := s.queryWrite(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, `UPDATE mail_outbox SET due_at = ?, attempts = attempts + 1 WHERE id IN (
			SELECT id FROM mail_outbox WHERE sent_at IS NULL AND due_at <= ? AND (? = '' OR id = ?)
			ORDER BY due_at, id LIMIT ? FOR UPDATE SKIP LOCKED)
			RETURNING id, to_addr, subject, body_enc, template, created_at, attempts`, ms(now.Add(lease)), ms(now), id, id, n)
		out, err = collect(rows, err, func(rows *sql.Rows) (OutboxMail, error) {
			var m OutboxMail
			var c sql.NullInt64
			err := rows.Scan(&m.ID, &m.To, &m.Subject, &m.BodyEnc, &m.Template, &c, &m.Attempts)
			m.Date = tm(c)
			return m, err
		})
		return err
	})
	return out, err
}

// MailSent records that the transport took an email.
func (q Q) MailSent(ctx context.Context, id string, at time.Time) error {
	_, err := q.exec(ctx, `UPDATE mail_outbox SET sent_at = ?, last_error = '' WHERE id = ?`, ms(at), id)
	return err
}

// MailFailed puts an email back, due again at retryAt.
func (q Q) MailFailed(ctx context.Context, id string, retryAt time.Time, reason string) error {
	_, err := q.exec(ctx, `UPDATE mail_outbox SET due_at = ?, last_error = ? WHERE id = ? AND sent_at IS NULL`, ms(retryAt), reason, id)
	return err
}

// PendingMail counts the emails not yet handed to the transport.
func (q Q) PendingMail(ctx context.Context) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL`).Scan(&n)
	return n, wrap(err)
}
