package cli

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
	"github.com/mag-desktop/magdesk/internal/service"
)

// Two accounts of one person on one server, side by side: login makes an account current,
// sessions use switches back without a password, a dead session is forgotten, and an account
// mismatch (a token filed under the wrong user) says to clear cached sessions.
func TestAccountsSideBySide(t *testing.T) {
	isolate(t)
	env := servertest.Start(t)
	org := env.CreateOrg(t, "Acme Aerospace")
	const pw1, pw2 = "plaid tundra kettle origami lantern", "copper lantern harbour nine"
	u1 := env.CreateActiveUser(t, org, "bob@acme.example", "Bob", "One", pw1, false)
	u2 := env.CreateActiveUser(t, org, "bob@acme.example", "Bob", "Two", pw2, true)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, env.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	store := client.NewSessionStore(nil)
	cli := func(stdin string, args ...string) result {
		return runCLI(t, store, stdin, append([]string{"--server", env.URL, "--ca", ca}, args...)...)
	}
	meID := func() string {
		t.Helper()
		r := cli("", "me", "--json")
		var me api.Me
		if r.code != ExitOK || json.Unmarshal([]byte(r.out), &me) != nil {
			t.Fatalf("me: exit %d %s %s", r.code, r.out, r.err)
		}
		return me.Account.UserID
	}
	for _, l := range []struct{ id, pw string }{{u1, pw1}, {u2, pw2}} {
		if r := cli(l.pw+"\n", "login", "--user", l.id, "--password-stdin"); r.code != ExitOK {
			t.Fatalf("login %s: %s", l.id, r.err)
		}
	}
	if got := meID(); got != u2 {
		t.Fatalf("current after the second login is %s", got)
	}
	if r := cli("", "sessions", "use", u1); r.code != ExitOK || !strings.Contains(r.out, "Now acting as "+u1) {
		t.Fatalf("sessions use: %d %q %q", r.code, r.out, r.err)
	}
	if got := meID(); got != u1 {
		t.Fatalf("current after sessions use is %s", got)
	}
	if r := cli("", "sessions", "use", "nobody_9"); r.code != ExitError || !strings.Contains(r.err, "No saved session for nobody_9") {
		t.Fatalf("sessions use of an unknown account: %d %q", r.code, r.err)
	}

	// A token filed under the wrong account: the server refuses to act as someone else.
	server, _ := client.NormalizeServerURL(env.URL)
	s2, err := store.Load(server, u2)
	if err != nil {
		t.Fatal(err)
	}
	s2.UserID = u1
	if err := store.Save(s2); err != nil {
		t.Fatal(err)
	}
	if r := cli("", "apps"); r.code != ExitError || !strings.Contains(r.err, "magdesk sessions clear") {
		t.Fatalf("apps with a foreign token: %d %q", r.code, r.err)
	}

	// Logging in again replaces the foreign token.
	if r := cli(pw1+"\n", "login", "--user", u1, "--password-stdin"); r.code != ExitOK {
		t.Fatalf("login again: %q", r.err)
	}
	if got := meID(); got != u1 {
		t.Fatalf("after logging in again: %s", got)
	}

	// Logged out elsewhere: the dead session is forgotten after the first failure.
	c, err := client.New(client.Options{ServerURL: env.URL, CAPEM: env.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	s1, _ := store.Load(server, u1)
	c.SetSession(u1, s1.Token)
	if err := c.Logout(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r := cli("", "me"); r.code != ExitError || !strings.Contains(r.err, "Log in again") {
		t.Fatalf("me with a revoked session: %d %q", r.code, r.err)
	}
	if r := cli("", "me"); r.code != ExitError || !strings.Contains(r.err, "No saved session for "+u1) {
		t.Fatalf("me after the dead session was forgotten: %d %q", r.code, r.err)
	}
	// A session past its absolute expiry is refused here, without asking the server. (Logging
	// in again as the current user needs no --user.)
	if r := cli(pw1+"\n", "login", "--password-stdin"); r.code != ExitOK || !strings.Contains(r.out, "Logged in as "+u1) {
		t.Fatalf("login: %q", r.err)
	}
	s1, _ = store.Load(server, u1)
	s1.ExpiresAt = time.Now().Add(-time.Minute)
	if err := store.Save(s1); err != nil {
		t.Fatal(err)
	}
	if r := cli("", "apps"); r.code != ExitError || !strings.Contains(r.err, "has expired") {
		t.Fatalf("apps with an expired session: %d %q", r.code, r.err)
	}
	if _, err := store.Load(server, u1); err == nil {
		t.Fatal("the expired session is still cached")
	}
	if r := cli("", "sessions", "clear"); r.code != ExitOK {
		t.Fatalf("clear: %q", r.err)
	}
	r := cli("", "sessions", "list", "--json")
	var rows []service.CachedSession
	if r.code != ExitOK || json.Unmarshal([]byte(r.out), &rows) != nil || len(rows) != 0 {
		t.Fatalf("sessions left: %s", r.out)
	}
}

// Logout with the gateway down logs out here at once and says the session is ended at the
// next contact; sessions list shows it meanwhile, and logout once the gateway is back ends it.
func TestLogoutWhileTheServerIsDown(t *testing.T) {
	isolate(t)
	env := servertest.Start(t)
	org := env.CreateOrg(t, "Acme Aerospace")
	const pw = "plaid tundra kettle origami lantern"
	u1 := env.CreateActiveUser(t, org, "bob@acme.example", "Bob", "One", pw, false)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, env.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MAGDESK_TIMEOUT", "3s")
	store := client.NewSessionStore(nil)
	server, _ := client.NormalizeServerURL(env.URL)
	var token string
	alive := func() bool {
		status, _ := env.Do(t, env.Client(t, nil), "GET", api.PathMe, token, nil, nil)
		return status == http.StatusOK
	}
	for _, step := range []struct {
		name, stdin string
		args        []string
		code        int
		want        string // in stdout+stderr
		then        func(t *testing.T, out string)
	}{
		{"login", pw + "\n", []string{"login", "--user", u1, "--password-stdin"}, ExitOK, "Logged in as " + u1, func(t *testing.T, _ string) {
			s, err := store.Load(server, u1)
			if err != nil {
				t.Fatal(err)
			}
			token = s.Token
			env.Stop(t)
		}},
		{"logout, the gateway down", "", []string{"logout"}, ExitError, u1 + " is logged out on this computer, but the gateway could not be told", nil},
		{"logged out at once", "", []string{"me"}, ExitError, "You are not logged in", nil},
		{"the session waits to be ended", "", []string{"sessions", "list", "--json"}, ExitOK, `"revoke_pending": true`, func(t *testing.T, out string) {
			var rows []service.CachedSession
			if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 || rows[0].UserID != u1 || rows[0].Current {
				t.Fatalf("sessions list: %v %s", err, out)
			}
			env.Restart(t)
			if !alive() {
				t.Fatal("the session did not outlive the restart: the test proves nothing")
			}
		}},
		{"logout again, the gateway back", "", []string{"logout"}, ExitOK, "1 session(s) logged out earlier are now ended on the server too", func(t *testing.T, _ string) {
			if alive() {
				t.Fatal("the logged-out session still works on the server")
			}
		}},
		{"nothing left", "", []string{"logout"}, ExitOK, "Not logged in; nothing to do", nil},
		{"nothing listed", "", []string{"sessions", "list"}, ExitOK, "No cached sessions", nil},
	} {
		r := runCLI(t, store, step.stdin, append([]string{"--server", env.URL, "--ca", ca}, step.args...)...)
		if r.code != step.code || !strings.Contains(r.out+r.err, step.want) {
			t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s\nwant exit %d and %q", step.name, r.code, r.out, r.err, step.code, step.want)
		}
		if step.then != nil {
			step.then(t, r.out)
		}
	}
}
