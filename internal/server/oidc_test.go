package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

const rpCallback = "https://rp.example/callback"

// fedEnv is a demo magd with test relying parties registered on demo applications, and a
// browser (cookie jar) signed in at magd as the demo user through a launch link.
type fedEnv struct {
	env     *servertest.Env
	clock   *servertest.Clock
	demo    *server.DemoInfo
	issuer  string
	browser *http.Client
	http    *http.Client      // the relying parties' back channel
	secret  map[string]string // client secrets
	userTok string
}

func newFedEnv(t *testing.T) *fedEnv {
	t.Helper()
	clock := servertest.NewClock()
	env := servertest.Start(t, servertest.WithDemo(), servertest.WithNow(clock.Now))
	f := &fedEnv{env: env, clock: clock, demo: env.Server.Demo(), issuer: env.URL + "/oidc", secret: map[string]string{},
		http: env.Client(t, nil)}
	ctx := context.Background()
	for _, app := range []string{"supplychain", "finance"} {
		info, err := env.Server.RegisterOIDCClient(ctx, app, server.OIDCRegistration{RedirectURIs: []string{rpCallback}})
		if err != nil {
			t.Fatal(err)
		}
		f.secret[app] = info.ClientSecret
	}
	l, p := env.Login(t, env.Client(t, nil), f.demo.UserUserID, f.demo.UserPassword)
	if p != nil {
		t.Fatal(p)
	}
	f.userTok = l.SessionToken
	admin, p := env.Login(t, env.Client(t, nil), f.demo.AdminUserID, f.demo.AdminPassword)
	if p != nil {
		t.Fatal(p)
	}
	grantAccess(t, env, f.demo.OrgID, admin.SessionToken, f.userTok, "supplychain")
	f.browser = browserClient(t, env)
	magd, _ := url.Parse(env.URL)
	f.browser.CheckRedirect = func(r *http.Request, _ []*http.Request) error {
		if r.URL.Host != magd.Host {
			return http.ErrUseLastResponse // the relying parties are not running: read the redirect
		}
		return nil
	}
	fetch(t, f.browser, launchLink(t, env, f.userTok, "supplychain"))
	return f
}

// ctx carries the HTTP client that trusts magd's CA, for go-oidc and oauth2.
func (f *fedEnv) ctx() context.Context {
	return context.WithValue(oidc.ClientContext(context.Background(), f.http), oauth2.HTTPClient, f.http)
}

func (f *fedEnv) oauth(t *testing.T, app string) *oauth2.Config {
	t.Helper()
	p, err := oidc.NewProvider(f.ctx(), f.issuer)
	if err != nil {
		t.Fatal(err)
	}
	return &oauth2.Config{ClientID: app, ClientSecret: f.secret[app], Endpoint: p.Endpoint(), RedirectURL: rpCallback,
		Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
}

// authorize runs the front channel in the browser and returns where magd sent it at the end.
func (f *fedEnv) authorize(t *testing.T, authURL string) *url.URL {
	t.Helper()
	resp, err := f.browser.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("authorize ended at %s with %d, no redirect to the relying party", resp.Request.URL, resp.StatusCode)
	}
	return loc
}

// code gets an authorization code for app with PKCE (S256) and returns it with its verifier.
func (f *fedEnv) code(t *testing.T, app, nonce string) (code, verifier string) {
	t.Helper()
	verifier = oauth2.GenerateVerifier()
	loc := f.authorize(t, f.oauth(t, app).AuthCodeURL("st", oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
	if loc.Query().Get("state") != "st" || loc.Query().Get("code") == "" {
		t.Fatalf("no code in %s", loc)
	}
	return loc.Query().Get("code"), verifier
}

func oauthError(err error) string {
	if re, ok := err.(*oauth2.RetrieveError); ok {
		return re.ErrorCode
	}
	return "not an OAuth error: " + err.Error()
}

// TestOIDCCodeFlow: a code flow with PKCE and nonce; the ID token is verified by go-oidc and
// carries the account, its acr/amr and the profile; userinfo agrees.
func TestOIDCCodeFlow(t *testing.T) {
	f := newFedEnv(t)
	code, verifier := f.code(t, "supplychain", "n-1")
	conf := f.oauth(t, "supplychain")
	tok, err := conf.Exchange(f.ctx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := oidc.NewProvider(f.ctx(), f.issuer)
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: "supplychain"}).Verify(f.ctx(), raw)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Sub, Name, Email, Nonce, ACR string
		AMR                          []string
		AuthTime                     int64 `json:"auth_time"`
	}
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if c.Sub != f.demo.UserUserID || c.Nonce != "n-1" || c.ACR != "https://refeds.org/profile/sfa" || !slices.Equal(c.AMR, []string{"pwd"}) ||
		c.Name != "Dana Pilot" || c.Email != "dana.pilot@demo-aerospace.example" || c.AuthTime == 0 {
		t.Fatalf("ID token claims: %+v", c)
	}
	ui, err := p.UserInfo(f.ctx(), oauth2.StaticTokenSource(tok))
	var extra struct{ Org string }
	if err != nil || ui.Subject != f.demo.UserUserID || ui.Claims(&extra) != nil || extra.Org != f.demo.OrgName {
		t.Fatalf("userinfo: %+v %+v %v", ui, extra, err)
	}
}

// TestOIDCStepUp: an application that needs AAL2 gets no token from a password-only session:
// a page says to log in with a second factor (or login_required with prompt=none); after a
// certificate login and a new launch the token says mfa.
func TestOIDCStepUp(t *testing.T) {
	f := newFedEnv(t)
	ctx := context.Background()
	if err := f.env.Server.AddApp(ctx, server.NewApp{ID: "vault", Name: "Vault", URL: "https://vault.example/", Terms: "Vault terms.",
		RequiredAAL: 2}); err != nil {
		t.Fatal(err)
	}
	if err := f.env.Server.Subscribe(ctx, f.demo.OrgID, "vault"); err != nil {
		t.Fatal(err)
	}
	info, err := f.env.Server.RegisterOIDCClient(ctx, "vault", server.OIDCRegistration{RedirectURIs: []string{rpCallback}})
	if err != nil {
		t.Fatal(err)
	}
	f.secret["vault"] = info.ClientSecret
	admin, p := f.env.Login(t, f.env.Client(t, nil), f.demo.AdminUserID, f.demo.AdminPassword)
	if p != nil {
		t.Fatal(p)
	}
	var terms api.Terms
	c := f.env.Client(t, nil)
	if st, p := f.env.Do(t, c, "GET", path(api.PathTerms, "org", f.demo.OrgID, "app", "vault"), admin.SessionToken, nil, &terms); st != 200 {
		t.Fatal(p)
	}
	if st, p := f.env.Do(t, c, "POST", path(api.PathTermsAcceptances, "org", f.demo.OrgID, "app", "vault"), admin.SessionToken,
		api.AcceptTermsRequest{TermsVersionID: terms.TermsVersionID}, nil); st >= 300 {
		t.Fatal(p)
	}
	second := certLogin(t, f.env, f.demo.SecondUserID, f.demo.SecondPassword, f.demo.SecondCertPEM, f.demo.SecondKeyPEM)
	grantAccess(t, f.env, f.demo.OrgID, admin.SessionToken, f.userTok, "vault")
	grantAccess(t, f.env, f.demo.OrgID, admin.SessionToken, second, "vault")

	authURL := f.oauth(t, "vault").AuthCodeURL("st", oidc.Nonce("n"), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	st, at, page := fetch(t, f.browser, authURL)
	if st != http.StatusForbidden || !strings.Contains(page, "second factor") || strings.Contains(at, "code=") {
		t.Fatalf("password-only session: %d at %s\n%s", st, at, page)
	}
	if loc := f.authorize(t, authURL+"&prompt=none"); loc.Query().Get("error") != "login_required" {
		t.Fatalf("prompt=none: %s", loc)
	}
	fetch(t, f.browser, launchLink(t, f.env, second, "vault"))
	code, v := f.code(t, "vault", "n2")
	tok, err := f.oauth(t, "vault").Exchange(f.ctx(), code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	prov, _ := oidc.NewProvider(f.ctx(), f.issuer)
	idt, err := prov.Verifier(&oidc.Config{ClientID: "vault"}).Verify(f.ctx(), tok.Extra("id_token").(string))
	var claims struct{ Sub, ACR string }
	if err != nil || idt.Claims(&claims) != nil || claims.Sub != f.demo.SecondUserID || claims.ACR != "https://refeds.org/profile/mfa" {
		t.Fatalf("after step-up: %+v %v", claims, err)
	}
}

// TestIDTokenVerification: go-oidc's verifier refuses a tampered token, a token for another
// audience and one signed by a key magd does not publish; keys rotate and old tokens still verify.
func TestIDTokenVerification(t *testing.T) {
	f := newFedEnv(t)
	token := func() string {
		code, v := f.code(t, "supplychain", "n")
		tok, err := f.oauth(t, "supplychain").Exchange(f.ctx(), code, oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		return tok.Extra("id_token").(string)
	}
	raw := token()
	prov, err := oidc.NewProvider(f.ctx(), f.issuer)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(aud, tok string) error {
		_, err := prov.Verifier(&oidc.Config{ClientID: aud}).Verify(f.ctx(), tok)
		return err
	}
	if err := verify("supplychain", raw); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(raw, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := strings.Replace(string(payload), f.demo.UserUserID, f.demo.SecondUserID, 1)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2]
	for _, tc := range []struct{ name, aud, tok, want string }{
		{"payload changed", "supplychain", tampered, "signature"},
		{"another audience", "finance", raw, "audience"},
		{"signature cut off", "supplychain", parts[0] + "." + parts[1] + ".", "signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := verify(tc.aud, tc.tok)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error about %s", err, tc.want)
			}
		})
	}

	// Rotation: a month on, a new key signs and the JWKS publishes both.
	kid := func(tok string) string {
		h, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
		var hdr struct{ Kid string }
		_ = json.Unmarshal(h, &hdr)
		return hdr.Kid
	}
	f.clock.Advance(31 * 24 * time.Hour)
	l, p := f.env.Login(t, f.env.Client(t, nil), f.demo.UserUserID, f.demo.UserPassword)
	if p != nil {
		t.Fatal(p)
	}
	fetch(t, f.browser, launchLink(t, f.env, l.SessionToken, "supplychain"))
	fresh := token()
	if kid(fresh) == kid(raw) || kid(fresh) == "" {
		t.Fatalf("no rotation: kid %q then %q", kid(raw), kid(fresh))
	}
	var jwks struct {
		Keys []struct{ Kid, Use, Alg, Kty string }
	}
	resp, err := f.env.Client(t, nil).Get(f.env.URL + api.PathOIDCKeys)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range jwks.Keys {
		if k.Use != "sig" || k.Alg != "RS256" || k.Kty != "RSA" {
			t.Errorf("JWK %+v", k)
		}
		kids = append(kids, k.Kid)
	}
	if !slices.Contains(kids, kid(raw)) || !slices.Contains(kids, kid(fresh)) {
		t.Fatalf("JWKS kids %v, want %s and %s", kids, kid(raw), kid(fresh))
	}
	if err := verify("supplychain", fresh); err != nil {
		t.Fatalf("token of the new key: %v", err)
	}
}

// TestDiscoveryDocument checks the provider metadata field by field against OpenID Connect
// Discovery 1.0 §3 (REQUIRED and the RECOMMENDED fields magd offers) and §4.3 (issuer).
func TestDiscoveryDocument(t *testing.T) {
	env := servertest.Start(t, servertest.WithDemo())
	issuer := env.URL + "/oidc"
	resp, err := env.Client(t, nil).Get(env.URL + api.PathOIDCDiscovery)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("discovery: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var d map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	str := func(k string) string { s, _ := d[k].(string); return s }
	list := func(k string) []string {
		var out []string
		for _, v := range d[k].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	endpoint := func(k string) func() string {
		return func() string {
			if u := str(k); !strings.HasPrefix(u, issuer+"/") {
				return k + " = " + u + ", want an https URL under the issuer"
			}
			return ""
		}
	}
	has := func(k string, want ...string) func() string {
		return func() string {
			if _, ok := d[k].([]any); !ok {
				return k + " missing"
			}
			for _, w := range want {
				if !slices.Contains(list(k), w) {
					return k + " lacks " + w
				}
			}
			return ""
		}
	}
	for _, tc := range []struct {
		field string
		check func() string
	}{
		{"issuer (REQUIRED, identical to the URL it was fetched under)", func() string {
			if str("issuer") != issuer {
				return "issuer " + str("issuer")
			}
			return ""
		}},
		{"authorization_endpoint (REQUIRED)", endpoint("authorization_endpoint")},
		{"token_endpoint (REQUIRED)", endpoint("token_endpoint")},
		{"userinfo_endpoint (RECOMMENDED)", endpoint("userinfo_endpoint")},
		{"jwks_uri (REQUIRED)", endpoint("jwks_uri")},
		{"end_session_endpoint (RP-Initiated Logout)", endpoint("end_session_endpoint")},
		{"scopes_supported (RECOMMENDED, MUST have openid)", has("scopes_supported", "openid", "profile", "email")},
		{"response_types_supported (REQUIRED, code for a dynamic OP)", has("response_types_supported", "code")},
		{"subject_types_supported (REQUIRED)", has("subject_types_supported", "public")},
		{"id_token_signing_alg_values_supported (REQUIRED, MUST have RS256)", has("id_token_signing_alg_values_supported", "RS256")},
		{"grant_types_supported", has("grant_types_supported", "authorization_code")},
		{"token_endpoint_auth_methods_supported", has("token_endpoint_auth_methods_supported", "client_secret_basic", "client_secret_post", "none")},
		{"claims_supported (RECOMMENDED)", has("claims_supported", "sub", "iss", "aud", "exp", "iat", "acr", "amr", "email", "name")},
		{"code_challenge_methods_supported (RFC 8414)", has("code_challenge_methods_supported", "S256")},
		{"request_uri_parameter_supported false (we do not fetch request URIs)", func() string {
			if v, ok := d["request_uri_parameter_supported"].(bool); ok && v {
				return "request_uri_parameter_supported is true"
			}
			return ""
		}},
	} {
		if msg := tc.check(); msg != "" {
			t.Errorf("%s: %s", tc.field, msg)
		}
	}
}

// TestOIDCCORS: browser applications may read the provider's JSON endpoints cross-origin, but
// never with magd's cookies.
func TestOIDCCORS(t *testing.T) {
	env := servertest.Start(t)
	req, _ := http.NewRequest("GET", env.URL+api.PathOIDCKeys, nil)
	req.Header.Set("Origin", "https://spa.example")
	resp, err := env.Client(t, nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") == "" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("CORS: %d %v", resp.StatusCode, resp.Header)
	}
}
