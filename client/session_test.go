package client

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/mag-desktop/magdesk/internal/secrets"
)

func mockStore(t *testing.T) *SessionStore {
	t.Helper()
	keyring.MockInit()
	s := OpenSessionStore()
	if s.InMemory() {
		t.Fatalf("mock keyring not used: %s", s.Warning())
	}
	return s
}

func TestSessionStoreAccountsSideBySide(t *testing.T) {
	s := mockStore(t)
	a := Session{Server: "https://gw.example:8443", UserID: "jdoe_1", Token: "mst_a", ExpiresAt: time.Now().Add(time.Hour)}
	b := Session{Server: "https://gw.example:8443", UserID: "jdoe_2", Token: "mst_b"}
	other := Session{Server: "https://other.example", UserID: "jdoe_1", Token: "mst_c"}
	for _, sess := range []Session{a, b, other} {
		if err := s.Save(sess); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []Session{a, b, other} {
		got, err := s.Load(want.Server, want.UserID)
		if err != nil || got.Token != want.Token {
			t.Fatalf("Load(%s,%s) = %+v, %v; want token %s", want.Server, want.UserID, got, err, want.Token)
		}
	}
	// User ids are matched without regard to case, as the server does.
	if got, err := s.Load(a.Server, "JDOE_1"); err != nil || got.Token != "mst_a" {
		t.Fatalf("case-insensitive load: %+v, %v", got, err)
	}
	// Saving again replaces, never duplicates.
	a.Token = "mst_a2"
	if err := s.Save(a); err != nil {
		t.Fatal(err)
	}
	refs, err := s.List()
	if err != nil || len(refs) != 3 {
		t.Fatalf("List = %+v, %v; want 3 entries", refs, err)
	}
	for _, r := range refs {
		if r.UserID == "" || r.Server == "" {
			t.Fatalf("bad index entry %+v", r)
		}
	}
	if got, _ := s.Load(a.Server, a.UserID); got.Token != "mst_a2" {
		t.Fatalf("replaced token not returned: %q", got.Token)
	}
	// The index holds no token.
	idx, err := keyring.Get(KeyringService, indexKey)
	if err != nil || strings.Contains(idx, "mst_") {
		t.Fatalf("index %q (err %v) must exist and hold no token", idx, err)
	}
	if err := s.Delete(b.Server, b.UserID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(b.Server, b.UserID); !errors.Is(err, ErrNoSession) {
		t.Fatalf("deleted session still loads: %v", err)
	}
	if refs, _ := s.List(); len(refs) != 2 {
		t.Fatalf("after delete List = %+v", refs)
	}
	if err := s.Save(Session{Server: "https://x", UserID: "u"}); err == nil {
		t.Fatal("a session without a token was saved")
	}
}

func TestSessionStoreFallsBackToMemory(t *testing.T) {
	keyring.MockInitWithError(errors.New("org.freedesktop.secrets was not provided by any .service files"))
	s := OpenSessionStore()
	if !s.InMemory() {
		t.Fatal("store claims a keyring that fails")
	}
	if w := s.Warning(); !strings.Contains(w, "not available") || !strings.Contains(w, "memory for this run") {
		t.Fatalf("warning does not say why and what: %q", w)
	}
	sess := Session{Server: "https://gw", UserID: "u1", Token: "mst_mem"}
	if err := s.Save(sess); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load("https://gw", "u1"); err != nil || got.Token != "mst_mem" {
		t.Fatalf("in-memory Load = %+v, %v", got, err)
	}
	// A second store (the next run) sees nothing: nothing was written anywhere.
	if _, err := OpenSessionStore().Load("https://gw", "u1"); !errors.Is(err, ErrNoSession) {
		t.Fatalf("session survived the run: %v", err)
	}
}

func TestClearSessionsWithoutServer(t *testing.T) {
	s := mockStore(t)
	for _, u := range []string{"a", "b"} {
		if err := s.Save(Session{Server: "https://127.0.0.1:1", UserID: u, Token: "mst_" + u}); err != nil {
			t.Fatal(err)
		}
	}
	connect := func(server string) (*Client, error) {
		return New(Options{ServerURL: server, Timeout: 2 * time.Second, Retries: -1})
	}
	rep, err := s.ClearSessions(context.Background(), connect)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Sessions) != 2 || rep.Revoked() != 0 || rep.LocalOnly() != 2 || rep.Failed() != 0 {
		t.Fatalf("report %+v", rep)
	}
	for _, c := range rep.Sessions {
		if !strings.Contains(c.Note, "connection refused") {
			t.Fatalf("note does not say why it was not revoked: %q", c.Note)
		}
	}
	if refs, _ := s.List(); len(refs) != 0 {
		t.Fatalf("sessions left after clear: %+v", refs)
	}
	for _, u := range []string{"a", "b"} {
		if _, err := keyring.Get(KeyringService, sessionKey("https://127.0.0.1:1", u)); !errors.Is(err, keyring.ErrNotFound) {
			t.Fatalf("secret of %s still in the keyring: %v", u, err)
		}
	}
}

// TestRealKeyring runs against the real Secret Service (CI: gnome-keyring in dbus-run-session).
// It re-runs this test binary so that no keyring.MockInit of another test is in effect.
func TestRealKeyring(t *testing.T) {
	if os.Getenv("MAGDESK_REAL_KEYRING") != "1" {
		t.Skip("set MAGDESK_REAL_KEYRING=1 with an unlocked Secret Service to run")
	}
	if _, err := exec.LookPath("secret-tool"); err != nil {
		t.Skip("secret-tool (libsecret-tools) not installed")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRealKeyringChild$", "-test.v")
	// A service of its own: other packages' tests use the same Secret Service at the same time.
	cmd.Env = append(os.Environ(), "MAGDESK_REAL_KEYRING_CHILD=1", secrets.ProfileEnv+"="+realTestProfile)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestRealKeyringChild") {
		t.Fatalf("real keyring run failed: %v\n%s", err, out)
	}
}

const (
	realTestProfile = "client tests"
	realTestService = KeyringService + " [" + realTestProfile + "]"
)

func TestRealKeyringChild(t *testing.T) {
	if os.Getenv("MAGDESK_REAL_KEYRING_CHILD") != "1" {
		t.Skip("run by TestRealKeyring")
	}
	s := OpenSessionStore()
	if s.InMemory() {
		t.Fatalf("real keyring not available: %s", s.Warning())
	}
	server := "https://realkeyring.test:8443"
	sess := Session{Server: server, UserID: "kr_user", Token: "mst_realkeyring_secret_value"}
	if err := s.Save(sess); err != nil {
		t.Fatal(err)
	}
	// An independent reader finds the secret where we said it is.
	out, err := exec.Command("secret-tool", "lookup", "service", realTestService, "username", sessionKey(server, "kr_user")).Output()
	if err != nil || !strings.Contains(string(out), sess.Token) {
		t.Fatalf("secret-tool lookup: %q, %v", out, err)
	}
	got, err := OpenSessionStore().Load(server, "kr_user")
	if err != nil || got.Token != sess.Token {
		t.Fatalf("Load from a new store = %+v, %v", got, err)
	}
	rep, err := s.ClearSessions(context.Background(), func(string) (*Client, error) {
		return nil, errors.New("no server in this test")
	})
	if err != nil || rep.Failed() != 0 || rep.LocalOnly() == 0 {
		t.Fatalf("clear: %+v, %v", rep, err)
	}
	out, _ = exec.Command("secret-tool", "search", "--all", "service", realTestService).CombinedOutput()
	for _, leak := range []string{sess.Token, sessionKeyPrefix, indexKey} {
		if strings.Contains(string(out), leak) {
			t.Fatalf("after ClearSessions the keyring still holds %q:\n%s", leak, out)
		}
	}
}

// racingKeyring simulates another process (the GUI) rewriting the index right after our first
// write of it, without our entry.
type racingKeyring struct {
	secrets.Keyring
	raced bool
}

func (r *racingKeyring) Set(service, user, secret string) error {
	if err := r.Keyring.Set(service, user, secret); err != nil {
		return err
	}
	if user == indexKey && !r.raced {
		r.raced = true
		return r.Keyring.Set(service, indexKey, `[{"server":"https://gw","user_id":"gui_user"}]`)
	}
	return nil
}

func TestSaveSurvivesAConcurrentIndexWriter(t *testing.T) {
	keyring.MockInit()
	s := NewSessionStore(&racingKeyring{Keyring: secrets.System{}})
	if err := s.Save(Session{Server: "https://gw", UserID: "cli_user", Token: "mst_cli"}); err != nil {
		t.Fatal(err)
	}
	refs, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, r := range refs {
		users = append(users, r.UserID)
	}
	if len(users) != 2 || !strings.Contains(strings.Join(users, ","), "cli_user") || !strings.Contains(strings.Join(users, ","), "gui_user") {
		t.Fatalf("index after the race: %v", users)
	}
}
