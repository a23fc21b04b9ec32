package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"
)

// The federation tables: how applications sign their users in through magd (OpenID Connect
// clients, SAML service providers), magd's signing keys, the OpenID Connect authorisation
// requests and tokens in flight, and the browser sessions that launch links create.
// Launch tickets carry the desktop session they came from (its strength and its end bound the
// browser session); the signed assertions of the earlier launch flow are gone.
var federationSchema = []string{
	`ALTER TABLE launch_tickets ADD COLUMN session_id TEXT NOT NULL DEFAULT ''`,
	`DROP TABLE IF EXISTS used_assertions`,
	`CREATE TABLE IF NOT EXISTS oidc_clients (client_id TEXT PRIMARY KEY, app_id TEXT NOT NULL UNIQUE REFERENCES applications(id),
		secret_hash TEXT NOT NULL DEFAULT '', public INTEGER NOT NULL DEFAULT 0, redirect_uris TEXT NOT NULL,
		post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]', initiate_login_uri TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS saml_providers (entity_id TEXT PRIMARY KEY, app_id TEXT NOT NULL UNIQUE REFERENCES applications(id),
		metadata TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS signing_keys (id TEXT PRIMARY KEY, purpose TEXT NOT NULL, private_enc BLOB NOT NULL,
		cert_der BLOB, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS signing_keys_purpose ON signing_keys(purpose, created_at)`,
	`CREATE TABLE IF NOT EXISTS oidc_auth_requests (id TEXT PRIMARY KEY, client_id TEXT NOT NULL, data TEXT NOT NULL,
		code_hash TEXT UNIQUE, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS oidc_tokens (id TEXT PRIMARY KEY, client_id TEXT NOT NULL, subject TEXT NOT NULL,
		refresh_hash TEXT UNIQUE, data TEXT NOT NULL, expires_at INTEGER NOT NULL, refresh_expires_at INTEGER)`,
	`CREATE INDEX IF NOT EXISTS oidc_tokens_subject ON oidc_tokens(subject, client_id)`,
	`CREATE TABLE IF NOT EXISTS browser_sessions (token_hash TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
		session_id TEXT NOT NULL, aal INTEGER NOT NULL, amr TEXT NOT NULL, authenticated_at INTEGER NOT NULL,
		created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)`,
}

// OIDCClient is an application registered as an OpenID Connect relying party.
type OIDCClient struct {
	ClientID, AppID, SecretHash, InitiateLoginURI string
	Public                                        bool
	RedirectURIs, PostLogoutRedirectURIs          []string
	CreatedAt                                     time.Time
}

// CreateOIDCClient inserts a client.
func (q Q) CreateOIDCClient(ctx context.Context, c OIDCClient) error {
	ru, _ := json.Marshal(nonNil(c.RedirectURIs)) // []string always marshals
	pl, _ := json.Marshal(nonNil(c.PostLogoutRedirectURIs))
	_, err := q.exec(ctx, `INSERT INTO oidc_clients (client_id, app_id, secret_hash, public, redirect_uris, post_logout_redirect_uris,
		initiate_login_uri, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ClientID, c.AppID, c.SecretHash, boolInt(c.Public), string(ru), string(pl), c.InitiateLoginURI, ms(c.CreatedAt))
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const oidcClientQuery = `SELECT client_id, app_id, secret_hash, public, redirect_uris, post_logout_redirect_uris, initiate_login_uri,
	created_at FROM oidc_clients`

func scanOIDCClient(sc interface{ Scan(...any) error }) (OIDCClient, error) {
	var c OIDCClient
	var ru, pl string
	var public int
	var at sql.NullInt64
	if err := sc.Scan(&c.ClientID, &c.AppID, &c.SecretHash, &public, &ru, &pl, &c.InitiateLoginURI, &at); err != nil {
		return c, wrap(err)
	}
	c.Public, c.CreatedAt = public != 0, tm(at)
	if err := json.Unmarshal([]byte(ru), &c.RedirectURIs); err != nil {
		return c, err
	}
	return c, json.Unmarshal([]byte(pl), &c.PostLogoutRedirectURIs)
}

// OIDCClientByID loads a client by its client id.
func (q Q) OIDCClientByID(ctx context.Context, clientID string) (OIDCClient, error) {
	return scanOIDCClient(q.q.QueryRowContext(ctx, oidcClientQuery+` WHERE client_id = ?`, clientID))
}

// OIDCClientByApp loads the client of an application.
func (q Q) OIDCClientByApp(ctx context.Context, appID string) (OIDCClient, error) {
	return scanOIDCClient(q.q.QueryRowContext(ctx, oidcClientQuery+` WHERE app_id = ?`, appID))
}

// PutOIDCClient inserts a client or replaces the application's one (the demo clients are
// registered again at each start, with the address magd listens on then).
func (q Q) PutOIDCClient(ctx context.Context, c OIDCClient) error {
	if _, err := q.exec(ctx, `DELETE FROM oidc_clients WHERE app_id = ? OR client_id = ?`, c.AppID, c.ClientID); err != nil {
		return err
	}
	return q.CreateOIDCClient(ctx, c)
}

// SAMLProvider is an application registered as a SAML 2.0 service provider.
type SAMLProvider struct {
	EntityID, AppID, Metadata string
	CreatedAt, UpdatedAt      time.Time
}

// PutSAMLProvider inserts a service provider or replaces the metadata of the application's one.
func (q Q) PutSAMLProvider(ctx context.Context, p SAMLProvider) error {
	n, err := q.exec(ctx, `UPDATE saml_providers SET entity_id = ?, metadata = ?, updated_at = ? WHERE app_id = ?`,
		p.EntityID, p.Metadata, ms(p.UpdatedAt), p.AppID)
	if err != nil || n > 0 {
		return err
	}
	_, err = q.exec(ctx, `INSERT INTO saml_providers (entity_id, app_id, metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		p.EntityID, p.AppID, p.Metadata, ms(p.CreatedAt), ms(p.UpdatedAt))
	return err
}

const samlQuery = `SELECT entity_id, app_id, metadata, created_at, updated_at FROM saml_providers`

func scanSAML(sc interface{ Scan(...any) error }) (SAMLProvider, error) {
	var p SAMLProvider
	var c, u sql.NullInt64
	err := sc.Scan(&p.EntityID, &p.AppID, &p.Metadata, &c, &u)
	p.CreatedAt, p.UpdatedAt = tm(c), tm(u)
	return p, wrap(err)
}

// SAMLProviderByEntityID loads a service provider.
func (q Q) SAMLProviderByEntityID(ctx context.Context, entityID string) (SAMLProvider, error) {
	return scanSAML(q.q.QueryRowContext(ctx, samlQuery+` WHERE entity_id = ?`, entityID))
}

// SAMLProviderByApp loads the service provider of an application.
func (q Q) SAMLProviderByApp(ctx context.Context, appID string) (SAMLProvider, error) {
	return scanSAML(q.q.QueryRowContext(ctx, samlQuery+` WHERE app_id = ?`, appID))
}

// SigningKey is one of magd's private keys, encrypted by the server.
type SigningKey struct {
	ID, Purpose          string
	PrivateEnc, CertDER  []byte
	CreatedAt, ExpiresAt time.Time
}

// CreateSigningKey inserts a key.
func (q Q) CreateSigningKey(ctx context.Context, k SigningKey) error {
	_, err := q.exec(ctx, `INSERT INTO signing_keys (id, purpose, private_enc, cert_der, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.Purpose, k.PrivateEnc, k.CertDER, ms(k.CreatedAt), ms(k.ExpiresAt))
	return err
}

// SigningKeys lists the keys of a purpose that have not expired at now, newest first.
func (q Q) SigningKeys(ctx context.Context, purpose string, now time.Time) ([]SigningKey, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT id, purpose, private_enc, cert_der, created_at, expires_at FROM signing_keys
		WHERE purpose = ? AND expires_at > ? ORDER BY created_at DESC, id`, purpose, ms(now))
	return collect(rows, err, func(rows *sql.Rows) (SigningKey, error) {
		var k SigningKey
		var c, e sql.NullInt64
		err := rows.Scan(&k.ID, &k.Purpose, &k.PrivateEnc, &k.CertDER, &c, &e)
		k.CreatedAt, k.ExpiresAt = tm(c), tm(e)
		return k, err
	})
}

// OIDCAuthRequest is an authorisation request in flight, kept as the provider's JSON.
type OIDCAuthRequest struct {
	ID, ClientID string
	Data         []byte
	ExpiresAt    time.Time
}

// CreateOIDCAuthRequest inserts a request.
func (q Q) CreateOIDCAuthRequest(ctx context.Context, a OIDCAuthRequest, now time.Time) error {
	_, err := q.exec(ctx, `INSERT INTO oidc_auth_requests (id, client_id, data, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		a.ID, a.ClientID, string(a.Data), ms(now), ms(a.ExpiresAt))
	return err
}

// UpdateOIDCAuthRequest replaces a request's data.
func (q Q) UpdateOIDCAuthRequest(ctx context.Context, id string, data []byte) error {
	n, err := q.exec(ctx, `UPDATE oidc_auth_requests SET data = ? WHERE id = ?`, string(data), id)
	if err == nil && n == 0 {
		return ErrNotFound
	}
	return err
}

// OIDCAuthRequestByID loads a request that has not expired at now.
func (q Q) OIDCAuthRequestByID(ctx context.Context, id string, now time.Time) (OIDCAuthRequest, error) {
	return scanAuthRequest(q.q.QueryRowContext(ctx, `SELECT id, client_id, data, expires_at FROM oidc_auth_requests
		WHERE id = ? AND expires_at > ?`, id, ms(now)))
}

// OIDCAuthRequestByCode loads the request an authorisation code was issued for, unexpired at now.
func (q Q) OIDCAuthRequestByCode(ctx context.Context, codeHash string, now time.Time) (OIDCAuthRequest, error) {
	return scanAuthRequest(q.q.QueryRowContext(ctx, `SELECT id, client_id, data, expires_at FROM oidc_auth_requests
		WHERE code_hash = ? AND expires_at > ?`, codeHash, ms(now)))
}

func scanAuthRequest(sc interface{ Scan(...any) error }) (OIDCAuthRequest, error) {
	var a OIDCAuthRequest
	var data string
	var e sql.NullInt64
	err := sc.Scan(&a.ID, &a.ClientID, &data, &e)
	a.Data, a.ExpiresAt = []byte(data), tm(e)
	return a, wrap(err)
}

// SaveOIDCCode attaches an authorisation code (its hash) to a request and shortens its life to the code's.
func (q Q) SaveOIDCCode(ctx context.Context, id, codeHash string, expires time.Time) error {
	n, err := q.exec(ctx, `UPDATE oidc_auth_requests SET code_hash = ?, expires_at = ? WHERE id = ? AND code_hash IS NULL`,
		codeHash, ms(expires), id)
	if err == nil && n == 0 {
		return ErrNotFound
	}
	return err
}

// ConsumeOIDCAuthRequest removes a request as its code is redeemed; ErrNotFound when it is gone
// already. The single DELETE is what makes concurrent redemptions of one code yield one winner.
func (q Q) ConsumeOIDCAuthRequest(ctx context.Context, id string) error {
	n, err := q.exec(ctx, `DELETE FROM oidc_auth_requests WHERE id = ?`, id)
	if err == nil && n == 0 {
		return ErrNotFound
	}
	return err
}

// DeleteOIDCAuthRequest removes a request (its code can no longer be redeemed).
func (q Q) DeleteOIDCAuthRequest(ctx context.Context, id string) error {
	_, err := q.exec(ctx, `DELETE FROM oidc_auth_requests WHERE id = ?`, id)
	return err
}

// OIDCToken is an access token (and its refresh token, if any) as the provider's JSON.
type OIDCToken struct {
	ID, ClientID, Subject, RefreshHash string
	Data                               []byte
	ExpiresAt, RefreshExpiresAt        time.Time
}

// CreateOIDCToken inserts a token.
func (q Q) CreateOIDCToken(ctx context.Context, t OIDCToken) error {
	var rh any
	if t.RefreshHash != "" {
		rh = t.RefreshHash
	}
	_, err := q.exec(ctx, `INSERT INTO oidc_tokens (id, client_id, subject, refresh_hash, data, expires_at, refresh_expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, t.ID, t.ClientID, t.Subject, rh, string(t.Data), ms(t.ExpiresAt), ms(t.RefreshExpiresAt))
	return err
}

const tokenQuery = `SELECT id, client_id, subject, COALESCE(refresh_hash, ''), data, expires_at, refresh_expires_at FROM oidc_tokens`

func scanToken(sc interface{ Scan(...any) error }) (OIDCToken, error) {
	var t OIDCToken
	var data string
	var e, re sql.NullInt64
	err := sc.Scan(&t.ID, &t.ClientID, &t.Subject, &t.RefreshHash, &data, &e, &re)
	t.Data, t.ExpiresAt, t.RefreshExpiresAt = []byte(data), tm(e), tm(re)
	return t, wrap(err)
}

// OIDCTokenByID loads a token by its id.
func (q Q) OIDCTokenByID(ctx context.Context, id string) (OIDCToken, error) {
	return scanToken(q.q.QueryRowContext(ctx, tokenQuery+` WHERE id = ?`, id))
}

// OIDCTokenByRefresh loads a token by its refresh token's hash.
func (q Q) OIDCTokenByRefresh(ctx context.Context, refreshHash string) (OIDCToken, error) {
	return scanToken(q.q.QueryRowContext(ctx, tokenQuery+` WHERE refresh_hash = ?`, refreshHash))
}

// DeleteOIDCToken removes a token.
func (q Q) DeleteOIDCToken(ctx context.Context, id string) error {
	_, err := q.exec(ctx, `DELETE FROM oidc_tokens WHERE id = ?`, id)
	return err
}

// DeleteOIDCTokensOf removes every token of a subject at a client (logout).
func (q Q) DeleteOIDCTokensOf(ctx context.Context, subject, clientID string) error {
	_, err := q.exec(ctx, `DELETE FROM oidc_tokens WHERE subject = ? AND client_id = ?`, subject, clientID)
	return err
}

// BrowserSession is a browser's sign-in at magd, made by opening a launch link.
type BrowserSession struct {
	TokenHash, AccountID, SessionID, AMR  string
	AAL                                   int
	AuthenticatedAt, CreatedAt, ExpiresAt time.Time
}

// CreateBrowserSession inserts a browser session and, in the same statement batch, ends the
// one the browser held before (replaced may be "").
func (q Q) CreateBrowserSession(ctx context.Context, b BrowserSession, replaced string) error {
	if replaced != "" {
		if _, err := q.exec(ctx, `DELETE FROM browser_sessions WHERE token_hash = ?`, replaced); err != nil {
			return err
		}
	}
	_, err := q.exec(ctx, `INSERT INTO browser_sessions (token_hash, account_id, session_id, aal, amr, authenticated_at, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, b.TokenHash, b.AccountID, b.SessionID, b.AAL, b.AMR, ms(b.AuthenticatedAt), ms(b.CreatedAt), ms(b.ExpiresAt))
	return err
}

// BrowserSessionByHash loads a browser session unexpired at now.
func (q Q) BrowserSessionByHash(ctx context.Context, hash string, now time.Time) (BrowserSession, error) {
	var b BrowserSession
	var a, c, e sql.NullInt64
	err := q.q.QueryRowContext(ctx, `SELECT token_hash, account_id, session_id, aal, amr, authenticated_at, created_at, expires_at
		FROM browser_sessions WHERE token_hash = ? AND expires_at > ?`, hash, ms(now)).
		Scan(&b.TokenHash, &b.AccountID, &b.SessionID, &b.AAL, &b.AMR, &a, &c, &e)
	b.AuthenticatedAt, b.CreatedAt, b.ExpiresAt = tm(a), tm(c), tm(e)
	return b, wrap(err)
}

// DeleteBrowserSession ends a browser session.
func (q Q) DeleteBrowserSession(ctx context.Context, hash string) error {
	_, err := q.exec(ctx, `DELETE FROM browser_sessions WHERE token_hash = ?`, hash)
	return err
}

// SessionByID loads a desktop session (any state; the caller checks revocation and expiry).
func (q Q) SessionByID(ctx context.Context, id string) (Session, error) {
	var s Session
	var a, l, i, ab, rv sql.NullInt64
	err := q.q.QueryRowContext(ctx, `SELECT id, account_id, aal, amr, authenticated_at, last_seen_at, idle_expires_at,
		absolute_expires_at, revoked_at FROM sessions WHERE id = ?`, id).
		Scan(&s.ID, &s.AccountID, &s.AAL, &s.AMR, &a, &l, &i, &ab, &rv)
	s.AuthenticatedAt, s.LastSeenAt, s.IdleExpiresAt, s.AbsoluteExpiresAt, s.RevokedAt = tm(a), tm(l), tm(i), tm(ab), tm(rv)
	return s, wrap(err)
}
