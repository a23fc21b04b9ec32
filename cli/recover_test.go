package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/server/servertest"
)

// The reference magd does not offer recovery yet (issue 8): the commands say so plainly.
func TestRecoverWithoutServerSupport(t *testing.T) {
	isolate(t)
	env := servertest.Start(t)
	c, err := client.New(client.Options{ServerURL: env.URL, CAPEM: env.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	meta, err := c.Meta(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if meta.Features.Recovery {
		t.Skip("magd now offers recovery; TestRecoverPasswordProtocol and the server's own tests cover the flow")
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, env.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	store := client.NewSessionStore(nil)
	for _, args := range [][]string{
		{"recover", "user-id", "--email", "bob@acme.example"},
		{"recover", "activation", "--user", "bob_1", "--email", "bob@acme.example"},
		{"recover", "password", "--user", "bob_1", "--password-stdin"},
	} {
		r := runCLI(t, store, "123456\nnew password here\n", append([]string{"--server", env.URL, "--ca", ca}, args...)...)
		if r.code != ExitError || !strings.Contains(r.err, "does not offer account self-service") {
			t.Errorf("%v: exit %d, %q", args, r.code, r.err)
		}
	}
}

// recover password reads the emailed code and then the new password from stdin (SPEC §4), and
// answers exactly the two questions the server chose from a four-answer file.
func TestRecoverPasswordProtocol(t *testing.T) {
	isolate(t)
	var (
		mu  sync.Mutex // the handler runs on the server's goroutines
		got api.PasswordRecoveryCompleteRequest
	)
	sent := func() api.PasswordRecoveryCompleteRequest {
		mu.Lock()
		defer mu.Unlock()
		return got
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case api.PathMeta:
			_ = json.NewEncoder(w).Encode(api.Meta{APIVersion: api.Version, Features: api.Features{Recovery: true}})
		case api.PathRecoveryPasswordStart:
			_ = json.NewEncoder(w).Encode(api.PasswordRecovery{RecoveryID: "rec_1",
				Questions: []api.SecurityQuestion{{ID: "q03", Text: "School?"}, {ID: "q01", Text: "Pet?"}}})
		case api.PathRecoveryPasswordComplete:
			_ = json.NewDecoder(r.Body).Decode(&got)
			_ = json.NewEncoder(w).Encode(api.RecoveryAccepted{Message: "Password changed."})
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	answers := filepath.Join(t.TempDir(), "answers.json")
	blob, _ := json.Marshal(servertest.Answers)
	if err := os.WriteFile(answers, blob, 0o600); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pemCert(srv), 0o600); err != nil {
		t.Fatal(err)
	}
	store := client.NewSessionStore(nil)
	base := []string{"--server", srv.URL, "--ca", ca, "recover", "password", "--user", "bob_1", "--answers", answers, "--password-stdin"}
	r := runCLI(t, store, " 482913 \nmy brand new passphrase\n", base...)
	if r.code != ExitOK || !strings.Contains(r.out, "Password changed.") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	want := api.PasswordRecoveryCompleteRequest{RecoveryID: "rec_1", Code: "482913",
		SecurityAnswers: []api.SecurityAnswer{servertest.Answers[2], servertest.Answers[0]},
		Password:        "my brand new passphrase", PasswordConfirm: "my brand new passphrase"}
	gj, _ := json.Marshal(sent())
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Fatalf("sent %s\nwant %s", gj, wj)
	}
	// Stdin ending before the new password is a usage error, and nothing is sent.
	mu.Lock()
	got = api.PasswordRecoveryCompleteRequest{}
	mu.Unlock()
	r = runCLI(t, store, "482913\n", base...)
	if r.code != ExitUsage || sent().RecoveryID != "" || !strings.Contains(r.err, "standard input ended before the new password") {
		t.Fatalf("short stdin: exit %d, %q, sent %+v", r.code, r.err, sent())
	}
}
