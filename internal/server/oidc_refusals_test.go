// The OpenID provider refusing what it must: protocol mistakes, hostile input, racing codes.

package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/mag-desktop/magdesk/internal/server"
)

// TestOIDCRefusals: each protocol mistake is refused with its standard error.
func TestOIDCRefusals(t *testing.T) {
	f := newFedEnv(t)
	exchange := func(app, code string, opts ...oauth2.AuthCodeOption) error {
		_, err := f.oauth(t, app).Exchange(f.ctx(), code, opts...)
		return err
	}
	tests := []struct {
		name, want string
		run        func() error
	}{
		{"PKCE verifier missing", "invalid_request", func() error {
			code, _ := f.code(t, "supplychain", "n")
			return exchange("supplychain", code)
		}},
		{"PKCE verifier wrong", "invalid_grant", func() error {
			code, _ := f.code(t, "supplychain", "n")
			return exchange("supplychain", code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		}},
		{"code used twice", "invalid_grant", func() error {
			code, v := f.code(t, "supplychain", "n")
			if err := exchange("supplychain", code, oauth2.VerifierOption(v)); err != nil {
				t.Fatalf("first redemption: %v", err)
			}
			return exchange("supplychain", code, oauth2.VerifierOption(v))
		}},
		{"code expired", "invalid_grant", func() error {
			code, v := f.code(t, "supplychain", "n")
			f.clock.Advance(2 * time.Minute)
			return exchange("supplychain", code, oauth2.VerifierOption(v))
		}},
		{"code of another client", "invalid_grant", func() error {
			code, v := f.code(t, "supplychain", "n")
			return exchange("finance", code, oauth2.VerifierOption(v))
		}},
		{"wrong client secret", "invalid_client", func() error {
			code, v := f.code(t, "supplychain", "n")
			conf := f.oauth(t, "supplychain")
			conf.ClientSecret = "mcs_wrong"
			_, err := conf.Exchange(f.ctx(), code, oauth2.VerifierOption(v))
			return err
		}},
		{"redirect URI other than at authorization", "invalid_grant", func() error {
			code, v := f.code(t, "supplychain", "n")
			return exchange("supplychain", code, oauth2.VerifierOption(v), oauth2.SetAuthURLParam("redirect_uri", "https://rp.example/other"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil {
				t.Fatal("accepted")
			}
			if got := oauthError(err); got != tc.want {
				t.Fatalf("error %q (%v), want %q", got, err, tc.want)
			}
		})
	}
}

// TestOIDCAuthorizeRefusals: at /authorize, an unregistered redirect URI is never redirected to;
// a public client must use PKCE S256; the application's rules hold at authorisation time.
func TestOIDCAuthorizeRefusals(t *testing.T) {
	f := newFedEnv(t)
	ctx := context.Background()
	if _, err := f.env.Server.RegisterOIDCClient(ctx, "engdocs", server.OIDCRegistration{Public: true,
		RedirectURIs: []string{"http://127.0.0.1/callback"}}); err != nil {
		t.Fatal(err)
	}
	base := f.oauth(t, "supplychain").Endpoint.AuthURL
	q := func(kv ...string) string {
		v := url.Values{"response_type": {"code"}, "scope": {"openid"}, "state": {"st"}, "client_id": {"supplychain"},
			"redirect_uri": {rpCallback}, "nonce": {"n"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return base + "?" + v.Encode()
	}
	challenge := func(v string) string {
		s := sha256.Sum256([]byte(v))
		return base64.RawURLEncoding.EncodeToString(s[:])
	}

	// Unregistered redirect URI: an error page at magd, nothing sent anywhere.
	resp, err := f.browser.Get(q("redirect_uri", "https://evil.example/cb"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 || resp.Request.URL.Host == "evil.example" || resp.Header.Get("Location") != "" {
		t.Fatalf("unregistered redirect URI: %d at %s", resp.StatusCode, resp.Request.URL)
	}

	public := func(kv ...string) string {
		return q(append([]string{"client_id", "engdocs", "redirect_uri", "http://127.0.0.1/callback"}, kv...)...)
	}
	for _, tc := range []struct{ name, url, want string }{
		{"public client without PKCE", public(), "invalid_request"},
		{"public client with plain PKCE", public("code_challenge", "abc", "code_challenge_method", "plain"), "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := f.browser.Get(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, err := resp.Location()
			if err != nil || loc.Query().Get("error") != tc.want || loc.Query().Get("state") != "st" {
				t.Fatalf("got %d %v, want a redirect with error=%s", resp.StatusCode, loc, tc.want)
			}
		})
	}
	// With S256 the public client gets its code.
	v := oauth2.GenerateVerifier()
	resp, err = f.browser.Get(public("code_challenge", challenge(v), "code_challenge_method", "S256"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc, _ := resp.Location(); loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("public client with S256: %d %v", resp.StatusCode, loc)
	}

	// The rules at authorisation time: pages telling the user what to do, never a code.
	for _, tc := range []struct{ name, url, page string }{
		{"access not granted", q("client_id", "finance"), "You cannot open Finance Reports yet"},
		{"login_hint of another account", q("login_hint", f.demo.SecondUserID), "Signed in to MAG as another account"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, at, page := fetch(t, f.browser, tc.url)
			if st < 400 || !strings.Contains(page, tc.page) || strings.Contains(at, "code=") {
				t.Fatalf("%d at %s:\n%s", st, at, page)
			}
		})
	}
	t.Run("no magd browser session", func(t *testing.T) {
		st, _, page := fetch(t, browserClient(t, f.env), q())
		if st != http.StatusUnauthorized || !strings.Contains(page, "from MAG Desktop") {
			t.Fatalf("%d:\n%s", st, page)
		}
	})
}

// TestFederationHostile: hostile input at every federation endpoint is refused with a 4xx (an
// OAuth error, or a page that does not reflect it), never a 5xx.
func TestFederationHostile(t *testing.T) {
	f := newFedEnv(t)
	poisons := []string{"'; DROP TABLE oidc_clients; --", "<script>alert(1)</script>", "../../../etc/passwd", "${jndi:ldap://x}",
		strings.Repeat("A", 8000), "%00", "\x00\xff", "supplychain\r\nSet-Cookie: x=y", "{{.}}", "-1"}
	type hcase struct{ name, method, path, body string }
	var cs []hcase
	for i, p := range poisons {
		q := url.QueryEscape(p)
		cs = append(cs,
			hcase{fmt.Sprintf("authorize client_id %d", i), "GET", "/oidc/authorize?response_type=code&scope=openid&client_id=" + q + "&redirect_uri=" + q, ""},
			hcase{fmt.Sprintf("authorize redirect_uri %d", i), "GET", "/oidc/authorize?response_type=code&scope=openid&client_id=supplychain&redirect_uri=" + q, ""},
			hcase{fmt.Sprintf("authorize callback %d", i), "GET", "/oidc/authorize/callback?id=" + q, ""},
			hcase{fmt.Sprintf("login %d", i), "GET", "/oidc/login?authRequestID=" + q, ""},
			hcase{fmt.Sprintf("token code %d", i), "POST", "/oidc/oauth/token", "grant_type=authorization_code&client_id=supplychain&client_secret=" +
				url.QueryEscape(f.secret["supplychain"]) + "&redirect_uri=" + url.QueryEscape(rpCallback) + "&code=" + q},
			hcase{fmt.Sprintf("token grant %d", i), "POST", "/oidc/oauth/token", "grant_type=" + q + "&client_id=" + q + "&client_secret=" + q},
			hcase{fmt.Sprintf("userinfo %d", i), "GET", "/oidc/userinfo#" + q, ""},
			hcase{fmt.Sprintf("end_session %d", i), "GET", "/oidc/end_session?id_token_hint=" + q + "&post_logout_redirect_uri=" + q, ""},
			hcase{fmt.Sprintf("saml sso %d", i), "GET", "/saml/sso?SAMLRequest=" + q + "&RelayState=" + q, ""},
			hcase{fmt.Sprintf("saml sso post %d", i), "POST", "/saml/sso", "SAMLRequest=" + q},
		)
	}
	c := f.env.Client(t, nil)
	for _, tc := range cs {
		req, err := http.NewRequest(tc.method, f.env.URL+tc.path, strings.NewReader(tc.body))
		if err != nil {
			continue // not even a request
		}
		if tc.body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if strings.HasPrefix(tc.path, "/oidc/userinfo") {
			req.Header.Set("Authorization", "Bearer "+tc.path[len("/oidc/userinfo#"):])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode >= 500:
			t.Errorf("%s: %d %.200s", tc.name, resp.StatusCode, body)
		case resp.StatusCode < 300:
			t.Errorf("%s: accepted (%d)", tc.name, resp.StatusCode)
		case strings.Contains(string(body), "<script>alert(1)") || strings.Contains(resp.Header.Get("Set-Cookie"), "x=y"):
			t.Errorf("%s: reflects the input: %.200s", tc.name, body)
		}
	}
}

// TestOIDCCodeRaceOnce: ten token requests race with one code; exactly one gets tokens.
func TestOIDCCodeRaceOnce(t *testing.T) {
	f := newFedEnv(t)
	code, v := f.code(t, "supplychain", "n")
	conf := f.oauth(t, "supplychain")
	const n = 10
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := conf.Exchange(f.ctx(), code, oauth2.VerifierOption(v))
			errs <- err
		}()
	}
	won := 0
	for range n {
		if err := <-errs; err == nil {
			won++
		} else if oauthError(err) != "invalid_grant" {
			t.Errorf("loser: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d token requests got tokens for one code", won)
	}
}
