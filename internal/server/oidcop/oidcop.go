// Package oidcop is magd's OpenID Connect provider: zitadel/oidc's op package over
// magd's store. It serves discovery, the JWKS (keys from keyring, rotated), the authorization
// code flow with PKCE (S256, required of public clients), ID tokens whose acr/amr say how the
// desktop session was authenticated, userinfo, revocation and RP-initiated logout. Who signs in
// is decided by the server: the client's login URL is its page, which calls Complete.
package oidcop

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/mag-desktop/magdesk/internal/server/keyring"
	"github.com/mag-desktop/magdesk/internal/server/store"
)

// Lifetimes.
const (
	authRequestTTL = 10 * time.Minute // from /authorize to the code
	codeTTL        = time.Minute
	accessTokenTTL = 10 * time.Minute
	idTokenTTL     = 10 * time.Minute
	keyRotation    = 30 * 24 * time.Hour
	keyPurpose     = "oidc"
)

// Authentication context classes (REFEDS assurance profiles, also used in SAML).
const (
	ACRSingleFactor = "https://refeds.org/profile/sfa"
	ACRMultiFactor  = "https://refeds.org/profile/mfa"
)

// Config configures a Provider.
type Config struct {
	Issuer    string // https://host:port/oidc
	LoginPath string // the server's login page for an auth request, ?authRequestID= is appended
	Store     *store.Store
	Keys      *keyring.Ring
	CryptoKey [32]byte // encrypts the opaque access tokens
	Now       func() time.Time
	// LoggedOutURL is where RP-initiated logout ends without a registered post_logout_redirect_uri.
	LoggedOutURL string
}

// Provider is the OpenID Provider.
type Provider struct {
	op  *op.Provider
	cfg Config
	st  *storage
}

// New builds the provider.
func New(cfg Config) (*Provider, error) {
	st := &storage{cfg: cfg}
	p, err := op.NewProvider(&op.Config{
		CryptoKey:                cfg.CryptoKey,
		DefaultLogoutRedirectURI: cfg.LoggedOutURL,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		SupportedUILocales:       []language.Tag{language.English},
		SupportedScopes:          []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail},
	}, st, op.StaticIssuer(cfg.Issuer), op.WithCORSOptions(&cors.Options{
		// Browser applications may call the token, userinfo and key endpoints from their own
		// origin, but never with magd's cookies: credentialed cross-origin reads stay off.
		AllowOriginFunc:  func(string) bool { return true },
		AllowedMethods:   []string{http.MethodGet, http.MethodPost},
		AllowedHeaders:   []string{"Authorization", "Content-Type"},
		AllowCredentials: false,
	}))
	if err != nil {
		return nil, err
	}
	return &Provider{op: p, cfg: cfg, st: st}, nil
}

// Handler serves the provider's endpoints relative to the issuer's path (mount it with
// http.StripPrefix of that path).
func (p *Provider) Handler() http.Handler { return p.op }

// Issuer is the issuer URL.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// Pending is what the login page needs to know of an auth request.
type Pending struct {
	ClientID, AppID, LoginHint string
	Prompt                     []string
}

// Pending loads an auth request waiting for its user.
func (p *Provider) Pending(ctx context.Context, id string) (Pending, error) {
	a, err := p.st.load(ctx, id)
	if err != nil {
		return Pending{}, err
	}
	c, err := p.cfg.Store.OIDCClientByID(ctx, a.ClientID)
	if err != nil {
		return Pending{}, err
	}
	return Pending{ClientID: a.ClientID, AppID: c.AppID, LoginHint: a.LoginHint, Prompt: a.Prompt}, nil
}

// Complete records who signed in for auth request id and returns the URL that issues the code.
func (p *Provider) Complete(ctx context.Context, id, subject string, aal int, amr []string, authTime time.Time) (string, error) {
	a, err := p.st.load(ctx, id)
	if err != nil {
		return "", err
	}
	a.Subject, a.AMR, a.AuthTime, a.IsDone = subject, amr, authTime.UTC(), true
	a.ACR = ACRSingleFactor
	if aal >= 2 {
		a.ACR = ACRMultiFactor
	}
	data, _ := json.Marshal(a) // plain struct
	if err := p.cfg.Store.UpdateOIDCAuthRequest(ctx, id, data); err != nil {
		return "", err
	}
	return p.cfg.Issuer + "/authorize/callback?id=" + url.QueryEscape(id), nil
}

// Fail sends the user back to the client with an OAuth error (access_denied and the like), or
// returns false when the request is unknown so that the caller shows a page instead.
func (p *Provider) Fail(w http.ResponseWriter, r *http.Request, id string, e *oidc.Error) bool {
	a, err := p.st.load(r.Context(), id)
	if err != nil {
		return false
	}
	_ = p.cfg.Store.DeleteOIDCAuthRequest(r.Context(), id)
	op.AuthRequestError(w, r, a, e, p.op)
	return true
}

// authRequest is a stored auth request; it implements op.AuthRequest.
type authRequest struct {
	ID                  string            `json:"id"`
	ClientID            string            `json:"client_id"`
	RedirectURI         string            `json:"redirect_uri"`
	State               string            `json:"state"`
	Nonce               string            `json:"nonce"`
	LoginHint           string            `json:"login_hint"`
	Scopes              []string          `json:"scopes"`
	Prompt              []string          `json:"prompt"`
	ResponseType        oidc.ResponseType `json:"response_type"`
	ResponseMode        oidc.ResponseMode `json:"response_mode"`
	CodeChallenge       string            `json:"code_challenge"`
	CodeChallengeMethod string            `json:"code_challenge_method"`
	Subject             string            `json:"sub"`
	ACR                 string            `json:"acr"`
	AMR                 []string          `json:"amr"`
	AuthTime            time.Time         `json:"auth_time"`
	IsDone              bool              `json:"done"`
}

func (a *authRequest) GetID() string                      { return a.ID }
func (a *authRequest) GetACR() string                     { return a.ACR }
func (a *authRequest) GetAMR() []string                   { return a.AMR }
func (a *authRequest) GetAudience() []string              { return []string{a.ClientID} }
func (a *authRequest) GetAuthTime() time.Time             { return a.AuthTime }
func (a *authRequest) GetClientID() string                { return a.ClientID }
func (a *authRequest) GetNonce() string                   { return a.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return a.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.ResponseMode }
func (a *authRequest) GetScopes() []string                { return a.Scopes }
func (a *authRequest) GetState() string                   { return a.State }
func (a *authRequest) GetSubject() string                 { return a.Subject }
func (a *authRequest) Done() bool                         { return a.IsDone }

func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.CodeChallenge == "" {
		return nil
	}
	// The method is passed through so that an unsupported one is refused rather than taken as plain.
	return &oidc.CodeChallenge{Challenge: a.CodeChallenge, Method: oidc.CodeChallengeMethod(a.CodeChallengeMethod)}
}

// token is a stored access token; it carries what userinfo and introspection answer with.
type token struct {
	ID       string    `json:"id"`
	ClientID string    `json:"client_id"`
	Subject  string    `json:"sub"`
	Audience []string  `json:"aud"`
	Scopes   []string  `json:"scopes"`
	Expires  time.Time `json:"exp"`
}

// client adapts a stored OIDC client to op.Client.
type client struct{ c store.OIDCClient }

func (c client) GetID() string                    { return c.c.ClientID }
func (c client) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c client) PostLogoutRedirectURIs() []string { return c.c.PostLogoutRedirectURIs }
func (c client) LoginURL(string) string           { return "" } // replaced by storage.loginURL
func (c client) AccessTokenType() op.AccessTokenType {
	return op.AccessTokenTypeBearer
}
func (c client) IDTokenLifetime() time.Duration { return idTokenTTL }
func (c client) DevMode() bool                  { return false }
func (c client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c client) IsScopeAllowed(string) bool { return false }

// IDTokenUserinfoClaimsAssertion puts name and email into the ID token as well: many stock
// applications read them only from there.
func (c client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c client) ClockSkew() time.Duration             { return 0 }
func (c client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c client) GrantTypes() []oidc.GrantType { return []oidc.GrantType{oidc.GrantTypeCode} }

// ApplicationType: a public client is native (loopback, custom scheme or https redirect URIs).
func (c client) ApplicationType() op.ApplicationType {
	if c.c.Public {
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}

func (c client) AuthMethod() oidc.AuthMethod {
	if c.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

// loginClient is a client whose login URL is the server's page.
type loginClient struct {
	client
	loginPath string
}

func (c loginClient) LoginURL(id string) string {
	return c.loginPath + "?authRequestID=" + url.QueryEscape(id)
}

// SecretHash is how a client secret is stored: secrets are 256-bit random strings, so one
// SHA-256 suffices (no password stretching needed).
func SecretHash(secret string) string {
	sum := sha256.Sum256([]byte("oidc-client-secret:" + secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func codeHash(code string) string {
	sum := sha256.Sum256([]byte("oidc-code:" + code))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// signingKey and publicKey adapt keyring keys to the op interfaces.
type signingKey struct{ k keyring.Key }

func (s signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (s signingKey) Key() any                                    { return s.k.Private }
func (s signingKey) ID() string                                  { return s.k.ID }

type publicKey struct{ k keyring.Key }

func (p publicKey) ID() string                         { return p.k.ID }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return &p.k.Private.PublicKey }

var errNotFound = errors.New("not found")
