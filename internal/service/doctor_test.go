package service_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/netconf"
	"github.com/mag-desktop/magdesk/internal/netconf/proxytest"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
	"github.com/mag-desktop/magdesk/internal/service"
)

type noSystem struct{}

func (noSystem) ReadSystem(context.Context) (netconf.System, error) { return netconf.System{}, nil }

func resolver(cfg netconf.Config) *netconf.Resolver {
	return netconf.New(netconf.Options{Config: cfg, System: noSystem{}, Env: func(string) string { return "" },
		Credentials: func(string) (string, string, bool) { return "", "", false }})
}

func doctorInput(t *testing.T, env *servertest.Env, res *netconf.Resolver, caFile string) service.DoctorInput {
	return service.DoctorInput{
		Server: env.URL, Network: res,
		Anon: func() (*client.Client, error) {
			return client.New(client.Options{ServerURL: env.URL, CAPEM: env.CAPEM, CAFile: caFile, Network: res, Retries: -1, Timeout: 10 * time.Second})
		},
	}
}

func check(t *testing.T, rep service.DoctorReport, id string) service.DoctorCheck {
	t.Helper()
	for _, c := range rep.Checks {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no %s check in %+v", id, rep.Checks)
	return service.DoctorCheck{}
}

func wantCheck(t *testing.T, rep service.DoctorReport, id, status string, parts ...string) {
	t.Helper()
	c := check(t, rep, id)
	if c.Status != status {
		t.Errorf("%s: status %s, want %s: %s", id, c.Status, status, c.Result)
	}
	for _, p := range parts {
		if !strings.Contains(c.Result+" "+c.Fix, p) {
			t.Errorf("%s: %q lacks %q", id, c.Result+" "+c.Fix, p)
		}
	}
}

// TestDoctorThroughTinyproxy: every hop is named, the proxy and why it is used, who issued
// the certificate, the gateway's version; local problems get a line with what to do.
func TestDoctorThroughTinyproxy(t *testing.T) {
	env := servertest.Start(t)
	tp := proxytest.StartTinyproxy(t, "", "")
	// The proxy by name, as IT would write it, so that the name lookup is checked too.
	byName := strings.Replace(tp.URL, "127.0.0.1", "localhost", 1)
	in := doctorInput(t, env, resolver(netconf.Config{Mode: netconf.ModeFixed, URL: byName, Origin: "your organisation's policy settings"}), "")
	in.User = "alice"
	in.KeyringWarning = "No system keyring is available: sessions are kept in memory only."
	in.Sessions = func(context.Context) ([]service.CachedSession, error) {
		return []service.CachedSession{{SessionRef: client.SessionRef{Server: env.URL, UserID: "alice"}}, {SessionRef: client.SessionRef{Server: env.URL, UserID: "bob"}}}, nil
	}
	in.Identities = func(context.Context) ([]service.Identity, error) {
		return []service.Identity{
			{Subject: "CN=alice", Store: "file", Status: service.CertBound, NotAfter: time.Now().Add(10 * 24 * time.Hour)},
			{Subject: "CN=bob", Store: "nss", Status: service.CertWrongAccount, Account: "bob", NotAfter: time.Now().Add(300 * 24 * time.Hour)},
		}, nil
	}
	rep := service.RunDoctor(context.Background(), in)
	wantCheck(t, rep, "proxy", service.CheckOK, byName, "organisation's policy")
	wantCheck(t, rep, "dns", service.CheckOK, "The name of the proxy, localhost, is found")
	wantCheck(t, rep, "tcp", service.CheckOK, "The proxy", "localhost:")
	wantCheck(t, rep, "tls", service.CheckOK, "issued by")
	wantCheck(t, rep, "gateway", service.CheckOK, "version")
	wantCheck(t, rep, "clock", service.CheckOK, "agrees")
	wantCheck(t, rep, "keyring", service.CheckWarning, "memory only")
	wantCheck(t, rep, "certificates", service.CheckWarning, "CN=bob (nss) belongs to bob", "Error 2035", "CN=alice (file) expires")
	wantCheck(t, rep, "sessions", service.CheckWarning, "bob", "Clear cached sessions")
	if n := tp.Tunnels(strings.TrimPrefix(env.URL, "https://")); n != 1 {
		t.Errorf("%d tunnels through tinyproxy, want 1", n)
	}
	if rep.Worst() != service.CheckWarning {
		t.Errorf("worst %s", rep.Worst())
	}
	data, err := json.Marshal(rep)
	if err != nil || !strings.Contains(string(data), `"id":"proxy"`) {
		t.Fatalf("json %s %v", data, err)
	}

	// The proxy goes away: the report says where the way breaks.
	tp.Stop()
	rep = service.RunDoctor(context.Background(), doctorInput(t, env, resolver(netconf.Config{Mode: netconf.ModeFixed, URL: tp.URL}), ""))
	wantCheck(t, rep, "tcp", service.CheckProblem, "The proxy", "cannot be reached")
	if rep.Worst() != service.CheckProblem {
		t.Errorf("worst %s", rep.Worst())
	}
}

func TestDoctorProblems(t *testing.T) {
	clk := servertest.NewClock()
	env := servertest.Start(t, servertest.WithNow(clk.Now))
	ic := proxytest.StartInterceptor(t, env.CAPool)
	ctx := context.Background()
	for _, c := range []struct {
		name      string
		in        service.DoctorInput
		id, state string
		parts     []string
	}{
		{"no server", service.DoctorInput{}, "server", service.CheckProblem, []string{"activation email"}},
		{"interception", doctorInput(t, env, resolver(netconf.Config{Mode: netconf.ModeFixed, URL: ic.URL}), ""), "tls", service.CheckProblem,
			[]string{"inspecting secure connections", ic.CAName, "ca_bundle"}},
		{"interception with the policy CA", doctorInput(t, env, resolver(netconf.Config{Mode: netconf.ModeFixed, URL: ic.URL}), ic.CAFile), "tls", service.CheckOK,
			[]string{ic.CAName}},
		{"PAC unavailable", doctorInput(t, env, resolver(netconf.Config{Mode: netconf.ModePAC, PACURL: "http://127.0.0.1:1/p.pac"}), ""), "proxy", service.CheckProblem,
			[]string{"could not be downloaded"}},
		{"proxy name unknown", doctorInput(t, env, resolver(netconf.Config{Mode: netconf.ModeFixed, URL: "http://no-such-proxy.invalid:3128"}), ""), "dns", service.CheckProblem,
			[]string{"no-such-proxy.invalid", "cannot be found"}},
		{"gateway by address", doctorInput(t, env, resolver(netconf.Config{Mode: netconf.ModeDirect}), ""), "dns", service.CheckSkipped,
			[]string{"no name to look up"}},
		{"direct", doctorInput(t, env, resolver(netconf.Config{Mode: netconf.ModeDirect, Origin: "your settings"}), ""), "proxy", service.CheckOK,
			[]string{"directly", "your settings"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantCheck(t, service.RunDoctor(ctx, c.in), c.id, c.state, c.parts...)
		})
	}
	// The gateway's clock runs ahead: the doctor warns with the difference.
	clk.Advance(3 * time.Minute)
	rep := service.RunDoctor(ctx, doctorInput(t, env, resolver(netconf.Config{Mode: netconf.ModeDirect}), ""))
	wantCheck(t, rep, "clock", service.CheckWarning, "3 minutes", "behind")
}

// TestDoctorApp joins the gateway's view of an application with this session's strength.
func TestDoctorApp(t *testing.T) {
	env := servertest.Start(t)
	org := env.CreateOrg(t, "Acme")
	const pw = "plaid tundra kettle origami lantern"
	user := env.CreateActiveUser(t, org, "bob@acme.example", "Bob", "User", pw, false)
	env.AddApp(t, "alpha", "Alpha Portal", "/demoapps/alpha", "# Terms", 0)
	env.AddApp(t, "vault", "Vault", "/demoapps/vault", "# Terms", 2)
	env.Subscribe(t, org, "alpha")
	env.Subscribe(t, org, "vault")
	in := doctorInput(t, env, resolver(netconf.Config{Mode: netconf.ModeDirect}), "")
	ctx := context.Background()

	in.App = "alpha"
	if a := service.RunDoctor(ctx, in).App; a == nil || a.CanOpen || !strings.Contains(a.Answer, "not logged in") {
		t.Fatalf("logged out: %+v", a)
	}
	c, _ := in.Anon()
	if _, err := c.Login(ctx, user, pw, ""); err != nil {
		t.Fatal(err)
	}
	in.Session = c
	for _, tc := range []struct {
		app     string
		canOpen bool
		parts   []string
	}{
		{"alpha", false, []string{"The gateway says:", "strength 1", "cannot be opened yet"}},
		{"Vault", false, []string{"needs 2", "cannot be opened yet"}},
		{"nosuch", false, []string{`no application "nosuch"`}},
	} {
		in.App = tc.app
		a := service.RunDoctor(ctx, in).App
		if a == nil || a.CanOpen != tc.canOpen {
			t.Fatalf("%s: %+v", tc.app, a)
		}
		for _, p := range tc.parts {
			if !strings.Contains(a.Answer, p) {
				t.Errorf("%s: %q lacks %q", tc.app, a.Answer, p)
			}
		}
	}

	// The organisation administrator accepts the terms and grants both: alpha opens, vault
	// needs a stronger login than a password.
	admin := env.CreateActiveUser(t, org, "ada@acme.example", "Ada", "Admin", pw, true)
	ac, _ := in.Anon()
	if _, err := ac.Login(ctx, admin, pw, ""); err != nil {
		t.Fatal(err)
	}
	for _, app := range []string{"alpha", "vault"} {
		terms, err := ac.Terms(ctx, org, app)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ac.AcceptTerms(ctx, org, app, terms.TermsVersionID); err != nil {
			t.Fatal(err)
		}
		req, err := c.RequestAccess(ctx, app)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ac.Decide(ctx, org, req.ID, "approve", ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		app     string
		canOpen bool
		part    string
	}{
		{"alpha", true, "you can open it now"},
		{"vault", false, "not strong enough"},
	} {
		in.App = tc.app
		a := service.RunDoctor(ctx, in).App
		if a == nil || a.CanOpen != tc.canOpen || a.Status != api.StatusAccessGranted || !strings.Contains(a.Answer, tc.part) {
			t.Errorf("%s: %+v", tc.app, a)
		}
	}
}
