package service_test

import (
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/config"
	"github.com/mag-desktop/magdesk/internal/secrets"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
	"github.com/mag-desktop/magdesk/internal/service"
)

const (
	pw1 = "plaid tundra kettle origami lantern"
	pw2 = "copper lantern harbour nine"
)

// computer is one computer's MAGDESK_HOME and keyring: each start of the app is a new Service
// over them, like the window and the command line are.
type computer struct {
	t        *testing.T
	env      *servertest.Env
	home     string
	keyring  secrets.Keyring
	userHome string
}

func newComputer(t *testing.T, env *servertest.Env) *computer {
	return &computer{t: t, env: env, home: t.TempDir(), keyring: secrets.Profile(secrets.NewMemory(), "sessions test"), userHome: t.TempDir()}
}

// twoAccounts is a magd with two accounts of one person, and a computer to use them from.
func twoAccounts(t *testing.T) (env *servertest.Env, u1, u2 string, m *computer) {
	env = servertest.Start(t)
	org := env.CreateOrg(t, "Acme Aerospace")
	u1 = env.CreateActiveUser(t, org, "jane@acme.example", "Jane", "Doe", pw1, false)
	u2 = env.CreateActiveUser(t, org, "jane@acme.example", "Jane", "Two", pw2, false)
	return env, u1, u2, newComputer(t, env)
}

// start is a start of the app (a window, or one command).
func (m *computer) start() *service.Service {
	return service.NewService(service.Options{Home: m.home, Keyring: m.keyring,
		Settings: config.Effective{Settings: config.Settings{RememberUserID: true}},
		Stores: certstore.InventoryOptions{Discover: certstore.DiscoverOptions{Home: m.userHome,
			XDGConfigHome: filepath.Join(m.userHome, ".config"), XDGDataHome: filepath.Join(m.userHome, ".local/share"), SystemDirs: []string{}}},
		Connect: func(string) (client.Options, error) {
			return client.Options{ServerURL: m.env.URL, CAPEM: m.env.CAPEM, Retries: -1, Timeout: 5 * time.Second}, nil
		}})
}

func (m *computer) login(svc *service.Service, req service.LoginRequest) api.Me {
	m.t.Helper()
	me, err := svc.Login(m.t.Context(), req)
	if err != nil {
		m.t.Fatalf("login %s: %v", req.UserID, err)
	}
	return me
}

// token is the token cached for user.
func (m *computer) token(user string) string {
	m.t.Helper()
	srv, _ := client.NormalizeServerURL(m.env.URL)
	sess, err := client.NewSessionStore(m.keyring).Load(srv, user)
	if err != nil {
		m.t.Fatalf("no session of %s cached: %v", user, err)
	}
	return sess.Token
}

// alive reports whether the server still accepts token.
func (m *computer) alive(token string) bool {
	m.t.Helper()
	status, _ := m.env.Do(m.t, m.env.Client(m.t, nil), "GET", api.PathMe, token, nil, nil)
	if status != http.StatusOK && status != http.StatusUnauthorized {
		m.t.Fatalf("GET /v1/me: %d", status)
	}
	return status == http.StatusOK
}

func pendingOf(t *testing.T, svc *service.Service) []service.CachedSession {
	t.Helper()
	list, err := svc.CachedSessions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []service.CachedSession
	for _, s := range list {
		if s.RevokePending {
			out = append(out, s)
		}
	}
	return out
}

// A login picks its certificate as asked: none, the user's own (auto), or one by SHA-256.
func TestLoginCertificateChoice(t *testing.T) {
	env := servertest.Start(t)
	org := env.CreateOrg(t, "Acme Aerospace")
	u1 := env.CreateActiveUser(t, org, "jane@acme.example", "Jane", "Doe", pw1, false)
	m := newComputer(t, env)
	svc := m.start()
	m.login(svc, service.LoginRequest{UserID: u1, Password: pw1, NoCertificate: true})
	out, err := svc.RequestIdentity(t.Context(), service.RequestOptions{Label: "test"})
	if err != nil {
		t.Fatal(err)
	}
	fp := string(out.Identity.SHA256)
	for _, tc := range []struct {
		name    string
		req     service.LoginRequest
		want    string
		wantErr bool
	}{
		{"none", service.LoginRequest{NoCertificate: true}, "", false},
		{"auto: the user's own", service.LoginRequest{}, fp, false},
		{"by SHA-256", service.LoginRequest{CertSHA256: fp}, fp, false},
		{"by SHA-256, even with none asked otherwise", service.LoginRequest{CertSHA256: fp, NoCertificate: true}, fp, false},
		{"a SHA-256 not on this computer", service.LoginRequest{CertSHA256: strings.Repeat("ab", 32)}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.UserID, tc.req.Password = u1, pw1
			me, err := m.start().Login(t.Context(), tc.req)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("logged in with %+v", me.Session)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if me.Session.CertSHA256 != tc.want {
				t.Fatalf("session certificate %q, want %q", me.Session.CertSHA256, tc.want)
			}
		})
	}
}

// Logging in again ends the session it replaces on the server, in both front ends; the
// account is current on its server, and one session is cached for it.
func TestLoginEndsTheReplacedSession(t *testing.T) {
	_, u1, u2, m := twoAccounts(t)
	m.login(m.start(), service.LoginRequest{UserID: u1, Password: pw1})
	first := m.token(u1)
	m.login(m.start(), service.LoginRequest{UserID: u2, Password: pw2})
	svc := m.start()
	m.login(svc, service.LoginRequest{UserID: u1, Password: pw1})
	if m.alive(first) {
		t.Fatal("the replaced session still works on the server")
	}
	if !m.alive(m.token(u1)) || !m.alive(m.token(u2)) {
		t.Fatal("a cached session was ended")
	}
	list, err := m.start().CachedSessions(t.Context())
	if err != nil || len(list) != 2 {
		t.Fatalf("cached sessions %+v, %v", list, err)
	}
	for _, s := range list {
		if s.Current != (s.UserID == u1) || s.Expired || s.RevokePending || s.DisplayName == "" {
			t.Errorf("cached session %+v", s)
		}
	}
	if got := m.start().CurrentAccount(); got != u1 {
		t.Fatalf("current account %q", got)
	}
}

// Switching to a cached account resumes its session; an unknown one and one the server ended
// are refused, and the ended one is forgotten here.
func TestSwitchSession(t *testing.T) {
	env, u1, u2, m := twoAccounts(t)
	u3 := env.CreateActiveUser(t, env.CreateOrg(t, "Acme Two"), "jane@acme.example", "Jane", "Three", pw2, false)
	for _, l := range []struct{ id, pw string }{{u3, pw2}, {u1, pw1}, {u2, pw2}} {
		m.login(m.start(), service.LoginRequest{UserID: l.id, Password: l.pw})
	}
	ended := m.start()
	if _, err := ended.SwitchSession(t.Context(), u3); err != nil {
		t.Fatal(err)
	}
	if _, err := ended.Logout(t.Context()); err != nil { // as if from another window: the cache keeps a dead token
		t.Fatal(err)
	}
	srv, _ := client.NormalizeServerURL(env.URL)
	if err := client.NewSessionStore(m.keyring).Save(client.Session{Server: srv, UserID: u3, Token: "mst_dead"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		user    string
		code    service.Code
		current string
		cached  bool
	}{
		{"a cached account", u1, "", u1, true},
		{"back to the other", u2, "", u2, true},
		{"an account never logged in here", "nobody_9", service.CodeNoSavedSession, u2, false},
		{"an account the server logged out", u3, "", u2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := m.start()
			me, err := svc.SwitchSession(t.Context(), tc.user)
			switch {
			case tc.user == u3:
				if !client.IsUnauthenticated(err) {
					t.Fatalf("switch to an ended session: %v", err)
				}
			case tc.code != "":
				if service.CodeOf(err) != tc.code {
					t.Fatalf("error %v, want %s", err, tc.code)
				}
			case err != nil || me.Account.UserID != tc.user:
				t.Fatalf("switch: %+v %v", me.Account, err)
			}
			if got := m.start().CurrentAccount(); got != tc.current {
				t.Fatalf("current account %q, want %q", got, tc.current)
			}
			list, _ := m.start().CachedSessions(t.Context())
			found := false
			for _, s := range list {
				found = found || s.UserID == tc.user
			}
			if found != tc.cached {
				t.Fatalf("cached sessions %+v", list)
			}
		})
	}
}

// Logging out while the server is down logs out here at once and keeps the still-valid token
// aside; it is ended at the next contact with the server, whichever comes first.
func TestLogoutWhileTheServerIsDown(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flush func(t *testing.T, m *computer, u1, u2 string)
	}{
		{"the next login", func(t *testing.T, m *computer, u1, _ string) {
			m.login(m.start(), service.LoginRequest{UserID: u1, Password: pw1})
		}},
		{"the next start of another account's session", func(t *testing.T, m *computer, _, u2 string) {
			if _, err := m.start().SwitchSession(t.Context(), u2); err != nil {
				t.Fatal(err)
			}
		}},
		{"logging out again", func(t *testing.T, m *computer, _, _ string) {
			rep, err := m.start().Logout(t.Context())
			if err != nil || rep.EndedEarlier != 1 || rep.UserID != "" {
				t.Fatalf("logout again: %+v %v", rep, err)
			}
		}},
		{"clearing the cached sessions", func(t *testing.T, m *computer, u1, _ string) {
			rep, err := m.start().ClearSessions(t.Context())
			if err != nil || rep.Revoked() != 2 || rep.Failed() != 0 {
				t.Fatalf("clear: %+v %v", rep, err)
			}
			for _, s := range rep.Sessions {
				if s.RevokePending != (s.UserID == u1) {
					t.Errorf("cleared %+v", s)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, u1, u2, m := twoAccounts(t)
			m.login(m.start(), service.LoginRequest{UserID: u2, Password: pw2})
			svc := m.start()
			m.login(svc, service.LoginRequest{UserID: u1, Password: pw1})
			token := m.token(u1)

			env.Stop(t)
			rep, err := svc.Logout(t.Context())
			if service.CodeOf(err) != service.CodeLogoutPending || !rep.RevokePending || rep.UserID != u1 {
				t.Fatalf("logout with the server down: %+v %v", rep, err)
			}
			if !strings.Contains(service.Message(err), "logged out on this computer") {
				t.Errorf("logout says %q", service.Message(err))
			}
			// Logged out here: not current, never resumed, by this start or the next.
			if _, err := svc.Me(t.Context()); service.CodeOf(err) != service.CodeNotLoggedIn {
				t.Fatalf("still logged in: %v", err)
			}
			again := m.start()
			if again.CurrentAccount() != "" {
				t.Fatalf("%s is still current", again.CurrentAccount())
			}
			if _, err := again.ResumeSession(t.Context()); !errors.Is(err, service.ErrNoCachedSession) {
				t.Fatalf("resumed: %v", err)
			}
			if _, err := again.SwitchSession(t.Context(), u1); service.CodeOf(err) != service.CodeNoSavedSession {
				t.Fatalf("switch to the logged-out account: %v", err)
			}
			if p := pendingOf(t, again); len(p) != 1 || p[0].UserID != u1 {
				t.Fatalf("pending: %+v", p)
			}

			env.Restart(t)
			if !m.alive(token) {
				t.Fatal("the token died with the restart: the test proves nothing")
			}
			tc.flush(t, m, u1, u2)
			if m.alive(token) {
				t.Fatal("the logged-out session still works on the server")
			}
			if p := pendingOf(t, m.start()); len(p) != 0 {
				t.Fatalf("still pending: %+v", p)
			}
		})
	}
}

// A login whose session the keyring refuses fails, and leaves no account current.
func TestLoginWhoseSessionCannotBeKept(t *testing.T) {
	env := servertest.Start(t)
	org := env.CreateOrg(t, "Acme Aerospace")
	u1 := env.CreateActiveUser(t, org, "jane@acme.example", "Jane", "Doe", pw1, false)
	m := newComputer(t, env)
	m.keyring = refusing{m.keyring}
	svc := m.start()
	_, err := svc.Login(t.Context(), service.LoginRequest{UserID: u1, Password: pw1})
	if service.CodeOf(err) != service.CodeSessionNotSaved {
		t.Fatalf("login: %v", err)
	}
	if svc.CurrentAccount() != "" {
		t.Fatal("an account is current")
	}
	if _, err := svc.Me(t.Context()); service.CodeOf(err) != service.CodeNotLoggedIn {
		t.Fatalf("logged in: %v", err)
	}
}

// refusing is a keyring that refuses sessions as too big.
type refusing struct{ secrets.Keyring }

func (r refusing) Set(service, key, secret string) error {
	if strings.HasPrefix(key, "session:") {
		return secrets.ErrTooBig
	}
	return r.Keyring.Set(service, key, secret)
}
