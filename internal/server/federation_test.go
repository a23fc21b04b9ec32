package server_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/browsertest"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// browserClient follows redirects and keeps cookies, as a browser does (no JavaScript: the
// SAML POST binding needs the real browser test).
func browserClient(t *testing.T, env *servertest.Env) *http.Client {
	t.Helper()
	c := env.Client(t, nil)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Jar, c.CheckRedirect = jar, nil
	return c
}

func launchLink(t *testing.T, env *servertest.Env, token, app string) string {
	t.Helper()
	var l api.LaunchResponse
	if st, p := env.Do(t, env.Client(t, nil), "POST", path(api.PathLaunch, "app", app), token, nil, &l); st != 200 {
		t.Fatalf("launch %s: %d %v", app, st, p)
	}
	return l.LaunchURL
}

func fetch(t *testing.T, c *http.Client, url string) (int, string, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Request.URL.String(), string(b)
}

// The demo OIDC relying party, launched from the desktop session, ends signed in as the
// launching account with the session's acr; a launch as the second account replaces it.
func TestLaunchSignsInToDemoOIDCApp(t *testing.T) {
	env := servertest.Start(t, servertest.WithDemo())
	d := env.Server.Demo()
	api1 := env.Client(t, nil)
	first, p := env.Login(t, api1, d.UserUserID, d.UserPassword)
	if p != nil {
		t.Fatal(p)
	}
	b := browserClient(t, env)
	st, at, page := fetch(t, b, launchLink(t, env, first.SessionToken, "engdocs"))
	if st != 200 || !strings.HasSuffix(at, "/demoapps/engdocs/") || !strings.Contains(page, `data-claim="sub">`+d.UserUserID+"<") ||
		!strings.Contains(page, "https://refeds.org/profile/sfa") {
		t.Fatalf("after launch: %d at %s\n%s", st, at, page)
	}
	st, _, page = fetch(t, b, env.URL+"/demoapps/engdocs/")
	if st != 200 || !strings.Contains(page, d.UserUserID) {
		t.Fatalf("RP session: %d %s", st, page)
	}
}

// grantAccess has the user ask for app and the org admin approve it, through the API.
func grantAccess(t *testing.T, env *servertest.Env, orgID, adminTok, userTok, app string) {
	t.Helper()
	c := env.Client(t, nil)
	var req api.AccessRequest
	if st, p := env.Do(t, c, "POST", path(api.PathAccessRequests, "app", app), userTok, nil, &req); st != 201 {
		t.Fatalf("request %s: %d %v", app, st, p)
	}
	if st, p := env.Do(t, c, "POST", path(api.PathDecision, "org", orgID, "id", req.ID), adminTok,
		api.DecisionRequest{Decision: api.DecisionApprove}, nil); st >= 300 {
		t.Fatalf("approve %s: %d %v", app, st, p)
	}
}

// certLogin logs in with a password and the demo certificate (AAL2).
func certLogin(t *testing.T, env *servertest.Env, userID, pw string, certPEM, keyPEM []byte) string {
	t.Helper()
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	l, p := env.Login(t, env.Client(t, &cert), userID, pw)
	if p != nil || l.Session.AAL != 2 {
		t.Fatalf("certificate login: %+v %v", l.Session, p)
	}
	return l.SessionToken
}

func claim(p browsertest.Page, b *browsertest.Browser, name string) string {
	return b.Text(`td[data-claim="` + name + `"]`)
}

// TestBrowserLaunch is the scenario in a real browser over real TLS (Chromium trusting magd's
// CA through its NSS database): the desktop session's launch link signs the browser in at magd
// and the demo OIDC relying party and SAML service provider show the launching account and its
// acr; a second account launched afterwards replaces the first at magd and in both applications.
func TestBrowserLaunch(t *testing.T) {
	env := servertest.Start(t, servertest.WithDemo())
	b := browsertest.Start(t, env.CAPEM)
	d := env.Server.Demo()
	first, p := env.Login(t, env.Client(t, nil), d.UserUserID, d.UserPassword)
	if p != nil {
		t.Fatal(p)
	}
	const sfa, mfa = "https://refeds.org/profile/sfa", "https://refeds.org/profile/mfa"

	pg := b.Open(launchLink(t, env, first.SessionToken, "engdocs"), "#claims")
	if !strings.HasSuffix(pg.URL, "/demoapps/engdocs/") || claim(pg, b, "sub") != d.UserUserID || claim(pg, b, "acr") != sfa ||
		claim(pg, b, "amr") != "pwd" || claim(pg, b, "name") != "Dana Pilot" || claim(pg, b, "userinfo.org") != d.OrgName {
		t.Fatalf("OIDC app after the first launch: %s\n%s", pg.URL, pg.Text)
	}
	pg = b.Open(launchLink(t, env, first.SessionToken, "servicedesk"), "#claims")
	if !strings.HasSuffix(pg.URL, "/demoapps/servicedesk/") || claim(pg, b, "NameID") != d.UserUserID || claim(pg, b, "acr") != sfa ||
		claim(pg, b, "mail") != "dana.pilot@demo-aerospace.example" || claim(pg, b, "o") != d.OrgName {
		t.Fatalf("SAML app after the first launch: %s\n%s", pg.URL, pg.Text)
	}

	// The demo user's second account, with its certificate: AAL2.
	admin, p := env.Login(t, env.Client(t, nil), d.AdminUserID, d.AdminPassword)
	if p != nil {
		t.Fatal(p)
	}
	second := certLogin(t, env, d.SecondUserID, d.SecondPassword, d.SecondCertPEM, d.SecondKeyPEM)
	for _, app := range []string{"engdocs", "servicedesk"} {
		grantAccess(t, env, d.OrgID, admin.SessionToken, second, app)
	}
	pg = b.Open(launchLink(t, env, second, "engdocs"), "#claims")
	if claim(pg, b, "sub") != d.SecondUserID || claim(pg, b, "acr") != mfa || claim(pg, b, "amr") != "pwd x509" {
		t.Fatalf("OIDC app after the second account's launch: %s\n%s", pg.URL, pg.Text)
	}
	pg = b.Open(launchLink(t, env, second, "servicedesk"), "#claims")
	if claim(pg, b, "NameID") != d.SecondUserID || claim(pg, b, "acr") != mfa {
		t.Fatalf("SAML app after the second account's launch: %s\n%s", pg.URL, pg.Text)
	}
	// magd's browser session is the second account's: a sign-in the application starts on its
	// own (no launch, no login_hint) comes back as that account.
	pg = b.Open(env.URL+"/demoapps/engdocs/login", "#claims")
	if claim(pg, b, "sub") != d.SecondUserID {
		t.Fatalf("application-started sign-in: %s\n%s", pg.URL, pg.Text)
	}
	// A used launch link stays used in the browser too.
	link := launchLink(t, env, first.SessionToken, "engdocs")
	b.Open(link, "#claims")
	if pg = b.Open(link, "h1"); !strings.Contains(pg.Text, "already been used") {
		t.Fatalf("second use of a launch link: %s", pg.Text)
	}
}

// TestBrowserSessionEnds: magd's browser session ends with the desktop session it came from
// (logout there) and with RP-initiated logout; the application's next sign-in then finds none.
func TestBrowserSessionEnds(t *testing.T) {
	env := servertest.Start(t, servertest.WithDemo())
	d := env.Server.Demo()
	c := env.Client(t, nil)
	for _, end := range []struct {
		name string
		end  func(b *http.Client, token string)
	}{
		{"desktop logout", func(_ *http.Client, token string) {
			if st, p := env.Do(t, c, "DELETE", api.PathSessionCurrent, token, nil, nil); st >= 300 {
				t.Fatalf("logout: %d %v", st, p)
			}
		}},
		{"RP-initiated logout", func(b *http.Client, _ string) {
			if st, _, page := fetch(t, b, env.URL+"/oidc/end_session"); st != 200 || !strings.Contains(page, "You are signed out") {
				t.Fatalf("end_session: %d %s", st, page)
			}
		}},
	} {
		t.Run(end.name, func(t *testing.T) {
			l, p := env.Login(t, c, d.UserUserID, d.UserPassword)
			if p != nil {
				t.Fatal(p)
			}
			b := browserClient(t, env)
			if st, _, page := fetch(t, b, launchLink(t, env, l.SessionToken, "engdocs")); st != 200 || !strings.Contains(page, d.UserUserID) {
				t.Fatalf("launch: %d %s", st, page)
			}
			end.end(b, l.SessionToken)
			st, _, page := fetch(t, b, env.URL+"/demoapps/engdocs/login")
			if st != http.StatusUnauthorized || !strings.Contains(page, "Not signed in to MAG") || strings.Contains(page, d.UserUserID) {
				t.Fatalf("sign-in after the end: %d %s", st, page)
			}
		})
	}
}
