// Package demorp holds the demo applications `magd --demo` serves: real relying parties of
// magd, as a stock application would be. The OpenID Connect one is written with coreos/go-oidc
// and golang.org/x/oauth2 (confidential client, PKCE S256, nonce, third-party initiated login);
// the SAML one with crewjam/saml's samlsp (IdP-initiated and SP-initiated SSO, replay cache).
// Each page shows the claims it received, so a person or a test can see who signed in.
package demorp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	"golang.org/x/oauth2"
)

// Prefix is where the demo applications live on magd.
const Prefix = "/demoapps/"

// OIDCApp is a demo OpenID Connect client.
type OIDCApp struct{ ID, Name, Secret string }

// SAMLApp is a demo SAML service provider.
type SAMLApp struct {
	ID, Name string
	Key      *rsa.PrivateKey
	Cert     *x509.Certificate
}

// Config configures the demo applications.
type Config struct {
	BaseURL, Issuer string
	HTTPClient      *http.Client // reaches magd (trusts its CA)
	IDPMetadata     *saml.EntityDescriptor
	OIDC            []OIDCApp
	SAML            []SAMLApp
}

// RedirectURI and InitiateLoginURI are the OIDC client's registered addresses.
func RedirectURI(base, id string) string      { return base + Prefix + id + "/callback" }
func InitiateLoginURI(base, id string) string { return base + Prefix + id + "/login" }

// Home is an application's start page.
func Home(base, id string) string { return base + Prefix + id + "/" }

// Apps serves every demo application.
type Apps struct {
	mux *http.ServeMux
}

// New builds the applications. OIDC discovery happens at the first sign-in (magd is not
// serving yet when this runs).
func New(cfg Config) (*Apps, error) {
	a := &Apps{mux: http.NewServeMux()}
	for _, o := range cfg.OIDC {
		rp := &oidcRP{cfg: cfg, app: o, flows: map[string]flow{}, sessions: map[string]claims{}}
		a.mux.HandleFunc("GET "+Prefix+o.ID+"/{$}", rp.home)
		a.mux.HandleFunc("GET "+Prefix+o.ID+"/login", rp.login)
		a.mux.HandleFunc("GET "+Prefix+o.ID+"/callback", rp.callback)
	}
	for _, s := range cfg.SAML {
		h, err := newSAMLSP(cfg, s)
		if err != nil {
			return nil, err
		}
		a.mux.Handle(Prefix+s.ID+"/", h)
	}
	return a, nil
}

func (a *Apps) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// SPMetadata is the SAML app's metadata, as registered at magd.
func SPMetadata(base string, s SAMLApp) (entityID string, xml []byte, err error) {
	m, err := samlMiddleware(Config{BaseURL: base}, s)
	if err != nil {
		return "", nil, err
	}
	md := m.ServiceProvider.Metadata()
	b, err := marshalXML(md)
	return md.EntityID, b, err
}

type claims struct {
	rows    [][2]string
	expires time.Time
}

// pageStyle is the only inline code of the pages, allowed by its hash.
const pageStyle = `body{font-family:sans-serif;max-width:44em;margin:3em auto;line-height:1.5}th{text-align:left;padding-right:1em}`

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title><style>` + pageStyle + `</style></head>
<body><h1>{{.Title}}</h1><p id="status">{{.Status}}</p>
{{if .Rows}}<table id="claims">{{range .Rows}}<tr><th>{{index . 0}}</th><td data-claim="{{index . 0}}">{{index . 1}}</td></tr>{{end}}</table>{{end}}
</body></html>`))

var pagePolicy = func() string {
	sum := sha256.Sum256([]byte(pageStyle))
	return "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; style-src 'sha256-" +
		base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

func page(w http.ResponseWriter, status int, title, text string, rows [][2]string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pagePolicy)
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, struct {
		Title, Status string
		Rows          [][2]string
	}{title, text, rows})
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// oidcRP is one OpenID Connect relying party. Its sessions and flows live in memory: a demo.
type oidcRP struct {
	cfg Config
	app OIDCApp

	once     sync.Once
	provider *oidc.Provider
	initErr  error

	mu       sync.Mutex
	flows    map[string]flow // by state
	sessions map[string]claims
}

type flow struct {
	nonce, verifier string
	expires         time.Time
}

func (rp *oidcRP) cookie() string { return "demo_" + rp.app.ID }

func (rp *oidcRP) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, rp.cfg.HTTPClient)
}

func (rp *oidcRP) discover(ctx context.Context) (*oidc.Provider, error) {
	rp.once.Do(func() { rp.provider, rp.initErr = oidc.NewProvider(rp.ctx(ctx), rp.cfg.Issuer) })
	if rp.initErr != nil {
		rp.once = sync.Once{} // try again at the next sign-in
	}
	return rp.provider, rp.initErr
}

func (rp *oidcRP) oauth(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: rp.app.ID, ClientSecret: rp.app.Secret, Endpoint: p.Endpoint(),
		RedirectURL: RedirectURI(rp.cfg.BaseURL, rp.app.ID), Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
}

func (rp *oidcRP) home(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(rp.cookie()); err == nil {
		rp.mu.Lock()
		s, ok := rp.sessions[c.Value]
		rp.mu.Unlock()
		if ok && time.Now().Before(s.expires) {
			page(w, http.StatusOK, rp.app.Name, "Signed in through OpenID Connect.", s.rows)
			return
		}
	}
	page(w, http.StatusUnauthorized, rp.app.Name, "Not signed in. Open this application from MAG Desktop (Home > Open Application).", nil)
}

// login is the initiate_login_uri: magd sends the browser here with iss and login_hint. The
// application's own session is dropped first, so that a launch as another account replaces it.
func (rp *oidcRP) login(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if iss := q.Get("iss"); iss != "" && iss != rp.cfg.Issuer {
		page(w, http.StatusBadRequest, rp.app.Name, "This sign-in comes from an issuer the application does not trust.", nil)
		return
	}
	p, err := rp.discover(r.Context())
	if err != nil {
		page(w, http.StatusBadGateway, rp.app.Name, "The application could not reach MAG: "+err.Error(), nil)
		return
	}
	rp.endSession(w, r)
	state, f := random(), flow{nonce: random(), verifier: oauth2.GenerateVerifier(), expires: time.Now().Add(10 * time.Minute)}
	rp.mu.Lock()
	for k, v := range rp.flows {
		if time.Now().After(v.expires) {
			delete(rp.flows, k)
		}
	}
	rp.flows[state] = f
	rp.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: rp.cookie() + "_state", Value: state, Path: Prefix + rp.app.ID + "/", MaxAge: 600,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	opts := []oauth2.AuthCodeOption{oidc.Nonce(f.nonce), oauth2.S256ChallengeOption(f.verifier)}
	if hint := q.Get("login_hint"); hint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", hint))
	}
	http.Redirect(w, r, rp.oauth(p).AuthCodeURL(state, opts...), http.StatusSeeOther)
}

func (rp *oidcRP) endSession(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(rp.cookie()); err == nil {
		rp.mu.Lock()
		delete(rp.sessions, c.Value)
		rp.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: rp.cookie(), Value: "", Path: Prefix + rp.app.ID + "/", MaxAge: -1, Secure: true, HttpOnly: true})
}

// callback redeems the code (with the PKCE verifier), verifies the ID token with go-oidc and
// reads userinfo.
func (rp *oidcRP) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		page(w, http.StatusForbidden, rp.app.Name, "MAG refused the sign-in: "+e+" "+q.Get("error_description"), nil)
		return
	}
	c, err := r.Cookie(rp.cookie() + "_state")
	state := q.Get("state")
	rp.mu.Lock()
	f, ok := rp.flows[state]
	delete(rp.flows, state)
	rp.mu.Unlock()
	if err != nil || c.Value != state || !ok || time.Now().After(f.expires) {
		page(w, http.StatusBadRequest, rp.app.Name, "This sign-in was not started here or has expired. Open the application from MAG Desktop again.", nil)
		return
	}
	ctx := rp.ctx(r.Context())
	p, err := rp.discover(ctx)
	if err != nil {
		page(w, http.StatusBadGateway, rp.app.Name, "The application could not reach MAG: "+err.Error(), nil)
		return
	}
	conf := rp.oauth(p)
	tok, err := conf.Exchange(context.WithValue(ctx, oauth2.HTTPClient, rp.cfg.HTTPClient), q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		page(w, http.StatusBadGateway, rp.app.Name, "The sign-in code was refused: "+err.Error(), nil)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: rp.app.ID}).Verify(ctx, raw)
	if err == nil && idt.Nonce != f.nonce {
		err = errors.New("nonce mismatch")
	}
	if err != nil {
		page(w, http.StatusBadGateway, rp.app.Name, "The ID token is not valid: "+err.Error(), nil)
		return
	}
	var all map[string]any
	if err := idt.Claims(&all); err != nil {
		page(w, http.StatusBadGateway, rp.app.Name, "The ID token cannot be read: "+err.Error(), nil)
		return
	}
	ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		page(w, http.StatusBadGateway, rp.app.Name, "Userinfo failed: "+err.Error(), nil)
		return
	}
	var info map[string]any
	if err := ui.Claims(&info); err != nil {
		page(w, http.StatusBadGateway, rp.app.Name, "Userinfo cannot be read: "+err.Error(), nil)
		return
	}
	rows := claimRows(all)
	for _, k := range []string{"org", "email"} {
		if v, ok := info[k]; ok {
			rows = append(rows, [2]string{"userinfo." + k, toString(v)})
		}
	}
	rp.endSession(w, r)
	sid := random()
	rp.mu.Lock()
	rp.sessions[sid] = claims{rows: rows, expires: idt.Expiry.Add(time.Hour)}
	rp.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: rp.cookie(), Value: sid, Path: Prefix + rp.app.ID + "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, Home(rp.cfg.BaseURL, rp.app.ID), http.StatusSeeOther)
}

// claimRows lists the claims a person wants to see, in a fixed order.
func claimRows(m map[string]any) [][2]string {
	order := []string{"sub", "name", "email", "org", "acr", "amr", "auth_time", "iss", "aud"}
	var rows [][2]string
	for _, k := range order {
		if v, ok := m[k]; ok {
			rows = append(rows, [2]string{k, toString(v)})
		}
	}
	return rows
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, toString(e))
		}
		return strings.Join(parts, " ")
	case float64:
		return time.Unix(int64(x), 0).UTC().Format(time.RFC3339)
	}
	return ""
}

// samlMiddleware is the samlsp service provider of a SAML app.
func samlMiddleware(cfg Config, s SAMLApp) (*samlsp.Middleware, error) {
	root, err := url.Parse(Home(cfg.BaseURL, s.ID))
	if err != nil {
		return nil, err
	}
	return samlsp.New(samlsp.Options{URL: *root, Key: s.Key, Certificate: s.Cert, IDPMetadata: cfg.IDPMetadata,
		AllowIDPInitiated: true, DefaultRedirectURI: Prefix + s.ID + "/", HTTPClient: cfg.HTTPClient,
		ReplayCache: samlsp.NewMemoryReplayCache(10000), CookieSameSite: http.SameSiteLaxMode})
}

func newSAMLSP(cfg Config, s SAMLApp) (http.Handler, error) {
	m, err := samlMiddleware(cfg, s)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(Prefix+s.ID+"/saml/", m)
	mux.Handle("GET "+Prefix+s.ID+"/{$}", m.RequireAccount(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, ok := samlsp.SessionFromContext(r.Context()).(samlsp.SessionWithAttributes)
		if !ok {
			page(w, http.StatusInternalServerError, s.Name, "The SAML session has no attributes.", nil)
			return
		}
		attrs := sess.GetAttributes()
		rows := [][2]string{}
		if jc, ok := sess.(samlsp.JWTSessionClaims); ok {
			rows = append(rows, [2]string{"NameID", jc.Subject})
		}
		keys := make([]string, 0, len(attrs))
		for k := range attrs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			rows = append(rows, [2]string{k, strings.Join(attrs[k], " ")})
		}
		page(w, http.StatusOK, s.Name, "Signed in through SAML 2.0.", rows)
	})))
	return mux, nil
}

func marshalXML(v any) ([]byte, error) { return xml.MarshalIndent(v, "", "  ") }
