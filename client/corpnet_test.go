package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/netconf"
	"github.com/mag-desktop/magdesk/internal/netconf/proxytest"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
	"github.com/mag-desktop/magdesk/internal/service"
	"github.com/pquerna/otp/totp"
)

func noCreds(string) (string, string, bool) { return "", "", false }

// direct is a system with no proxy configured, so that the machine running the tests cannot
// change what a case means.
type direct struct{}

func (direct) ReadSystem(context.Context) (netconf.System, error) { return netconf.System{}, nil }

func corpClient(t *testing.T, env *servertest.Env, cfg netconf.Config, creds netconf.Credentials) *client.Client {
	t.Helper()
	if creds == nil {
		creds = noCreds
	}
	res := netconf.New(netconf.Options{Config: cfg, System: direct{}, Credentials: creds, Env: func(string) string { return "" }})
	c, err := client.New(client.Options{ServerURL: env.URL, CAPEM: env.CAPEM, Network: res, Retries: -1, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func wantProxyCode(t *testing.T, err error, code string, msgParts ...string) {
	t.Helper()
	pe := client.ProxyError(err)
	if pe == nil || pe.Code != code {
		t.Fatalf("error %v, want proxy code %s", err, code)
	}
	msg := service.Message(err)
	for _, p := range msgParts {
		if !strings.Contains(msg, p) {
			t.Errorf("message %q lacks %q", msg, p)
		}
	}
}

// TestThroughTinyproxy: every request goes through a real tinyproxy, and nothing goes around
// it: once it stops, requests fail naming the proxy.
func TestThroughTinyproxy(t *testing.T) {
	env := servertest.Start(t)
	tp := proxytest.StartTinyproxy(t, "", "")
	magd := hostOf(t, env.URL)
	c := corpClient(t, env, netconf.Config{Mode: netconf.ModeFixed, URL: tp.URL, Origin: "the policy"}, nil)
	ctx := context.Background()
	for range 2 {
		if _, err := c.Meta(ctx); err != nil {
			t.Fatalf("meta through tinyproxy: %v", err)
		}
	}
	if n := tp.Tunnels(magd); n != 1 {
		t.Fatalf("tinyproxy logged %d tunnels to %s, want 1 (one pooled connection):\n%s", n, magd, tp.Log())
	}
	tp.Stop()
	c.CloseIdleConnections()
	_, err := c.Meta(ctx)
	if !client.IsOffline(err) || !strings.Contains(service.Message(err), "proxy") {
		t.Fatalf("proxy stopped: %v / %q", err, service.Message(err))
	}
}

func TestTinyproxyBasicAuth(t *testing.T) {
	env := servertest.Start(t)
	tp := proxytest.StartTinyproxy(t, "alice", "s3cret-pw")
	magd := hostOf(t, env.URL)
	ctx := context.Background()
	withUser := func(user, pw string) string {
		u, _ := url.Parse(tp.URL)
		u.User = url.UserPassword(user, pw)
		return u.String()
	}
	// Right credentials in the proxy URL, and from the keyring lookup.
	for name, c := range map[string]*client.Client{
		"url":     corpClient(t, env, netconf.Config{Mode: netconf.ModeFixed, URL: withUser("alice", "s3cret-pw")}, nil),
		"keyring": corpClient(t, env, netconf.Config{Mode: netconf.ModeFixed, URL: tp.URL}, func(hp string) (string, string, bool) { return "alice", "s3cret-pw", hp == tp.Addr }),
	} {
		if _, err := c.Meta(ctx); err != nil {
			t.Fatalf("%s: meta with proxy credentials: %v", name, err)
		}
	}
	if n := tp.Tunnels(magd); n != 2 {
		t.Fatalf("%d tunnels, want 2:\n%s", n, tp.Log())
	}
	for _, c := range []struct {
		name, proxy, code string
		parts             []string
	}{
		{"none", tp.URL, netconf.CodeProxyAuthRequired, []string{tp.URL, "user name and password"}},
		{"wrong", withUser("alice", "wrong-pw"), netconf.CodeProxyAuthRejected, []string{tp.URL, "refused the proxy user name or password"}},
	} {
		_, err := corpClient(t, env, netconf.Config{Mode: netconf.ModeFixed, URL: c.proxy}, nil).Meta(ctx)
		wantProxyCode(t, err, c.code, c.parts...)
		if msg := service.Message(err); strings.Contains(msg, "wrong-pw") || strings.Contains(err.Error(), "wrong-pw") {
			t.Errorf("%s: the password shows: %q / %v", c.name, msg, err)
		}
	}
}

func TestPACChoosesTinyproxy(t *testing.T) {
	env := servertest.Start(t)
	tp := proxytest.StartTinyproxy(t, "", "")
	magd := hostOf(t, env.URL)
	ctx := context.Background()
	script := fmt.Sprintf(`function FindProxyForURL(url, host) {
  if (shExpMatch(url, "https://%s/*") && isInNet(host, "127.0.0.0", "255.0.0.0")) return "PROXY %s; DIRECT";
  return "DIRECT";
}`, magd, tp.Addr)
	pac, downloads := proxytest.ServePAC(t, script)
	c := corpClient(t, env, netconf.Config{Mode: netconf.ModePAC, PACURL: pac, Origin: "the policy"}, nil)
	if _, err := c.Meta(ctx); err != nil {
		t.Fatalf("meta via PAC: %v", err)
	}
	c.CloseIdleConnections()
	if _, err := c.Meta(ctx); err != nil {
		t.Fatalf("meta via PAC again: %v", err)
	}
	if n := tp.Tunnels(magd); n != 2 {
		t.Fatalf("%d tunnels, want 2:\n%s", n, tp.Log())
	}
	if downloads.Load() != 1 {
		t.Errorf("the PAC script was downloaded %d times, want 1", downloads.Load())
	}
	d, err := c.Network().Decide(ctx, &url.URL{Scheme: "https", Host: magd})
	if err != nil || d.Proxy == nil || d.Proxy.Host != tp.Addr || !strings.Contains(d.Why, pac) {
		t.Fatalf("decision %+v, %v", d, err)
	}
	// The same script sends another name direct; an unreachable script is an error, not a
	// silent direct connection around the proxy.
	if d, err := c.Network().Decide(ctx, &url.URL{Scheme: "https", Host: "elsewhere.example:443"}); err != nil || d.Proxy != nil {
		t.Fatalf("elsewhere: %+v, %v", d, err)
	}
	_, err = corpClient(t, env, netconf.Config{Mode: netconf.ModePAC, PACURL: "http://127.0.0.1:1/proxy.pac"}, nil).Meta(ctx)
	wantProxyCode(t, err, netconf.CodePACUnavailable, "http://127.0.0.1:1/proxy.pac", "could not be downloaded")
}

// TestProxyWantsWindowsSignIn: NTLM/Negotiate are not supported, and the message says so.
func TestProxyWantsWindowsSignIn(t *testing.T) {
	env := servertest.Start(t)
	ntlm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Proxy-Authenticate", "Negotiate")
		w.Header().Add("Proxy-Authenticate", "NTLM")
		w.WriteHeader(http.StatusProxyAuthRequired)
	}))
	defer ntlm.Close()
	_, err := corpClient(t, env, netconf.Config{Mode: netconf.ModeFixed, URL: ntlm.URL}, nil).Meta(context.Background())
	wantProxyCode(t, err, netconf.CodeProxyAuthUnsupported, "Windows sign-in", "Negotiate, NTLM")
}

// TestInterceptingProxy: a proxy that re-signs TLS with its own CA is refused with the
// inspection message, and accepted once the CA file IT sets names its CA.
func TestInterceptingProxy(t *testing.T) {
	env := servertest.Start(t)
	ic := proxytest.StartInterceptor(t, env.CAPool)
	ctx := context.Background()
	res := netconf.New(netconf.Options{Config: netconf.Config{Mode: netconf.ModeFixed, URL: ic.URL}, System: direct{}, Credentials: noCreds})
	c, err := client.New(client.Options{ServerURL: env.URL, CAPEM: env.CAPEM, Network: res, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Meta(ctx)
	ce, _ := client.AsError(err)
	if !client.IsIntercepted(err) || ce.Issuer != ic.CAName {
		t.Fatalf("through the interceptor: %v (kind %v)", err, ce)
	}
	msg := service.Message(err)
	for _, p := range []string{"inspecting secure connections", ic.CAName, "ca_bundle"} {
		if !strings.Contains(msg, p) {
			t.Errorf("message %q lacks %q", msg, p)
		}
	}
	if ic.Intercepted.Load() != 0 {
		t.Fatal("the client completed a handshake with the forged certificate")
	}
	// The policy's CA file names the inspection CA: the connection is accepted.
	c2, err := client.New(client.Options{ServerURL: env.URL, CAPEM: env.CAPEM, CAFile: ic.CAFile, Network: res, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.CloseIdleConnections()
	if _, err := c2.Meta(ctx); err != nil {
		t.Fatalf("with the inspection CA trusted: %v", err)
	}
	if ic.Intercepted.Load() != 1 || client.IssuerName(c2.ServerChain()[0]) != ic.CAName {
		t.Fatalf("intercepted %d, issuer %v", ic.Intercepted.Load(), c2.ServerChain())
	}
}

// TestClockSkew: the server's clock runs two minutes ahead; the client measures it, and a
// refused one-time code is explained by the clocks, not as a wrong code.
func TestClockSkew(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.login(t, w.user, pwUser)
	en, err := c.StartTOTP(ctx)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(en.SecretBase32, w.clk.Now())
	if _, err := c.VerifyTOTP(ctx, en.EnrollmentID, code); err != nil {
		t.Fatal(err)
	}
	if skew, ok := c.ClockSkew(); !ok || client.SkewTooLarge(skew) {
		t.Fatalf("in step: skew %v, %v", skew, ok)
	}
	w.clk.Advance(2 * time.Minute)
	c2 := w.client(t)
	if _, err := c2.Meta(ctx); err != nil {
		t.Fatal(err)
	}
	skew, ok := c2.ClockSkew()
	if !ok || skew < 118*time.Second || skew > 122*time.Second || !client.SkewTooLarge(skew) {
		t.Fatalf("skew %v, %v; want about 2m", skew, ok)
	}
	_, err = c2.Login(ctx, w.user, pwUser, "")
	ticket, ok := client.IsMFARequired(err)
	if !ok {
		t.Fatal(err)
	}
	// The authenticator follows real time, which the server no longer does.
	code, _ = totp.GenerateCode(en.SecretBase32, time.Now())
	_, err = c2.LoginMFA(ctx, ticket, code)
	if !client.HasCode(err, api.CodeOTPInvalid) {
		t.Fatalf("login with a code two minutes off: %v", err)
	}
	msg := service.Message(err)
	if !strings.Contains(msg, "2 minutes") || !strings.Contains(msg, "clock") || strings.Contains(msg, "code is wrong") {
		t.Fatalf("message %q", msg)
	}
	var p *api.Problem
	if !errors.As(err, &p) {
		t.Fatal("the problem is gone")
	}
}
