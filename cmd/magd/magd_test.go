package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/demorp"
	"github.com/mag-desktop/magdesk/internal/server/mail"
	"github.com/mag-desktop/magdesk/internal/server/store"
)

func buildMagd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "magd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serving is a running `magd serve` and what it printed at start.
type serving struct {
	cmd    *exec.Cmd
	url    string
	lines  []string
	client *http.Client
}

var urlRE = regexp.MustCompile(`magd is running at (https://\S+)`)

func startServe(t *testing.T, bin, data string, args ...string) *serving {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--data", data, "--addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	s := &serving{cmd: cmd}
	sc := bufio.NewScanner(stdout)
	deadline := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		line := sc.Text()
		s.lines = append(s.lines, line)
		if m := urlRE.FindStringSubmatch(line); m != nil {
			s.url = m[1]
		}
		if s.url != "" && (!strings.Contains(strings.Join(args, " "), "--demo") || strings.Contains(line, "magdesk://activate")) {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if s.url == "" {
		t.Fatalf("magd serve did not start: %q", s.lines)
	}
	caPEM, err := os.ReadFile(filepath.Join(data, "ca", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	s.client = &http.Client{Transport: tr, Timeout: 20 * time.Second}
	return s
}

func (s *serving) field(t *testing.T, re string) string {
	t.Helper()
	r := regexp.MustCompile(re)
	for _, l := range s.lines {
		if m := r.FindStringSubmatch(l); m != nil {
			return m[1]
		}
	}
	t.Fatalf("%s not in the output %q", re, s.lines)
	return ""
}

func (s *serving) post(path string, body any, out any) (int, error) {
	b, _ := json.Marshal(body)
	resp, err := s.client.Post(s.url+path, "application/json", strings.NewReader(string(b)))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		return resp.StatusCode, json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode, nil
}

func (s *serving) me(token string) (int, error) {
	req, _ := http.NewRequest("GET", s.url+api.PathMe, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func adminCmd(bin, data string, args ...string) (string, error) {
	out, err := exec.Command(bin, append([]string{"admin", "--data", data}, args...)...).Output()
	return strings.TrimSpace(string(out)), err
}

// TestKillDuringWrites SIGKILLs `magd serve` while logins (sessions) and `magd admin` (orgs)
// write, restarts it, and checks that every acknowledged write survived.
func TestKillDuringWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs magd")
	}
	bin := buildMagd(t)
	data := t.TempDir()
	s := startServe(t, bin, data, "--demo")
	uid := s.field(t, `^\s+user\s+user id (\S+)`)
	pw := s.field(t, `^\s+user\s+user id \S+\s+password (\S+)`)

	var mu sync.Mutex
	var tokens, orgs []string
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200 && ctx.Err() == nil; i++ {
				if w == 0 {
					id, err := adminCmd(bin, data, "org", "add", "--name", fmt.Sprintf("Org %d", i))
					if err == nil {
						mu.Lock()
						orgs = append(orgs, id)
						mu.Unlock()
					}
					continue
				}
				var lr api.LoginResponse
				if st, err := s.post(api.PathLogin, api.LoginRequest{UserID: uid, Password: pw}, &lr); err == nil && st == 200 {
					mu.Lock()
					tokens = append(tokens, lr.SessionToken)
					mu.Unlock()
				}
			}
		}()
	}
	// Kill once enough writes were acknowledged, while the writers are still going.
	for {
		mu.Lock()
		n, m := len(tokens), len(orgs)
		mu.Unlock()
		if (n >= 10 && m >= 5) || ctx.Err() != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = s.cmd.Wait()
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(tokens) < 10 || len(orgs) < 5 {
		t.Fatalf("too few writes before the kill: %d sessions, %d orgs", len(tokens), len(orgs))
	}

	s2 := startServe(t, bin, data)
	for _, tok := range tokens {
		if st, err := s2.me(tok); err != nil || st != 200 {
			t.Fatalf("acknowledged session lost after SIGKILL: %d %v", st, err)
		}
	}
	st, err := store.Open(filepath.Join(data, "magd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, id := range orgs {
		if _, err := st.OrgByID(context.Background(), id); err != nil {
			t.Fatalf("acknowledged org %s lost after SIGKILL: %v", id, err)
		}
	}
	t.Logf("%d sessions and %d organisations acknowledged before SIGKILL, all present after restart", len(tokens), len(orgs))
}

// TestAdminWhileServing runs `magd admin` on the data folder of a running `magd serve`: the new
// user's activation link points at the running server and activation works there.
func TestAdminWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs magd")
	}
	bin := buildMagd(t)
	data := t.TempDir()
	s := startServe(t, bin, data, "--no-security-questions")
	org, err := adminCmd(bin, data, "org", "add", "--name", "Live Org")
	if err != nil || !strings.HasPrefix(org, "org_") {
		t.Fatalf("org add: %q %v", org, err)
	}
	out, err := adminCmd(bin, data, "--json", "user", "add", "--org", org, "--email", "liv@live.example", "--first", "Liv", "--last", "Live", "--role", "org_admin")
	var u struct {
		UserID string `json:"user_id"`
	}
	if err != nil || json.Unmarshal([]byte(out), &u) != nil || u.UserID == "" {
		t.Fatalf("user add: %q %v", out, err)
	}
	terms := filepath.Join(t.TempDir(), "terms.txt")
	if err := os.WriteFile(terms, []byte("Terms."), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := adminCmd(bin, data, "app", "add", "--id", "live", "--name", "Live App", "--url", "/demoapps/live", "--terms", terms); err != nil {
		t.Fatal(err)
	}
	if _, err := adminCmd(bin, data, "app", "subscribe", "--org", org, "--app", "live"); err != nil {
		t.Fatal(err)
	}
	adminRegistersFederatedApps(t, bin, data, terms)
	if _, err := adminCmd(bin, data, "user", "add", "--org", "org_missing", "--email", "x@y.example", "--first", "X", "--last", "Y"); err == nil {
		t.Fatal("user add to a missing org succeeded")
	}
	if out, err := adminCmd(bin, data, "user", "add", "--org", org); err == nil {
		t.Fatalf("user add without names succeeded: %q", out)
	} else if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("usage error exit: %v", err)
	}

	if out, err := adminCmd(bin, data, "org", "list"); err != nil || !strings.Contains(out, org) || !strings.Contains(out, "Live Org") {
		t.Fatalf("org list: %q %v", out, err)
	}
	out, err = adminCmd(bin, data, "--json", "user", "list", "--org", org)
	var users []map[string]string
	if err != nil || json.Unmarshal([]byte(out), &users) != nil || len(users) != 1 || users[0]["user_id"] != u.UserID ||
		users[0]["status"] != "pending" || users[0]["role"] != "org_admin" {
		t.Fatalf("user list: %q %v", out, err)
	}

	msgs, err := mail.ReadMaildir(filepath.Join(data, "mail"))
	if err != nil || len(msgs) != 1 {
		t.Fatalf("mail: %v %+v", err, msgs)
	}
	token := regexp.MustCompile(`/activate#token=([A-Za-z0-9_-]{43})`).FindStringSubmatch(msgs[0].Body)
	if token == nil || !strings.Contains(msgs[0].Body, s.url+"/activate#token=") {
		t.Fatalf("activation email does not point at the running server %s:\n%s", s.url, msgs[0].Body)
	}
	pw := "plum orbit lantern quietly 42"
	if st, err := s.post(api.PathActivationComplete, api.ActivationCompleteRequest{Token: token[1], Password: pw, PasswordConfirm: pw}, nil); st != 200 {
		t.Fatalf("activate on the running server: %d %v", st, err)
	}
	var lr api.LoginResponse
	if st, err := s.post(api.PathLogin, api.LoginRequest{UserID: u.UserID, Password: pw}, &lr); st != 200 {
		t.Fatalf("login: %d %v", st, err)
	}
	if len(lr.RequiredActions) != 2 || lr.RequiredActions[1] != "accept_terms" {
		t.Fatalf("the org admin should be asked to accept the new app's terms: %v", lr.RequiredActions)
	}
}

func TestUsage(t *testing.T) {
	cases := []struct {
		args []string
		code int
		out  string
	}{
		{nil, 2, "magd serve --data DIR"},
		{[]string{"bogus"}, 2, "unknown command"},
		{[]string{"serve"}, 2, "serve needs --data DIR"},
		{[]string{"serve", "--data", t.TempDir(), "--log-level", "loud"}, 2, "--log-level"},
		{[]string{"admin", "--data", t.TempDir()}, 2, "admin needs --data DIR and a command"},
		{[]string{"admin", "--data", filepath.Join(t.TempDir(), "missing"), "org", "add", "--name", "X"}, 1, "magd serve --data"},
		{[]string{"admin", "--data", t.TempDir(), "org", "frobnicate"}, 2, "unknown admin command"},
		{[]string{"admin", "--data", t.TempDir(), "org", "add"}, 2, "needs --name"},
		{[]string{"admin", "--data", t.TempDir(), "cert", "revoke", "crt_nope"}, 1, "no active certificate"},
		{[]string{"version"}, 0, "magd "},
	}
	for _, tc := range cases {
		var stdout, stderr strings.Builder
		code := run(tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stdout.String()+stderr.String(), tc.out) {
			t.Errorf("magd %q: exit %d, want %d; output %q lacks %q", tc.args, code, tc.code, stdout.String()+stderr.String(), tc.out)
		}
	}
}

// TestServeFlags: the serve flags map onto the server's configuration, and SMTP settings that
// could only fail later (no sender, a sender that is no address, SMTP options without a server)
// are usage errors at once.
func TestServeFlags(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name    string
		args    []string
		rate    int    // Config.LoginRatePerMinute
		from    string // SMTP sender; "" for the Maildir
		wantErr string // a usage error containing this
	}{
		{name: "default rate", args: nil, rate: 30},
		{name: "login rate", args: []string{"--login-rate", "600"}, rate: 600},
		{name: "hash low priority", args: []string{"--hash-low-priority", "--hash-concurrency", "3"}, rate: 30},
		{name: "no limit", args: []string{"--login-rate", "0"}, rate: -1},
		{name: "negative rate", args: []string{"--login-rate", "-5"}, wantErr: "--login-rate must be 0"},
		{name: "negative hashes", args: []string{"--hash-concurrency", "-1"}, wantErr: "--hash-concurrency"},
		{name: "proxy", args: []string{"--proxy-addr", "10.0.0.5", "--proxy-addr", "::1"}, rate: 30},
		{name: "proxy not an address", args: []string{"--proxy-addr", "haproxy"}, wantErr: "--proxy-addr"},
		{name: "proxy protocol", args: []string{"--proxy-addr", "10.0.0.5", "--proxy-protocol"}, rate: 30},
		{name: "proxy protocol from anyone", args: []string{"--proxy-protocol"}, wantErr: "--proxy-protocol needs --proxy-addr"},
		{name: "smtp without sender", args: []string{"--smtp-addr", "127.0.0.1:25"}, wantErr: "--smtp-addr needs --smtp-from"},
		{name: "smtp bad sender", args: []string{"--smtp-addr", "127.0.0.1:25", "--smtp-from", "magd"}, wantErr: "is not an email address"},
		{name: "sender without smtp", args: []string{"--smtp-from", "magd@example.com"}, wantErr: "need --smtp-addr"},
		{name: "smtp", args: []string{"--smtp-addr", "127.0.0.1:25", "--smtp-from", "MAG <magd@example.com>"}, rate: 30,
			from: "MAG <magd@example.com>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := serveConfig(append([]string{"--data", dir}, tc.args...), io.Discard)
			if tc.wantErr != "" {
				if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want a usage error about %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.LoginRatePerMinute != tc.rate {
				t.Errorf("login rate %d, want %d", cfg.LoginRatePerMinute, tc.rate)
			}
			if tc.name == "proxy" && !slices.Equal(cfg.ProxyAddrs, []string{"10.0.0.5", "::1"}) {
				t.Errorf("proxy addresses %q", cfg.ProxyAddrs)
			}
			if want := slices.Contains(tc.args, "--proxy-protocol"); cfg.ProxyProtocol != want {
				t.Errorf("PROXY protocol %t, want %t", cfg.ProxyProtocol, want)
			}
			if low := slices.Contains(tc.args, "--hash-low-priority"); cfg.HashLowPriority != low || low && cfg.HashConcurrency != 3 {
				t.Errorf("hash low priority %t with %d slots, want %t", cfg.HashLowPriority, cfg.HashConcurrency, low)
			}
			if from := ""; cfg.SMTP != nil || tc.from != "" {
				if cfg.SMTP != nil {
					from = cfg.SMTP.From
				}
				if from != tc.from {
					t.Errorf("SMTP sender %q, want %q", from, tc.from)
				}
			}
		})
	}
	// Through the command: exit status 2 and the reason, before anything is opened.
	var stderr strings.Builder
	if code := run([]string{"serve", "--data", dir, "--smtp-addr", "127.0.0.1:25"}, io.Discard, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), "--smtp-from") {
		t.Fatalf("exit %d, %q", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "magd.db")); err == nil {
		t.Fatal("a usage error still initialised the data folder")
	}
}

// TestLoginRateFlag: `--login-rate 1` allows a burst of two login attempts per IP address,
// then RATE_LIMITED (429).
func TestLoginRateFlag(t *testing.T) {
	s := startServe(t, buildMagd(t), t.TempDir(), "--login-rate", "1")
	var codes []int
	for range 3 {
		code, err := s.post(api.PathLogin, api.LoginRequest{UserID: "nobody_1000", Password: "wrong password here"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, code)
	}
	if codes[0] != http.StatusUnauthorized || codes[1] != http.StatusUnauthorized || codes[2] != http.StatusTooManyRequests {
		t.Fatalf("answers %v, want 401 401 429", codes)
	}
}

// adminRegistersFederatedApps: `app add --protocol oidc` prints the issuer, the client id and
// a secret; `--protocol saml` takes SP metadata; flags of the wrong protocol are usage errors.
func adminRegistersFederatedApps(t *testing.T, bin, data, terms string) {
	t.Helper()
	out, err := adminCmd(bin, data, "--json", "app", "add", "--id", "wiki", "--name", "Wiki", "--url", "https://wiki.example/",
		"--terms", terms, "--protocol", "oidc", "--redirect-uri", "https://wiki.example/callback", "--initiate-login-uri", "https://wiki.example/login")
	var reg map[string]string
	if err != nil || json.Unmarshal([]byte(out), &reg) != nil || reg["client_id"] != "wiki" || !strings.HasPrefix(reg["client_secret"], "mcs_") ||
		!strings.HasSuffix(reg["issuer"], "/oidc") {
		t.Fatalf("app add --protocol oidc: %q %v", out, err)
	}
	out, err = adminCmd(bin, data, "--json", "app", "add", "--id", "cli", "--name", "CLI", "--url", "https://cli.example/",
		"--terms", terms, "--protocol", "oidc", "--public", "--redirect-uri", "http://127.0.0.1/callback")
	if err != nil || !strings.Contains(out, `"client_id":"cli"`) || strings.Contains(out, "client_secret") {
		t.Fatalf("app add --protocol oidc --public: %q %v", out, err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	_, md, err := demorp.SPMetadata("https://desk.example", demorp.SAMLApp{ID: "desk", Key: key, Cert: cert})
	if err != nil {
		t.Fatal(err)
	}
	mdFile := filepath.Join(t.TempDir(), "sp.xml")
	if err := os.WriteFile(mdFile, md, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = adminCmd(bin, data, "app", "add", "--id", "desk", "--name", "Desk", "--url", "https://desk.example/",
		"--terms", terms, "--protocol", "saml", "--sp-metadata", mdFile)
	if err != nil || !strings.Contains(out, "sp_entity_id: https://desk.example/demoapps/desk/saml/metadata") || !strings.Contains(out, "/saml/metadata") {
		t.Fatalf("app add --protocol saml: %q %v", out, err)
	}
	for _, args := range [][]string{
		{"--protocol", "magd-assertion"},
		{"--protocol", "oidc"},
		{"--protocol", "saml", "--redirect-uri", "https://x.example/cb", "--sp-metadata", mdFile},
		{"--redirect-uri", "https://x.example/cb"},
	} {
		base := []string{"app", "add", "--id", "bad", "--name", "Bad", "--url", "https://bad.example/", "--terms", terms}
		if out, err := adminCmd(bin, data, append(base, args...)...); err == nil {
			t.Errorf("app add %v succeeded: %q", args, out)
		} else if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Errorf("app add %v: exit %v, want usage error 2", args, err)
		}
	}
	if out, err := adminCmd(bin, data, "app", "add", "--id", "bad", "--name", "Bad", "--url", "https://bad.example/", "--terms", terms,
		"--protocol", "oidc", "--redirect-uri", "http://bad.example/cb"); err == nil {
		t.Errorf("plain-http redirect URI accepted: %q", out)
	} else if ee, ok := err.(*exec.ExitError); !ok || !strings.Contains(string(ee.Stderr), "use https") {
		t.Errorf("plain-http redirect URI: %v", err)
	}
}
