package hardening

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestBrowserPagesHostile attacks the pages a browser opens (launch links, magd's OpenID
// Connect login page and SAML SSO endpoint behind them, the activation page): poisoned tickets,
// request ids and SAML requests, a launch link used twice. Every refusal is a 4xx page that does
// not reflect the input, never a 500.
func TestBrowserPagesHostile(t *testing.T) {
	w := newWorld(t)
	c := w.rawClient(t)
	lu := w.launchURL(t)
	a, err := w.send(c, rawReq{method: "GET", path: lu.Path})
	if err != nil || a.status != http.StatusSeeOther || a.header.Get("Set-Cookie") == "" {
		t.Fatalf("open the launch URL: %d %v", a.status, err)
	}

	type pcase struct {
		name, path string
		want       int // exact status, or 0 for any 4xx
	}
	var cs []pcase
	for i, p := range poisons {
		if p == "" || p == " " {
			continue
		}
		e, q := url.PathEscape(p), url.QueryEscape(p)
		cs = append(cs,
			pcase{fmt.Sprintf("launch ticket poison %d", i), "/launch/" + e, 0},
			pcase{fmt.Sprintf("demo app poison %d", i), "/demoapps/" + e + "?x=" + q, 0},
			pcase{fmt.Sprintf("OIDC login poison %d", i), "/oidc/login?authRequestID=" + q, 0},
			pcase{fmt.Sprintf("SAML request poison %d", i), "/saml/sso?SAMLRequest=" + q + "&RelayState=" + q, 0})
	}
	cs = append(cs, pcase{"launch URL used twice", lu.Path, http.StatusGone})
	for _, tc := range cs {
		a, err := w.send(c, rawReq{method: "GET", path: tc.path})
		switch {
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != 0 && a.status != tc.want:
			t.Errorf("%s: status %d, want %d", tc.name, a.status, tc.want)
		case tc.want == 0 && (a.status < 400 || a.status > 499):
			t.Errorf("%s: status %d, want 4xx", tc.name, a.status)
		case bytes.Contains(a.body, []byte("<script>alert(1)")) || bytes.Contains(a.body, []byte("${jndi")):
			t.Errorf("%s: the page reflects the input: %.300s", tc.name, a.body)
		case a.status/100 == 4 && !strings.Contains(a.header.Get("Content-Security-Policy"), "default-src 'none'"):
			t.Errorf("%s: refusal page without a restrictive Content-Security-Policy", tc.name)
		}
	}
	// The activation page is static: whatever follows in the address is not echoed.
	for _, p := range []string{"?token=<script>alert(1)</script>", "?token=" + url.QueryEscape("<script>alert(1)</script>")} {
		a, err := w.send(c, rawReq{method: "GET", path: "/activate" + p})
		if err != nil || a.status != http.StatusOK || bytes.Contains(a.body, []byte("alert(1)")) {
			t.Errorf("activation page with %s: %d %v", p, a.status, err)
		}
	}
	w.metaUp(t, c)
	t.Logf("%d hostile browser-page cases", len(cs)+2)
}

// TestPagesRefuseFraming: every page magd serves to a browser (and every API answer) carries a
// Content-Security-Policy that forbids framing (clickjacking) and inline code other than the
// page's own, by hash; the activation page's script is one of those it allows.
func TestPagesRefuseFraming(t *testing.T) {
	w := newWorld(t)
	c := w.rawClient(t)
	lu := w.launchURL(t)
	cases := []struct{ name, path string }{
		{"activation page", "/activate"},
		{"launch link", lu.Path},
		{"launch link used twice", lu.Path},
		{"unknown launch ticket", "/launch/nope"},
		{"OIDC login without a request", "/oidc/login?authRequestID=nope"},
		{"signed out page", "/oidc/logged-out"},
		{"API answer", "/v1/meta"},
		{"unknown path", "/nothing-here"},
	}
	inline := regexp.MustCompile(`(?s)<(script|style)>(.*?)</(?:script|style)>`)
	for _, tc := range cases {
		a, err := w.send(c, rawReq{method: "GET", path: tc.path})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		csp := a.header.Get("Content-Security-Policy")
		switch {
		case !strings.Contains(csp, "frame-ancestors 'none'"):
			t.Errorf("%s: Content-Security-Policy %q, want frame-ancestors 'none'", tc.name, csp)
		case !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-"):
			t.Errorf("%s: Content-Security-Policy %q, want default-src 'none' and nothing unsafe", tc.name, csp)
		case a.header.Get("X-Frame-Options") != "DENY":
			t.Errorf("%s: X-Frame-Options %q, want DENY", tc.name, a.header.Get("X-Frame-Options"))
		}
		for _, m := range inline.FindAllSubmatch(a.body, -1) {
			sum := sha256.Sum256(m[2])
			if want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, want) {
				t.Errorf("%s: its inline %s is not allowed by %q (want %s)", tc.name, m[1], csp, want)
			}
		}
	}
	t.Logf("%d pages checked for framing and inline code", len(cases))
}
