package store

import (
	"context"
	"database/sql"
	"time"
)

// App is an application with its current terms version.
type App struct {
	ID, Name, Description, LaunchURL, CurrentTermsID string
	RequiredAAL                                      int
	CreatedAt                                        time.Time
}

// TermsVersion is one published service agreement of an application.
type TermsVersion struct {
	ID, AppID, Version, Title, Body, SHA256 string
	PublishedAt                             time.Time
}

// CreateApp inserts an application.
func (q Q) CreateApp(ctx context.Context, a App) error {
	_, err := q.exec(ctx, `INSERT INTO applications (id, name, description, launch_url, required_aal, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		a.ID, a.Name, a.Description, a.LaunchURL, a.RequiredAAL, ms(a.CreatedAt))
	return err
}

// AppByID loads an application.
func (q Q) AppByID(ctx context.Context, id string) (App, error) {
	var a App
	var c sql.NullInt64
	err := q.q.QueryRowContext(ctx, `SELECT id, name, description, launch_url, required_aal, current_terms_id, created_at
		FROM applications WHERE id = ?`, id).Scan(&a.ID, &a.Name, &a.Description, &a.LaunchURL, &a.RequiredAAL, &a.CurrentTermsID, &c)
	a.CreatedAt = tm(c)
	return a, wrap(err)
}

// PublishTerms adds a terms version and makes it the application's current one.
func (q Q) PublishTerms(ctx context.Context, t TermsVersion) error {
	if _, err := q.exec(ctx, `INSERT INTO terms_versions (id, app_id, version, title, body, sha256, published_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.AppID, t.Version, t.Title, t.Body, t.SHA256, ms(t.PublishedAt)); err != nil {
		return err
	}
	_, err := q.exec(ctx, `UPDATE applications SET current_terms_id = ? WHERE id = ?`, t.ID, t.AppID)
	return err
}

// TermsByID loads a terms version.
func (q Q) TermsByID(ctx context.Context, id string) (TermsVersion, error) {
	var t TermsVersion
	var p sql.NullInt64
	err := q.q.QueryRowContext(ctx, `SELECT id, app_id, version, title, body, sha256, published_at FROM terms_versions WHERE id = ?`, id).
		Scan(&t.ID, &t.AppID, &t.Version, &t.Title, &t.Body, &t.SHA256, &p)
	t.PublishedAt = tm(p)
	return t, wrap(err)
}

// CountTermsVersions tells how many versions an application has (for numbering the next).
func (q Q) CountTermsVersions(ctx context.Context, appID string) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM terms_versions WHERE app_id = ?`, appID).Scan(&n)
	return n, wrap(err)
}

// Subscribe subscribes an organisation to an application (idempotent).
func (q Q) Subscribe(ctx context.Context, orgID, appID string, at time.Time) error {
	_, err := q.exec(ctx, `INSERT INTO org_subscriptions (org_id, app_id, subscribed_at) VALUES (?, ?, ?)
		ON CONFLICT (org_id, app_id) DO NOTHING`, orgID, appID, ms(at))
	return err
}

// Acceptance is an organisation's "I Agree" to a terms version.
type Acceptance struct {
	ID, OrgID, AppID, TermsVersionID, AcceptedBy, AcceptedByUserID, BodySHA256 string
	AcceptedAt                                                                 time.Time
}

// AcceptanceFor returns the organisation's acceptance of a terms version, if any.
func (q Q) AcceptanceFor(ctx context.Context, orgID, termsID string) (Acceptance, error) {
	var a Acceptance
	var at sql.NullInt64
	err := q.q.QueryRowContext(ctx, `SELECT t.id, t.org_id, t.app_id, t.terms_version_id, t.accepted_by, a.user_id, t.body_sha256, t.accepted_at
		FROM terms_acceptances t JOIN accounts a ON a.id = t.accepted_by WHERE t.org_id = ? AND t.terms_version_id = ?`, orgID, termsID).
		Scan(&a.ID, &a.OrgID, &a.AppID, &a.TermsVersionID, &a.AcceptedBy, &a.AcceptedByUserID, &a.BodySHA256, &at)
	a.AcceptedAt = tm(at)
	return a, wrap(err)
}

// Accept records an acceptance.
func (q Q) Accept(ctx context.Context, a Acceptance) error {
	_, err := q.exec(ctx, `INSERT INTO terms_acceptances (id, org_id, app_id, terms_version_id, accepted_by, accepted_at, body_sha256)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, a.ID, a.OrgID, a.AppID, a.TermsVersionID, a.AcceptedBy, ms(a.AcceptedAt), a.BodySHA256)
	return err
}

// UserApp is everything that decides one application's status for one user.
type UserApp struct {
	App
	Subscribed    bool
	TermsAccepted bool
	GrantStatus   string // "", active, suspended
	RequestStatus string // status of the newest request: "", pending, approved, denied
	RequestReason string
}

const userAppQuery = `SELECT ap.id, ap.name, ap.description, ap.launch_url, ap.required_aal, ap.current_terms_id,
	ta.id IS NOT NULL, COALESCE(g.status, ''), COALESCE(r.status, ''), COALESCE(r.reason, '')
	FROM org_subscriptions s
	JOIN applications ap ON ap.id = s.app_id
	LEFT JOIN terms_acceptances ta ON ta.org_id = s.org_id AND ta.terms_version_id = ap.current_terms_id
	LEFT JOIN app_grants g ON g.account_id = ? AND g.app_id = ap.id
	LEFT JOIN access_requests r ON r.id = (SELECT r2.id FROM access_requests r2 WHERE r2.account_id = ? AND r2.app_id = ap.id
		ORDER BY r2.created_at DESC, r2.id DESC LIMIT 1)
	WHERE s.org_id = ?`

func scanUserApp(sc interface{ Scan(...any) error }) (UserApp, error) {
	u := UserApp{Subscribed: true}
	err := sc.Scan(&u.ID, &u.Name, &u.Description, &u.LaunchURL, &u.RequiredAAL, &u.CurrentTermsID, &u.TermsAccepted,
		&u.GrantStatus, &u.RequestStatus, &u.RequestReason)
	return u, wrap(err)
}

// UserApps lists the applications of the account's organisation with their status inputs.
func (q Q) UserApps(ctx context.Context, accountID, orgID string) ([]UserApp, error) {
	rows, err := q.q.QueryContext(ctx, userAppQuery+` ORDER BY ap.name, ap.id`, accountID, accountID, orgID)
	return collect(rows, err, func(rows *sql.Rows) (UserApp, error) { return scanUserApp(rows) })
}

// UserApp loads one application for the account; ErrNotFound when the organisation is not subscribed.
func (q Q) UserApp(ctx context.Context, accountID, orgID, appID string) (UserApp, error) {
	return scanUserApp(q.q.QueryRowContext(ctx, userAppQuery+` AND ap.id = ?`, accountID, accountID, orgID, appID))
}

// Request statuses.
const (
	RequestPending  = "pending"
	RequestApproved = "approved"
	RequestDenied   = "denied"
)

// AccessRequest is a user's request for an application.
type AccessRequest struct {
	ID, AccountID, UserID, DisplayName, OrgID, AppID, AppName, Status, Reason, DecidedBy string
	CreatedAt, DecidedAt                                                                 time.Time
}

// CreateAccessRequest inserts a pending request; ErrConflict when one is already pending.
func (q Q) CreateAccessRequest(ctx context.Context, r AccessRequest) error {
	_, err := q.exec(ctx, `INSERT INTO access_requests (id, account_id, app_id, status, created_at) VALUES (?, ?, ?, 'pending', ?)`,
		r.ID, r.AccountID, r.AppID, ms(r.CreatedAt))
	return err
}

const requestQuery = `SELECT r.id, r.account_id, a.user_id, a.first_name || ' ' || a.last_name, a.org_id, r.app_id, ap.name,
	r.status, r.reason, COALESCE(r.decided_by, ''), r.created_at, r.decided_at
	FROM access_requests r JOIN accounts a ON a.id = r.account_id JOIN applications ap ON ap.id = r.app_id`

func scanRequest(sc interface{ Scan(...any) error }) (AccessRequest, error) {
	var r AccessRequest
	var c, d sql.NullInt64
	err := sc.Scan(&r.ID, &r.AccountID, &r.UserID, &r.DisplayName, &r.OrgID, &r.AppID, &r.AppName, &r.Status, &r.Reason, &r.DecidedBy, &c, &d)
	r.CreatedAt, r.DecidedAt = tm(c), tm(d)
	return r, wrap(err)
}

// AccessRequestByID loads a request.
func (q Q) AccessRequestByID(ctx context.Context, id string) (AccessRequest, error) {
	return scanRequest(q.q.QueryRowContext(ctx, requestQuery+` WHERE r.id = ?`, id))
}

// OrgAccessRequests lists an organisation's requests with a status ("" for all), oldest first.
func (q Q) OrgAccessRequests(ctx context.Context, orgID, status string) ([]AccessRequest, error) {
	rows, err := q.q.QueryContext(ctx, requestQuery+` WHERE a.org_id = ? AND (? = '' OR r.status = ?) ORDER BY r.created_at, r.id`,
		orgID, status, status)
	return collect(rows, err, func(rows *sql.Rows) (AccessRequest, error) { return scanRequest(rows) })
}

// DecideAccessRequest closes a pending request; ErrNotFound when it is no longer pending.
func (q Q) DecideAccessRequest(ctx context.Context, id, status, reason, by string, at time.Time) error {
	n, err := q.exec(ctx, `UPDATE access_requests SET status = ?, reason = ?, decided_by = ?, decided_at = ? WHERE id = ? AND status = 'pending'`,
		status, reason, by, ms(at), id)
	if err == nil && n == 0 {
		return ErrNotFound
	}
	return err
}

// Grant gives (or re-activates) access; status is active or suspended.
func (q Q) Grant(ctx context.Context, accountID, appID, status string, at time.Time) error {
	_, err := q.exec(ctx, `INSERT INTO app_grants (account_id, app_id, status, granted_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id, app_id) DO UPDATE SET status = excluded.status, granted_at = excluded.granted_at`,
		accountID, appID, status, ms(at))
	return err
}

// LaunchTicket is a single-use "Open Application" ticket.
type LaunchTicket struct {
	Hash, AccountID, AppID, SessionID string
	AAL                               int
	ExpiresAt                         time.Time
}

// CreateLaunchTicket inserts a ticket.
func (q Q) CreateLaunchTicket(ctx context.Context, t LaunchTicket) error {
	_, err := q.exec(ctx, `INSERT INTO launch_tickets (ticket_hash, account_id, app_id, aal, expires_at, session_id) VALUES (?, ?, ?, ?, ?, ?)`,
		t.Hash, t.AccountID, t.AppID, t.AAL, ms(t.ExpiresAt), t.SessionID)
	return err
}

// ConsumeLaunchTicket uses a ticket once; ErrNotFound when unknown, used or expired.
func (q Q) ConsumeLaunchTicket(ctx context.Context, hash string, now time.Time) (LaunchTicket, error) {
	n, err := q.exec(ctx, `UPDATE launch_tickets SET consumed_at = ? WHERE ticket_hash = ? AND consumed_at IS NULL AND expires_at > ?`,
		ms(now), hash, ms(now))
	if err != nil {
		return LaunchTicket{}, err
	}
	if n == 0 {
		return LaunchTicket{}, ErrNotFound
	}
	var t LaunchTicket
	var e sql.NullInt64
	err = q.q.QueryRowContext(ctx, `SELECT ticket_hash, account_id, app_id, aal, expires_at, session_id FROM launch_tickets WHERE ticket_hash = ?`, hash).
		Scan(&t.Hash, &t.AccountID, &t.AppID, &t.AAL, &e, &t.SessionID)
	t.ExpiresAt = tm(e)
	return t, wrap(err)
}
