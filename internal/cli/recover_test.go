package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// The three recover commands against magd, as a user would run them: the code of the password
// reset is typed after it arrives by email.
func TestRecoverCommands(t *testing.T) {
	isolate(t)
	env := servertest.Start(t)
	org := env.CreateOrg(t, "Acme Aerospace")
	const pw = "plaid tundra kettle origami lantern"
	bob := env.CreateActiveUser(t, org, "bob@acme.example", "Bob", "User", pw, false)
	carol := env.CreateUser(t, org, "carol@acme.example", "Carol", "New", false)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, env.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	answers := filepath.Join(t.TempDir(), "answers.json")
	blob, _ := json.Marshal(servertest.Answers)
	if err := os.WriteFile(answers, blob, 0o600); err != nil {
		t.Fatal(err)
	}
	store := client.NewSessionStore(nil)
	base := []string{"--server", env.URL, "--ca", ca, "recover"}
	mails := func(template string) []string {
		var out []string
		for _, m := range env.Mails(t) {
			if m.Template == template {
				out = append(out, m.Body)
			}
		}
		return out
	}

	if r := runCLI(t, store, "", append(base, "user-id", "--email", "bob@acme.example")...); r.code != ExitOK {
		t.Fatalf("recover user-id: %d %q", r.code, r.err)
	}
	if got := mails("recovery_user_ids"); len(got) != 1 || !strings.Contains(got[0], bob) {
		t.Fatalf("user id emails: %q", got)
	}
	old := env.ActivationToken(t, carol)
	if r := runCLI(t, store, "", append(base, "activation", "--user", carol, "--email", "carol@acme.example")...); r.code != ExitOK {
		t.Fatalf("recover activation: %d %q", r.code, r.err)
	}
	if env.ActivationToken(t, carol) == old {
		t.Fatal("no new activation link was sent")
	}

	// Log in first: the reset must end this session too.
	if r := runCLI(t, store, pw+"\n", "--server", env.URL, "--ca", ca, "login", "--user", bob, "--password-stdin"); r.code != ExitOK {
		t.Fatalf("login: %q", r.err)
	}
	const newPW = "saffron glacier tuba orchard"
	if rc, out, errs := recoverPasswordByMail(t, env, store, append(base, "password", "--user", bob, "--answers", answers, "--password-stdin"), newPW); rc != ExitOK || !strings.Contains(out, "magdesk login --user "+bob) {
		t.Fatalf("recover password: exit %d\n%s\n%s", rc, out, errs)
	}
	if r := runCLI(t, store, "", "--server", env.URL, "me"); r.code != ExitError || !strings.Contains(r.err, "No saved session for "+bob) {
		t.Fatalf("me after the reset: %d %q", r.code, r.err)
	}
	if r := runCLI(t, store, newPW+"\n", "--server", env.URL, "login", "--user", bob, "--password-stdin"); r.code != ExitOK {
		t.Fatalf("login with the new password: %q", r.err)
	}
}

// recoverPasswordByMail runs recover password in-process and types, as a user would, the code
// from the newest reset email once it has arrived, then the new password.
func recoverPasswordByMail(t *testing.T, env *servertest.Env, store *client.SessionStore, args []string, newPW string) (int, string, string) {
	t.Helper()
	before := 0
	for _, m := range env.Mails(t) {
		if m.Template == "recovery_code" {
			before++
		}
	}
	inR, inW := io.Pipe()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), args, IO{In: inR, Out: &out, Err: &errb}, func() *client.SessionStore { return store })
	}()
	codeRE := regexp.MustCompile(`one-time code: (\d+)`)
	var code string
	for deadline := time.Now().Add(20 * time.Second); code == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		n := 0
		for _, m := range env.Mails(t) {
			if m.Template == "recovery_code" {
				if n++; n > before {
					if sm := codeRE.FindStringSubmatch(m.Body); sm != nil {
						code = sm[1]
					}
				}
			}
		}
	}
	if code == "" {
		inW.Close()
		<-done
		t.Fatal("no code arrived by email")
	}
	if _, err := io.WriteString(inW, code+"\n"+newPW+"\n"); err != nil {
		t.Fatal(err)
	}
	inW.Close()
	rc := <-done
	return rc, out.String(), errb.String()
}

// On a gateway without security questions, the emailed code alone resets the password, from
// a script with no answers file.
func TestRecoverWithoutQuestions(t *testing.T) {
	isolate(t)
	env := servertest.Start(t, servertest.WithSecurityQuestions(false))
	org := env.CreateOrg(t, "Acme Aerospace")
	const pw, newPW = "plaid tundra kettle origami lantern", "saffron glacier tuba orchard"
	bob := env.CreateActiveUser(t, org, "bob@acme.example", "Bob", "User", pw, false)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, env.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	store := client.NewSessionStore(nil)
	args := []string{"--server", env.URL, "--ca", ca, "recover", "password", "--user", bob, "--password-stdin"}
	if rc, out, errs := recoverPasswordByMail(t, env, store, args, newPW); rc != ExitOK {
		t.Fatalf("recover password: exit %d\n%s\n%s", rc, out, errs)
	}
	if r := runCLI(t, store, newPW+"\n", "--server", env.URL, "--ca", ca, "login", "--user", bob, "--password-stdin"); r.code != ExitOK {
		t.Fatalf("login with the new password: %q", r.err)
	}
}

// recover password reads the emailed code and then the new password from stdin, and
// answers exactly the two questions the server chose from a four-answer file.
func TestRecoverPasswordProtocol(t *testing.T) {
	isolate(t)
	var (
		mu     sync.Mutex // the handler runs on the server's goroutines
		got    api.PasswordRecoveryCompleteRequest
		offers = true
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
			_ = json.NewEncoder(w).Encode(api.Meta{APIVersion: api.Version, Features: api.Features{Recovery: offers}})
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
	// An account without answers on file: an answers file of [] sends the questions empty.
	empty := filepath.Join(t.TempDir(), "none.json")
	if err := os.WriteFile(empty, []byte("[]"), 0o600); err != nil {
		t.Fatal(err)
	}
	noAnswers := append(append([]string{}, base[:len(base)-3]...), "--answers", empty, "--password-stdin")
	r = runCLI(t, store, "482913\nmy brand new passphrase\n", noAnswers...)
	if r.code != ExitOK || !strings.Contains(r.err, "leaving it empty") {
		t.Fatalf("empty answers file: exit %d, %q", r.code, r.err)
	}
	if a := sent().SecurityAnswers; len(a) != 2 || a[0].QuestionID != "q03" || a[0].Answer != "" || a[1].QuestionID != "q01" {
		t.Fatalf("sent answers %+v", a)
	}

	// A gateway without self-service says so before asking for anything.
	mu.Lock()
	offers = false
	mu.Unlock()
	r = runCLI(t, store, "", base...)
	if r.code != ExitError || !strings.Contains(r.err, "does not offer account self-service") {
		t.Fatalf("gateway without recovery: exit %d, %q", r.code, r.err)
	}
}
