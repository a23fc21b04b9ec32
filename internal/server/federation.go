package server

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/crewjam/saml"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/keyring"
	"github.com/mag-desktop/magdesk/internal/server/oidcop"
	"github.com/mag-desktop/magdesk/internal/server/samlidp"
	"github.com/mag-desktop/magdesk/internal/server/store"
)

// The browser side of "Open Application": a launch link signs the browser into magd as the
// launching account (the magd_browser cookie), replacing whatever account it held, and hands
// over to the application's own login, which comes back to magd's OpenID Connect provider or
// SAML identity provider and finds that browser session. There is no password form in the
// browser: a browser without a session is told to open the application from MAG Desktop.

const (
	browserCookie = "__Host-magd_browser"
	oidcPrefix    = "/oidc"
	oidcLoginPath = oidcPrefix + "/login"
)

// initFederation builds the OpenID provider and the SAML IdP (needs the public URL).
func (s *Server) initFederation(ctx context.Context) error {
	block, err := aes.NewCipher(subKey(s.secret, "signing-key-encryption"))
	if err != nil {
		return err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return err
	}
	s.keys = keyring.New(s.st, aead, s.now)
	var ck [32]byte
	copy(ck[:], subKey(s.secret, "oidc-access-token-encryption"))
	if s.oidc, err = oidcop.New(oidcop.Config{Issuer: s.baseURL + oidcPrefix, LoginPath: oidcLoginPath, Store: s.st, Keys: s.keys,
		CryptoKey: ck, Now: s.now, LoggedOutURL: s.baseURL + oidcPrefix + "/logged-out"}); err != nil {
		return err
	}
	s.saml, err = samlidp.New(ctx, samlidp.Config{BaseURL: s.baseURL, Store: s.st, Keys: s.keys, Sessions: samlSessions{s},
		Logger: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		OnError: func(w http.ResponseWriter, r *http.Request, status int, err error) {
			s.log.Warn("saml request refused", "request_id", requestID(r), "err", err)
			if status < 500 {
				s.page(w, status, "This sign-in request cannot be used",
					"Go back to the application and sign in again, or open it from MAG Desktop.")
				return
			}
			s.page(w, status, "Sign-in failed", "Something went wrong on the server. Open the application again from MAG Desktop.")
		}})
	return err
}

// federationRoutes adds the protocol endpoints to mux.
func (s *Server) federationRoutes(mux *http.ServeMux) {
	provider := http.StripPrefix(oidcPrefix, s.oidc.Handler())
	mux.Handle(oidcPrefix+"/", provider)
	mux.Handle("GET "+oidcLoginPath, http.HandlerFunc(s.handleOIDCLogin))
	mux.Handle(oidcPrefix+"/end_session", s.endBrowserSession(provider))
	mux.Handle("GET "+oidcPrefix+"/logged-out", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.page(w, http.StatusOK, "You are signed out", "You are signed out of the application and of MAG in this browser.",
			"To use the application again, open it from MAG Desktop.")
	}))
	mux.Handle("GET /saml/metadata", http.HandlerFunc(s.saml.ServeMetadata))
	mux.Handle("/saml/sso", http.HandlerFunc(s.saml.ServeSSO))
}

// browserAuth is a browser session with its account.
type browserAuth struct {
	bs   store.BrowserSession
	acct store.Account
}

type browserKey struct{}

// currentBrowser is the request's browser session: the one a launch has just made (in the
// context), else the cookie's. ok is false when there is none or it no longer holds.
func (s *Server) currentBrowser(r *http.Request) (browserAuth, bool, error) {
	if b, ok := r.Context().Value(browserKey{}).(browserAuth); ok {
		return b, true, nil
	}
	c, err := r.Cookie(browserCookie)
	if err != nil || len(c.Value) != 43 {
		return browserAuth{}, false, nil
	}
	ctx := r.Context()
	bs, err := s.st.BrowserSessionByHash(ctx, tokenHash(c.Value), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return browserAuth{}, false, nil
	}
	if err != nil {
		return browserAuth{}, false, err
	}
	// The browser session lasts no longer than the desktop session it came from.
	sess, err := s.st.SessionByID(ctx, bs.SessionID)
	if errors.Is(err, store.ErrNotFound) {
		return browserAuth{}, false, nil
	}
	if err != nil {
		return browserAuth{}, false, err
	}
	if !sess.RevokedAt.IsZero() || !sess.AbsoluteExpiresAt.After(s.now()) {
		return browserAuth{}, false, nil
	}
	acct, err := s.st.AccountByID(ctx, bs.AccountID)
	if err != nil {
		return browserAuth{}, false, err
	}
	return browserAuth{bs: bs, acct: acct}, true, nil
}

// refusal is why a browser may not sign in to an application: a page for the user.
type refusal struct {
	status int
	title  string
	lines  []string
	oauth  *oidc.Error // the same, for a relying party
}

func (f *refusal) Error() string { return f.title }

// authorizeApp applies the application's rules to the browser's account at authorisation time:
// an active account, access granted (terms accepted, grant active) and a session as strong as
// the application requires. A weaker session gets a step-up page, never a weaker token.
func (s *Server) authorizeApp(r *http.Request, appID string) (browserAuth, error) {
	b, ok, err := s.currentBrowser(r)
	if err != nil {
		return b, err
	}
	ctx := r.Context()
	app, err := s.st.AppByID(ctx, appID)
	if err != nil {
		return b, err
	}
	if !ok {
		return b, &refusal{http.StatusUnauthorized, "Not signed in to MAG in this browser",
			[]string{"Open " + app.Name + " from MAG Desktop (Home > Open Application): that signs this browser in as your account."},
			oidc.ErrLoginRequired()}
	}
	if b.acct.Status != store.AccountActive {
		return b, &refusal{http.StatusForbidden, "This account cannot sign in",
			[]string{"The account " + b.acct.UserID + " is not active. Contact your organisation administrator."}, oidc.ErrAccessDenied()}
	}
	u, err := s.st.UserApp(ctx, b.acct.ID, b.acct.OrgID, appID)
	if errors.Is(err, store.ErrNotFound) {
		return b, &refusal{http.StatusForbidden, "Your organisation does not use " + app.Name,
			[]string{"The account " + b.acct.UserID + " has no access to " + app.Name + ". If you have another account, open the application from MAG Desktop with that one."},
			oidc.ErrAccessDenied()}
	}
	if err != nil {
		return b, err
	}
	if st := appStatus(u, b.acct.OrgAdmin); st.Status != api.StatusAccessGranted {
		return b, &refusal{http.StatusForbidden, "You cannot open " + app.Name + " yet", []string{st.StatusText}, oidc.ErrAccessDenied()}
	}
	if b.bs.AAL < u.RequiredAAL {
		return b, &refusal{http.StatusForbidden, app.Name + " needs a login with a second factor",
			[]string{"You are signed in with a password only. In MAG Desktop, log out and log in again with your one-time code or your certificate,",
				"then open " + app.Name + " again from Home."},
			oidc.ErrLoginRequired().WithDescription("The application requires a second factor (acr " + oidcop.ACRMultiFactor + ").")}
	}
	return b, nil
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	var f *refusal
	if errors.As(err, &f) {
		s.page(w, f.status, f.title, f.lines...)
		return
	}
	s.log.Error("federation", "path", logPath(r), "request_id", requestID(r), "err", err)
	s.page(w, http.StatusInternalServerError, "Sign-in failed", "Something went wrong on the server. Open the application again from MAG Desktop.")
}

func amrOf(bs store.BrowserSession) []string { return strings.Fields(bs.AMR) }

// handleOIDCLogin is every OpenID Connect client's login URL: the browser session answers
// the auth request, or the user learns what to do.
func (s *Server) handleOIDCLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.URL.Query().Get("authRequestID")
	p, err := s.oidc.Pending(ctx, id)
	if err != nil {
		s.page(w, http.StatusBadRequest, "This sign-in request has expired",
			"Go back to the application and sign in again, or open it from MAG Desktop.")
		return
	}
	b, err := s.authorizeApp(r, p.AppID)
	var f *refusal
	if errors.As(err, &f) && hasPrompt(p.Prompt, oidc.PromptNone) && s.oidc.Fail(w, r, id, f.oauth) {
		return
	}
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	if p.LoginHint != "" && !strings.EqualFold(p.LoginHint, b.acct.UserID) {
		s.page(w, http.StatusConflict, "Signed in to MAG as another account",
			"This browser is signed in to MAG as "+b.acct.UserID+", but the application asked for "+p.LoginHint+".",
			"Open the application from MAG Desktop with the account you want to use.")
		return
	}
	next, err := s.oidc.Complete(ctx, id, b.acct.UserID, b.bs.AAL, amrOf(b.bs), b.bs.AuthenticatedAt)
	if err == nil {
		err = s.st.Tx(ctx, func(q store.Q) error {
			return s.audit(ctx, q, r, "oidc.authorized", b.acct.UserID, p.AppID, "client="+p.ClientID)
		})
	}
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func hasPrompt(prompts []string, p string) bool {
	for _, x := range prompts {
		if x == p {
			return true
		}
	}
	return false
}

// samlSessions is the IdP's SessionProvider: the browser session, checked against the SP's
// application rules.
type samlSessions struct{ s *Server }

func (p samlSessions) GetSession(w http.ResponseWriter, r *http.Request, req *saml.IdpAuthnRequest) *saml.Session {
	s := p.s
	ctx := r.Context()
	appID, err := s.saml.AppOf(ctx, req.ServiceProviderMetadata.EntityID)
	if err != nil {
		s.refuse(w, r, err)
		return nil
	}
	b, err := s.authorizeApp(r, appID)
	if err != nil {
		s.refuse(w, r, err)
		return nil
	}
	if err := s.st.Tx(ctx, func(q store.Q) error {
		return s.audit(ctx, q, r, "saml.assertion", b.acct.UserID, appID, "sp="+req.ServiceProviderMetadata.EntityID)
	}); err != nil {
		s.refuse(w, r, err)
		return nil
	}
	acr := oidcop.ACRSingleFactor
	if b.bs.AAL >= 2 {
		acr = oidcop.ACRMultiFactor
	}
	return samlidp.Session(samlidp.User{UserID: b.acct.UserID, Email: b.acct.Email, Name: b.acct.DisplayName(),
		GivenName: b.acct.FirstName, Surname: b.acct.LastName, Org: b.acct.OrgName, ACR: acr,
		AuthTime: b.bs.AuthenticatedAt, Expires: b.bs.ExpiresAt, SessionID: b.bs.SessionID})
}

// endBrowserSession ends the magd browser session before RP-initiated logout proceeds.
func (s *Server) endBrowserSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(browserCookie); err == nil {
			if err := s.st.DeleteBrowserSession(r.Context(), tokenHash(c.Value)); err != nil {
				s.refuse(w, r, err)
				return
			}
		}
		http.SetCookie(w, &http.Cookie{Name: browserCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		next.ServeHTTP(w, r)
	})
}

// handleLaunchPage turns a single-use launch ticket into a browser session at magd for the
// launching account (replacing any other) and hands over to the application's login.
func (s *Server) handleLaunchPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ticket := r.PathValue("ticket")
	t, err := store.LaunchTicket{}, store.ErrNotFound
	if len(ticket) == 43 {
		t, err = s.st.ConsumeLaunchTicket(ctx, tokenHash(ticket), s.now())
	}
	if errors.Is(err, store.ErrNotFound) {
		s.page(w, http.StatusGone, "This link has already been used",
			"Each “Open Application” link works once, for one minute.",
			"Go back to MAG Desktop and choose Open Application again.")
		return
	}
	var app store.App
	var acct store.Account
	var sess store.Session
	if err == nil {
		app, err = s.st.AppByID(ctx, t.AppID)
	}
	if err == nil {
		acct, err = s.st.AccountByID(ctx, t.AccountID)
	}
	if err == nil {
		sess, err = s.st.SessionByID(ctx, t.SessionID)
	}
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	now := s.now()
	if !sess.RevokedAt.IsZero() || !sess.AbsoluteExpiresAt.After(now) || acct.Status != store.AccountActive {
		s.page(w, http.StatusForbidden, "Your MAG session has ended", "Log in to MAG Desktop again, then open "+app.Name+" again.")
		return
	}
	// The access may have been suspended or withdrawn since the link was handed out.
	if u, err := s.st.UserApp(ctx, acct.ID, acct.OrgID, app.ID); errors.Is(err, store.ErrNotFound) ||
		err == nil && (appStatus(u, acct.OrgAdmin).Status != api.StatusAccessGranted || sess.AAL < u.RequiredAAL) {
		s.page(w, http.StatusForbidden, "You cannot open "+app.Name+" now",
			"Your access to it was suspended or withdrawn. Open MAG Desktop to see its status.")
		return
	} else if err != nil {
		s.refuse(w, r, err)
		return
	}
	token := randomToken()
	bs := store.BrowserSession{TokenHash: tokenHash(token), AccountID: acct.ID, SessionID: sess.ID, AAL: sess.AAL, AMR: sess.AMR,
		AuthenticatedAt: sess.AuthenticatedAt, CreatedAt: now, ExpiresAt: sess.AbsoluteExpiresAt}
	replaced := ""
	if c, err := r.Cookie(browserCookie); err == nil {
		replaced = tokenHash(c.Value)
	}
	if err := s.st.Tx(ctx, func(q store.Q) error {
		if err := q.CreateBrowserSession(ctx, bs, replaced); err != nil {
			return err
		}
		return s.audit(ctx, q, r, "browser.signed_in", acct.UserID, app.ID, "")
	}); err != nil {
		s.refuse(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: browserCookie, Value: token, Path: "/", Expires: bs.ExpiresAt, Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode})
	r = r.WithContext(context.WithValue(ctx, browserKey{}, browserAuth{bs: bs, acct: acct}))
	base, err := s.publicURL(ctx)
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	target := app.LaunchURL
	if strings.HasPrefix(target, "/") {
		target = base + target
	}
	if sp, err := s.st.SAMLProviderByApp(ctx, app.ID); err == nil {
		s.saml.ServeIDPInitiated(w, r, sp.EntityID, target)
		return
	} else if !errors.Is(err, store.ErrNotFound) {
		s.refuse(w, r, err)
		return
	}
	c, err := s.st.OIDCClientByApp(ctx, app.ID)
	if err == nil && c.InitiateLoginURI != "" {
		// Third-party initiated login (OpenID Connect Core §4): the application starts its own
		// sign-in at magd, which then finds this browser session.
		q := url.Values{"iss": {s.oidc.Issuer()}, "login_hint": {acct.UserID}, "target_link_uri": {target}}
		target = c.InitiateLoginURI + sep(c.InitiateLoginURI) + q.Encode()
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.refuse(w, r, err)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func sep(u string) string {
	if strings.Contains(u, "?") {
		return "&"
	}
	return "?"
}

// OIDCRegistration is an application's OpenID Connect client registration.
type OIDCRegistration struct {
	RedirectURIs, PostLogoutRedirectURIs []string
	InitiateLoginURI                     string
	Public                               bool // no secret; PKCE S256 required
}

// OIDCClientInfo is what `magd admin app add --protocol oidc` prints: the secret only once.
type OIDCClientInfo struct {
	Issuer, ClientID, ClientSecret string
}

// RegisterOIDCClient makes application appID an OpenID Connect client (replacing an earlier
// registration, whose secret stops working). The client id is the application id.
func (s *Server) RegisterOIDCClient(ctx context.Context, appID string, reg OIDCRegistration) (OIDCClientInfo, error) {
	if len(reg.RedirectURIs) == 0 {
		return OIDCClientInfo{}, errors.New("an OpenID Connect application needs at least one --redirect-uri")
	}
	for _, u := range reg.RedirectURIs {
		if err := checkClientURI(u, reg.Public); err != nil {
			return OIDCClientInfo{}, fmt.Errorf("--redirect-uri %s: %w", u, err)
		}
	}
	for _, u := range append(reg.PostLogoutRedirectURIs, reg.InitiateLoginURI) {
		if u != "" {
			if err := checkClientURI(u, false); err != nil {
				return OIDCClientInfo{}, fmt.Errorf("%s: %w", u, err)
			}
		}
	}
	if _, err := s.st.AppByID(ctx, appID); errors.Is(err, store.ErrNotFound) {
		return OIDCClientInfo{}, fmt.Errorf("there is no application %q", appID)
	} else if err != nil {
		return OIDCClientInfo{}, err
	}
	info := OIDCClientInfo{Issuer: s.issuer(ctx), ClientID: appID}
	c := store.OIDCClient{ClientID: appID, AppID: appID, Public: reg.Public, RedirectURIs: reg.RedirectURIs,
		PostLogoutRedirectURIs: reg.PostLogoutRedirectURIs, InitiateLoginURI: reg.InitiateLoginURI, CreatedAt: s.now()}
	if !reg.Public {
		info.ClientSecret = "mcs_" + randomToken()
		c.SecretHash = oidcop.SecretHash(info.ClientSecret)
	}
	return info, s.st.Tx(ctx, func(q store.Q) error {
		if err := q.PutOIDCClient(ctx, c); err != nil {
			return err
		}
		return s.audit(ctx, q, nil, "app.oidc_registered", "admin", appID, "public="+strconv.FormatBool(reg.Public))
	})
}

// issuer is the OpenID Connect issuer (also when opened for administration only).
func (s *Server) issuer(ctx context.Context) string {
	base, _ := s.publicURL(ctx) // a default when unreadable
	return base + oidcPrefix
}

// checkClientURI accepts absolute https URLs without a fragment; http only on a loopback
// address, and a custom scheme only for a public (native) client.
func checkClientURI(raw string, native bool) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Fragment != "" {
		return errors.New("not an absolute URL without a #fragment")
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return errors.New("no host")
		}
		return nil
	case "http":
		if ip := net.ParseIP(u.Hostname()); (ip != nil && ip.IsLoopback()) || u.Hostname() == "localhost" {
			return nil
		}
		return errors.New("http is allowed only on localhost; use https")
	}
	if native {
		return nil
	}
	return errors.New("use an https URL")
}

// RegisterSAMLProvider makes application appID a SAML service provider from its metadata
// and returns the SP's entity id.
func (s *Server) RegisterSAMLProvider(ctx context.Context, appID string, metadata []byte) (string, error) {
	ed, err := samlidp.ParseMetadata(metadata)
	if err != nil {
		return "", fmt.Errorf("the SP metadata cannot be used: %w", err)
	}
	if _, err := s.st.AppByID(ctx, appID); errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("there is no application %q", appID)
	} else if err != nil {
		return "", err
	}
	now := s.now()
	err = s.st.Tx(ctx, func(q store.Q) error {
		if err := q.PutSAMLProvider(ctx, store.SAMLProvider{EntityID: ed.EntityID, AppID: appID, Metadata: string(metadata),
			CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		return s.audit(ctx, q, nil, "app.saml_registered", "admin", appID, "entity_id="+ed.EntityID)
	})
	if errors.Is(err, store.ErrConflict) {
		return "", fmt.Errorf("the SP %s is registered for another application already", ed.EntityID)
	}
	return ed.EntityID, err
}

// SAMLMetadataURL is where an SP reads magd's IdP metadata.
func (s *Server) SAMLMetadataURL(ctx context.Context) string {
	base, _ := s.publicURL(ctx)
	return base + "/saml/metadata"
}
