package server_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/mag-desktop/magdesk/api"
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
