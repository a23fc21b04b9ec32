package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mag-desktop/magdesk/client"
)

type result struct {
	code     int
	out, err string
}

// runCLI runs one command in-process with the given session store and standard input.
func runCLI(t *testing.T, store *client.SessionStore, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, IO{In: strings.NewReader(stdin), Out: &out, Err: &errb},
		func() *client.SessionStore { return store })
	return result{code, out.String(), errb.String()}
}

func isolate(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("MAGDESK_HOME", home)
	t.Setenv("HTTPS_PROXY", "")
	return home
}

func TestUsageErrors(t *testing.T) {
	isolate(t)
	store := client.NewSessionStore(nil)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{}, ExitUsage, "usage: magdesk"},
		{[]string{"frobnicate"}, ExitUsage, `unknown command "frobnicate"`},
		{[]string{"--bogus"}, ExitUsage, "flag provided but not defined"},
		{[]string{"--server", "https://127.0.0.1:1", "login"}, ExitUsage, "login needs --user ID"},
		{[]string{"--server", "https://127.0.0.1:1", "login", "--user", "u", "--otp"}, ExitUsage, "flag needs an argument"},
		{[]string{"--server", "https://127.0.0.1:1", "login", "--user", "u"}, ExitUsage, "not a terminal: pass --password-stdin"},
		{[]string{"--server", "https://127.0.0.1:1", "activate"}, ExitUsage, "expected the activation link"},
		{[]string{"apps", "frob"}, ExitUsage, `unknown command "frob" for apps`},
		{[]string{"admin"}, ExitUsage, "admin needs a subcommand"},
		{[]string{"--server", "https://127.0.0.1:1", "admin", "decide", "r1"}, ExitUsage, "expected REQUEST approve|deny"},
		{[]string{"me"}, ExitUsage, "no server is configured"},
		{[]string{"--server", "https://127.0.0.1:1", "me"}, ExitError, "You are not logged in"},
		{[]string{"--server", "https://127.0.0.1:1", "recover", "password"}, ExitUsage, "needs --user ID"},
		{[]string{"--server", "http://gw.example", "activate", "magdesk://activate?token=abcdefghijklmnopqrstuvwxyz"}, ExitError, "must start with https://"},
	}
	for _, tc := range cases {
		r := runCLI(t, store, "", tc.args...)
		if r.code != tc.code || !strings.Contains(r.err+r.out, tc.want) {
			t.Errorf("magdesk %v: exit %d, stderr %q; want exit %d and %q", tc.args, r.code, r.err, tc.code, tc.want)
		}
		if strings.Contains(r.err, "panic") || strings.Contains(r.err, "goroutine ") {
			t.Errorf("magdesk %v panicked: %s", tc.args, r.err)
		}
	}
}

func TestHostileLinks(t *testing.T) {
	isolate(t)
	store := client.NewSessionStore(nil)
	tok := strings.Repeat("Ab3_", 10) + "xyz"
	cases := []struct{ link, want string }{
		{"magdesk://activate?token=" + tok + "&evil=1", "exactly one token"},
		{tok + "<br>", "followed by extra text"},
		{"ftp://gw/activate#token=" + tok, "ftp: link is not an activation link"},
		{"magdesk://activate?token=%%%", "damaged"},
		{"abc", "too short"},
	}
	for _, tc := range cases {
		r := runCLI(t, store, "", "--server", "https://127.0.0.1:1", "activate", tc.link)
		if r.code != ExitError || !strings.Contains(r.err, tc.want) {
			t.Errorf("activate %q: exit %d, %q; want exit 1 and %q", tc.link, r.code, r.err, tc.want)
		}
	}
}

// Broken servers: HTML, a bare 500, and a server that never answers. Each gives a clear
// message and exit 1, also with --json.
func TestBrokenServerMessages(t *testing.T) {
	isolate(t)
	t.Setenv("MAGDESK_TIMEOUT", "400ms")
	store := client.NewSessionStore(nil)
	html := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>Welcome to Hotel Wi-Fi</body></html>"))
	}))
	defer html.Close()
	fail := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer fail.Close()
	stall, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stall.Close()
	go func() {
		for {
			c, err := stall.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	caFile := func(s *httptest.Server) string {
		p := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(p, pemCert(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tok := strings.Repeat("Ab3_", 10) + "xyz"
	cases := []struct {
		server, ca, want string
	}{
		{html.URL, caFile(html), "did not answer like a MAG gateway (expected JSON, got an HTML page)"},
		{fail.URL, caFile(fail), "had a problem and could not answer (HTTP 500)"},
		{"https://" + stall.Addr().String(), "", "did not answer in time"},
		{html.URL, "", "is not trusted"},
	}
	for _, tc := range cases {
		args := []string{"--server", tc.server, "activate", tok}
		if tc.ca != "" {
			args = append([]string{"--ca", tc.ca}, args...)
		}
		r := runCLI(t, store, "", args...)
		if r.code != ExitError || !strings.Contains(r.err, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit 1 and %q", args, r.code, r.err, tc.want)
		}
		r = runCLI(t, store, "", append([]string{"--json"}, args...)...)
		var out struct {
			Error jsonError `json:"error"`
		}
		if r.code != ExitError || json.Unmarshal([]byte(r.out), &out) != nil || out.Error.Message == "" || out.Error.Kind == "" {
			t.Errorf("--json %v: exit %d, stdout %q", args, r.code, r.out)
		}
	}
}

// Without --server and --ca, the settings in MAGDESK_HOME name the gateway and its CA.
func TestServerAndCAFromSettings(t *testing.T) {
	home := isolate(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>not a gateway</html>"))
	}))
	defer srv.Close()
	ca := filepath.Join(home, "ca.pem")
	if err := os.WriteFile(ca, pemCert(srv), 0o600); err != nil {
		t.Fatal(err)
	}
	settings, _ := json.Marshal(map[string]string{"server_url": srv.URL, "ca_bundle": ca})
	if err := os.WriteFile(filepath.Join(home, "settings.json"), settings, 0o600); err != nil {
		t.Fatal(err)
	}
	// Reaching the server and trusting it: it answers HTML, which only a trusted TLS peer can.
	r := runCLI(t, client.NewSessionStore(nil), "", "activate", strings.Repeat("Ab3_", 10)+"xyz")
	if r.code != ExitError || !strings.Contains(r.err, "expected JSON, got an HTML page") {
		t.Fatalf("exit %d, %q", r.code, r.err)
	}
}

func pemCert(s *httptest.Server) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
}

func TestQRCodeDrawn(t *testing.T) {
	qr := renderQR("otpauth://totp/MAG%20Portal:bob?secret=JBSWY3DPEHPK3PXP&issuer=MAG%20Portal", false)
	lines := strings.Split(strings.TrimRight(qr, "\n"), "\n")
	if len(lines) < 12 {
		t.Fatalf("QR code has %d lines", len(lines))
	}
	for _, l := range lines {
		if len([]rune(l)) != len([]rune(lines[0])) {
			t.Fatalf("ragged QR code:\n%s", qr)
		}
	}
	if !strings.ContainsAny(qr, "█▀▄") {
		t.Fatalf("no modules drawn:\n%s", qr)
	}
}

func TestStateFile(t *testing.T) {
	home := isolate(t)
	e := &Env{Home: home, ServerURL: "https://a", CAFile: "ca.pem"}
	if err := e.rememberServer(); err != nil {
		t.Fatal(err)
	}
	if err := e.setEnrollment("https://a", "u1", "otp_1"); err != nil {
		t.Fatal(err)
	}
	st, err := loadState(home)
	abs, _ := filepath.Abs("ca.pem")
	if err != nil || st.LastServer != "https://a" || st.CAFiles["https://a"] != abs || e.enrollment("https://a", "u1") != "otp_1" {
		t.Fatalf("state not read back: %+v %v", st, err)
	}
	fi, err := os.Stat(filepath.Join(home, stateFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v, %v", fi.Mode(), err)
	}
	// A damaged file only loses the state.
	if err := os.WriteFile(filepath.Join(home, stateFile), []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if e.enrollment("https://a", "u1") != "" {
		t.Fatal("damaged state still names an enrolment")
	}
}
