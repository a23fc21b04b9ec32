package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/secrets"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// magdeskBinary builds cmd/magdesk once per test binary (it links Fyne: slow the first time).
func magdeskBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "magdesk-cli-e2e")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "magdesk")
		cmd := exec.Command("go", "build", "-o", binary, "./cmd/magdesk")
		cmd.Dir = "../.."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/magdesk: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// user is one person at the keyboard: a MAGDESK_HOME of their own (the keyring is shared).
type user struct {
	t        *testing.T
	bin      string
	home     string
	baseArgs []string
	env      []string
}

type res struct {
	code     int
	out, err string
}

func (u *user) run(stdin string, args ...string) res {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, u.bin, append(append([]string{}, u.baseArgs...), args...)...)
	cmd.Env = append(append(os.Environ(), "MAGDESK_HOME="+u.home, secrets.ProfileEnv+"="+e2eProfile), u.env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		u.t.Fatalf("magdesk %v: %v", args, err)
	}
	if strings.Contains(errb.String(), "goroutine ") {
		u.t.Fatalf("magdesk %v panicked:\n%s", args, errb.String())
	}
	return res{code, out.String(), errb.String()}
}

// ok runs a command that must succeed.
func (u *user) ok(stdin string, args ...string) string {
	u.t.Helper()
	r := u.run(stdin, args...)
	if r.code != 0 {
		u.t.Fatalf("magdesk %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.out, r.err)
	}
	return r.out
}

// fails runs a command that must fail with code and a message containing want.
func (u *user) fails(code int, want, stdin string, args ...string) {
	u.t.Helper()
	r := u.run(stdin, args...)
	if r.code != code || !strings.Contains(r.err, want) {
		u.t.Fatalf("magdesk %v: exit %d, stderr %q; want exit %d and %q", args, r.code, r.err, code, want)
	}
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return v
}

func oathtool(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	out, err := exec.Command("oathtool", "--totp", "-b", secret, "--now", at.UTC().Format("2006-01-02 15:04:05 UTC")).Output()
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// e2eService keeps this test's sessions apart from those of other packages' tests, which use
// the same Secret Service at the same time (and would be cleared by sessions clear).
const (
	e2eProfile = "cli e2e"
	e2eService = client.KeyringService + " [" + e2eProfile + "]"
)

var linkRE = regexp.MustCompile(`https://\S+/activate#token=\S+`)

// Every command of the binary, which links Fyne, runs without Fyne's complaint about the C
// locale on stderr, whatever the locale (C.UTF-8 is the default of many containers).
func TestBinaryQuietUnderCLocale(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not installed")
	}
	bin := magdeskBinary(t)
	var base []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); !slices.Contains([]string{"LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE"}, name) {
			base = append(base, kv)
		}
	}
	for _, locale := range [][]string{{"LANG=C.UTF-8"}, {"LC_ALL=C.utf8", "LANG=de_DE.UTF-8"}, {"LANG=C"}, nil, {"LANG=en_GB.UTF-8"}} {
		cmd := exec.Command(bin, "help")
		cmd.Env = append(append(slices.Clip(base), "MAGDESK_HOME="+t.TempDir()), locale...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || !strings.Contains(string(out), "commands:") || strings.Contains(stderr.String(), "Fyne") {
			t.Errorf("%v magdesk help: %v, stdout %d bytes, stderr %q; want the usage and nothing from Fyne", locale, err, len(out), stderr.String())
		}
	}
}

// TestCommandLineAsAUser drives the built magdesk binary through its commands as a user would,
// against a real magd over TLS, with sessions in the real Secret Service.
func TestCommandLineAsAUser(t *testing.T) {
	if os.Getenv("MAGDESK_REAL_KEYRING") != "1" {
		t.Skip("needs MAGDESK_REAL_KEYRING=1 and an unlocked Secret Service: each command is a new process, so sessions must persist in the keyring")
	}
	for _, tool := range []string{"oathtool", "secret-tool", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	bin := magdeskBinary(t)
	clk := servertest.NewClock()
	env := servertest.Start(t, servertest.WithNow(clk.Now))
	org := env.CreateOrg(t, "Acme Aerospace")
	const adminPW, userPW = "correct horse battery staple admin", "plaid tundra kettle origami lantern"
	adminID := env.CreateActiveUser(t, org, "ada@acme.example", "Ada", "Admin", adminPW, true)
	userID := env.CreateUser(t, org, "bob@acme.example", "Bob", "User", false)
	env.AddApp(t, "alpha", "Alpha Portal", "/demoapps/alpha", "# Alpha terms\n\nBe nice.", 0)
	env.Subscribe(t, org, "alpha")

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, env.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	answers := filepath.Join(t.TempDir(), "answers.json")
	blob, _ := json.Marshal(servertest.Answers)
	if err := os.WriteFile(answers, blob, 0o600); err != nil {
		t.Fatal(err)
	}
	bob := &user{t: t, bin: bin, home: t.TempDir(), baseArgs: []string{"--server", env.URL, "--ca", caFile}}
	ada := &user{t: t, bin: bin, home: t.TempDir(), baseArgs: []string{"--server", env.URL, "--ca", caFile}}

	// Activation from the link in the email, as pasted from a mail client (angle brackets).
	var link string
	for _, m := range env.Mails(t) {
		if strings.Contains(m.Body, userID) {
			link = linkRE.FindString(m.Body)
		}
	}
	if link == "" {
		t.Fatal("no activation link in the Maildir")
	}
	bob.fails(2, "not a terminal: pass --password-stdin", "", "activate", link, "--answers", answers)
	bob.fails(1, "exactly one token", "", "activate", link+"&junk", "--password-stdin", "--answers", answers)
	bob.fails(1, "Choose another password", "0000000000000000\n", "activate", link, "--password-stdin", "--answers", answers)
	out := bob.ok(userPW+"\n", "activate", "<"+link+">", "--password-stdin", "--answers", answers)
	if !strings.Contains(out, "Your account "+userID+" is active") {
		t.Fatalf("activate said %q", out)
	}
	bob.fails(1, "already used", userPW+"\n", "activate", link, "--password-stdin", "--answers", answers)

	// Log in, Me, applications.
	bob.fails(1, "user ID or password is wrong", "not the password\n", "login", "--user", userID, "--password-stdin")
	bob.ok(userPW+"\n", "login", "--user", userID, "--password-stdin")
	bob.baseArgs = nil // from now on the server and its CA are remembered from the login
	me := decode[api.Me](t, bob.ok("", "me", "--json"))
	if me.Account.UserID != userID || me.Account.Org.Name != "Acme Aerospace" {
		t.Fatalf("me = %+v", me)
	}
	apps := decode[[]api.Application](t, bob.ok("", "--json", "apps"))
	if len(apps) != 1 || apps[0].AppID != "alpha" || apps[0].Status != api.StatusPendingTerms {
		t.Fatalf("apps = %+v", apps)
	}
	bob.fails(1, "has not accepted the Terms and Conditions", "", "apps", "request", "alpha")

	// The org admin, on her own MAGDESK_HOME, reads and accepts the terms.
	ada.ok(adminPW+"\n", "login", "--user", adminID, "--password-stdin")
	ada.baseArgs = nil
	if out := ada.ok("", "admin", "terms", "alpha"); !strings.Contains(out, "Be nice.") || !strings.Contains(out, "Not accepted yet") {
		t.Fatalf("admin terms: %q", out)
	}
	bob.fails(1, "Only an organisation administrator can", "", "admin", "accept-terms", "alpha")
	ada.ok("", "admin", "accept-terms", "alpha")
	bob.ok("", "apps", "request", "alpha")
	reqs := decode[[]api.AccessRequest](t, ada.ok("", "admin", "requests", "--json"))
	if len(reqs) != 1 || reqs[0].UserID != userID {
		t.Fatalf("requests = %+v", reqs)
	}
	ada.fails(2, "approve or deny", "", "admin", "decide", reqs[0].ID, "maybe")
	ada.ok("", "admin", "decide", reqs[0].ID, "approve")
	apps = decode[[]api.Application](t, bob.ok("", "apps", "--json"))
	if apps[0].Status != api.StatusAccessGranted {
		t.Fatalf("after approval: %+v", apps)
	}
	launch := strings.TrimSpace(bob.ok("", "apps", "open", "alpha", "--print"))
	hc := env.Client(t, nil)
	resp, err := hc.Get(launch)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("launch URL %s answered %d, want 303", launch, resp.StatusCode)
	}

	// Without --print the link goes to the desktop's opener (xdg-open here), never to stdout.
	bin2 := t.TempDir()
	opened := filepath.Join(bin2, "opened")
	if err := os.WriteFile(filepath.Join(bin2, "xdg-open"), []byte("#!/bin/sh\nprintf '%s' \"$1\" > "+opened+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	bob.env = []string{"PATH=" + bin2 + string(os.PathListSeparator) + os.Getenv("PATH")}
	if out := bob.ok("", "apps", "open", "alpha"); !strings.Contains(out, "Opened alpha in your browser") || strings.Contains(out, "https://") {
		t.Fatalf("apps open said %q", out)
	}
	bob.env = nil
	var url []byte
	for i := 0; i < 50 && len(url) == 0; i++ { // the opener runs detached
		url, _ = os.ReadFile(opened)
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.HasPrefix(string(url), env.URL+"/launch/") {
		t.Fatalf("xdg-open got %q", url)
	}

	// OTP: enrol, verify with oathtool's code, then logins need a code.
	out = bob.ok("", "otp", "enroll")
	if !strings.Contains(out, "otpauth://totp/") || !strings.Contains(out, "▀") && !strings.Contains(out, "█") {
		t.Fatalf("otp enroll shows no URI or QR code:\n%s", out)
	}
	secret := regexp.MustCompile(`Secret:\s+([A-Z2-7]+)`).FindStringSubmatch(out)
	if secret == nil {
		t.Fatalf("no secret in %q", out)
	}
	bob.fails(1, "one-time code is wrong", "", "otp", "verify", "000000")
	bob.ok("", "otp", "verify", oathtool(t, secret[1], clk.Now()))
	bob.ok("", "logout")
	bob.fails(1, "not logged in", "", "me")
	bob.fails(2, "pass --otp CODE", userPW+"\n", "login", "--user", userID, "--password-stdin")
	clk.Advance(30 * time.Second)
	bob.ok(userPW+"\n", "login", "--user", userID, "--password-stdin", "--otp", oathtool(t, secret[1], clk.Now()))
	if me := decode[api.Me](t, bob.ok("", "me", "--json")); me.Session.AAL != 2 {
		t.Fatalf("session after OTP login: %+v", me.Session)
	}

	// Two accounts side by side in the keyring; clearing revokes both on the server.
	rows := decode[[]struct {
		UserID string `json:"user_id"`
	}](t, bob.ok("", "sessions", "list", "--json"))
	if len(rows) != 2 {
		t.Fatalf("sessions list = %+v", rows)
	}
	search := func() string {
		out, _ := exec.Command("secret-tool", "search", "--all", "service", e2eService).CombinedOutput()
		return string(out)
	}
	if out := search(); strings.Count(out, "username = session:") != 2 {
		t.Fatalf("the keyring does not hold the two sessions:\n%s", out)
	}
	report := decode[client.ClearReport](t, bob.ok("", "sessions", "clear", "--json"))
	if report.Revoked() != 2 || report.Failed() != 0 {
		t.Fatalf("clear report %+v", report)
	}
	bob.fails(1, "not logged in", "", "me")
	ada.fails(1, "No saved session for "+adminID, "", "apps") // her home still names her, the keyring holds nothing
	if out := search(); strings.Contains(out, "session") {
		t.Fatalf("the keyring still holds sessions:\n%s", out)
	}
	// Nothing secret in the homes.
	for _, home := range []string{bob.home, ada.home} {
		_ = filepath.Walk(home, func(path string, fi os.FileInfo, err error) error {
			if err != nil || fi.IsDir() {
				return err
			}
			data, _ := os.ReadFile(path)
			if bytes.Contains(data, []byte("mst_")) || bytes.Contains(data, []byte(userPW)) || bytes.Contains(data, []byte(secret[1])) {
				t.Errorf("%s holds a secret", path)
			}
			return nil
		})
	}
}
