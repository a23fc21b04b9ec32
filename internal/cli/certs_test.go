package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
	"github.com/zalando/go-keyring"
)

func needNSSTools(t *testing.T) {
	for _, tool := range []string{"certutil", "pk12util", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (scripts/deps.sh installs it)", tool)
		}
	}
}

// nssHome gives the test a HOME of its own with an empty shared NSS database, as a browser
// leaves ~/.pki/nssdb.
func nssHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(home, ".local", "share"))
	db := filepath.Join(home, ".pki", "nssdb")
	os.MkdirAll(db, 0o700)
	if out, err := exec.Command("certutil", "-N", "-d", "sql:"+db, "--empty-password").CombinedOutput(); err != nil {
		t.Fatalf("certutil -N: %v %s", err, out)
	}
	return db
}

func certutilKeys(t *testing.T, db string) string {
	out, _ := exec.Command("certutil", "-K", "-d", "sql:"+db).CombinedOutput()
	return string(out)
}

// The Error 2035 scenario end to end against a real magd: one person, two accounts. The second
// account's certificate (requested on another computer, so no local record of it) sits in the
// browser's NSS database beside the first account's. certs check names exactly that one
// (exit 3); certs remove --backup removes it with its key, the other survives, the backup
// opens in a fresh NSS database and in openssl, and login --cert auto presents only the right
// account's certificate.
func TestCertsWrongAccountEndToEnd(t *testing.T) {
	needNSSTools(t)
	if os.Getenv("MAGDESK_REAL_KEYRING") != "1" {
		keyring.MockInit()
	}
	db := nssHome(t)
	homeA := isolate(t)
	homeB := t.TempDir()
	env := servertest.Start(t)
	org := env.CreateOrg(t, "Acme Aerospace")
	const pw1, pw2 = "plaid tundra kettle origami lantern", "copper lantern harbour nine"
	u1 := env.CreateActiveUser(t, org, "jane@acme.example", "Jane", "Doe", pw1, false)
	u2 := env.CreateActiveUser(t, org, "jane@acme.example", "Jane", "Doe", pw2, false)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, env.CAPEM, 0o600)
	store := client.NewSessionStore(nil)
	cli := func(home, stdin string, args ...string) result {
		t.Helper()
		t.Setenv("MAGDESK_HOME", home)
		return runCLI(t, store, stdin, append([]string{"--server", env.URL, "--ca", ca}, args...)...)
	}
	must := func(r result, what string) result {
		t.Helper()
		if r.code != ExitOK {
			t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", what, r.code, r.out, r.err)
		}
		return r
	}
	request := func(home, user, pw string) certstore.Fingerprint {
		t.Helper()
		must(cli(home, pw+"\n", "login", "--user", user, "--password-stdin"), "login "+user)
		r := must(cli(home, "", "certs", "request", "--install", "--json"), "certs request "+user)
		var out certstore.RequestOutcome
		if err := json.Unmarshal([]byte(r.out), &out); err != nil || len(out.Installed) != 1 {
			t.Fatalf("request output: %v %s", err, r.out)
		}
		return out.Identity.SHA256
	}
	fp2 := request(homeB, u2, pw2) // the other account, on "another computer", same browser db
	fp1 := request(homeA, u1, pw1)

	// certs check as u1 names exactly u2's certificate, in the NSS store.
	r := cli(homeA, "", "certs", "check", "--json")
	if r.code != ExitProblem {
		t.Fatalf("certs check: exit %d (want 3)\n%s\n%s", r.code, r.out, r.err)
	}
	var rep struct {
		Checked      bool                   `json:"checked_with_gateway"`
		Identities   []certstore.Classified `json:"identities"`
		WrongAccount []certstore.Classified `json:"wrong_account"`
	}
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Checked || len(rep.WrongAccount) != 1 || rep.WrongAccount[0].SHA256 != fp2 || rep.WrongAccount[0].Location.Backend != "nss" {
		t.Fatalf("wrong-account list: %+v", rep.WrongAccount)
	}
	bound := 0
	for _, c := range rep.Identities {
		if c.SHA256 == fp1 && c.Class == certstore.ClassBound {
			bound++
		}
	}
	if bound != 2 { // in the app's store and in the browser's
		t.Fatalf("u1's certificate bound in %d stores, want 2: %+v", bound, rep.Identities)
	}
	text := cli(homeA, "", "certs", "check")
	if text.code != ExitProblem || !strings.Contains(text.out, string(fp2)) || !strings.Contains(text.out, "sql:"+db) || strings.Contains(text.out, string(fp1)) {
		t.Fatalf("certs check text:\n%s", text.out)
	}

	// Not on a terminal and without --yes: refused, nothing removed.
	if r := cli(homeA, "", "certs", "remove", string(fp2)); r.code != ExitUsage || !strings.Contains(r.err, "--yes") {
		t.Fatalf("remove without --yes: %d %q", r.code, r.err)
	}
	keyOf := func(fp certstore.Fingerprint) string {
		ids, _ := certstore.NewNSSStore(db, "", nil).List(t.Context())
		for _, id := range ids {
			if id.SHA256 == fp {
				return id.Key.Container
			}
		}
		return ""
	}
	key1, key2 := keyOf(fp1), keyOf(fp2)
	if key1 == "" || key2 == "" || !strings.Contains(certutilKeys(t, db), key2) {
		t.Fatal("both identities must be in the NSS database with their keys")
	}

	backup := filepath.Join(t.TempDir(), "other-account.p12")
	const backupPW = "a long backup password"
	must(cli(homeA, backupPW+"\n", "certs", "remove", string(fp2), "--backup", backup, "--yes", "--password-stdin"), "certs remove")
	if k := certutilKeys(t, db); strings.Contains(k, key2) || !strings.Contains(k, key1) {
		t.Fatalf("certutil -K after removal:\n%s", k)
	}
	if keyOf(fp1) == "" || keyOf(fp2) != "" {
		t.Fatal("the wrong identity must be gone and the right one kept")
	}
	if r := cli(homeA, "", "certs", "check"); r.code != ExitOK {
		t.Fatalf("check after removal: %d\n%s", r.code, r.out)
	}

	// The backup opens in a fresh NSS database and in openssl.
	fresh := filepath.Join(t.TempDir(), "fresh")
	os.MkdirAll(fresh, 0o700)
	exec.Command("certutil", "-N", "-d", "sql:"+fresh, "--empty-password").Run()
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte(backupPW), 0o600)
	if out, err := exec.Command("pk12util", "-i", backup, "-d", "sql:"+fresh, "-w", pwFile).CombinedOutput(); err != nil {
		t.Fatalf("pk12util -i backup: %v %s", err, out)
	}
	if ids, _ := certstore.NewNSSStore(fresh, "", nil).List(t.Context()); len(ids) != 1 || ids[0].SHA256 != fp2 || !ids[0].Key.Present {
		t.Fatalf("fresh db: %+v", ids)
	}
	out, err := exec.Command("openssl", "pkcs12", "-in", backup, "-passin", "file:"+pwFile, "-nodes").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PRIVATE KEY") {
		t.Fatalf("openssl pkcs12: %v %s", err, out)
	}
	if log, _ := os.ReadFile(findLog(t, homeA)); !strings.Contains(string(log), string(fp2)) || strings.Contains(string(log), backupPW) {
		t.Fatalf("audit log must name the fingerprint and never the password")
	}

	// login --cert auto presents u1's own certificate, and never u2's (none here for u2).
	r = must(cli(homeA, pw1+"\n", "login", "--user", u1, "--password-stdin", "--cert", "auto"), "login --cert auto")
	if strings.Contains(r.err, "without one") {
		t.Fatalf("auto found no certificate for %s: %s", u1, r.err)
	}
	sess, err := store.Load(mustNorm(t, env.URL), u1)
	if err != nil || sess.CertSHA256 != string(fp1) {
		t.Fatalf("session certificate = %q, want %s (%v)", sess.CertSHA256, fp1, err)
	}
	r = must(cli(homeA, pw2+"\n", "login", "--user", u2, "--password-stdin", "--cert", "auto"), "login u2 --cert auto")
	if !strings.Contains(r.err, "without one") {
		t.Fatalf("u2 on this computer must log in without a certificate: %q", r.err)
	}

	// Account Connections instead of removal: the backup goes back into the browser, and
	// connecting it to u1 (proven with u2's password) makes certs check clean.
	if out, err := exec.Command("pk12util", "-i", backup, "-d", "sql:"+db, "-w", pwFile).CombinedOutput(); err != nil {
		t.Fatalf("pk12util -i: %v %s", err, out)
	}
	must(cli(homeA, "", "sessions", "use", u1), "sessions use")
	if r := cli(homeA, "", "certs", "check"); r.code != ExitProblem {
		t.Fatalf("check with the certificate back: %d", r.code)
	}
	if r := cli(homeA, "wrong password\n", "certs", "connect", string(fp2), "--from-user", u2, "--password-stdin"); r.code != ExitError {
		t.Fatalf("connect with a wrong password: %d %q", r.code, r.err)
	}
	must(cli(homeA, pw2+"\n", "certs", "connect", string(fp2), "--from-user", u2, "--password-stdin"), "certs connect")
	if r := cli(homeA, "", "certs", "check"); r.code != ExitOK {
		t.Fatalf("check after connecting: %d\n%s", r.code, r.out)
	}
}

func mustNorm(t *testing.T, u string) string {
	s, err := client.NormalizeServerURL(u)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// findLog returns the app log file under home (the logging package decides its name).
func findLog(t *testing.T, home string) string {
	var found string
	filepath.Walk(home, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(p, ".log") {
			found = p
		}
		return nil
	})
	if found == "" {
		t.Fatal("no log file under MAGDESK_HOME")
	}
	return found
}

// A corrupt or wrong-password file is refused with a clear message and nothing is imported.
func TestCertsImportBadFiles(t *testing.T) {
	if os.Getenv("MAGDESK_REAL_KEYRING") != "1" {
		keyring.MockInit()
	}
	home := isolate(t)
	t.Setenv("HOME", t.TempDir())
	store := client.NewSessionStore(nil)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.p12")
	os.WriteFile(garbage, []byte("this is not a PKCS#12 file"), 0o600)
	good, truncated := filepath.Join(dir, "good.p12"), filepath.Join(dir, "truncated.p12")
	data := selfSignedP12(t, "right password")
	os.WriteFile(good, data, 0o600)
	os.WriteFile(truncated, data[:len(data)/2], 0o600)
	cases := []struct {
		file, pw, want string
	}{
		{garbage, "pw", "not a readable PKCS#12"},
		{truncated, "right password", "not a readable PKCS#12"},
		{good, "wrong password", "password does not open this PKCS#12 file"},
		{filepath.Join(dir, "missing.p12"), "pw", "no such file"},
	}
	for _, c := range cases {
		r := runCLI(t, store, c.pw+"\n", "certs", "import", c.file, "--password-stdin")
		if r.code != ExitError || !strings.Contains(r.err, c.want) {
			t.Errorf("import %s: exit %d %q", c.file, r.code, r.err)
		}
	}
	if r := runCLI(t, store, "", "certs", "export", "nothex", filepath.Join(dir, "x.p12")); r.code != ExitUsage {
		t.Errorf("export with a bad fingerprint: %d %q", r.code, r.err)
	}
	if entries, _ := filepath.Glob(filepath.Join(home, "certs", "*.p12")); len(entries) != 0 {
		t.Fatalf("something was imported: %v", entries)
	}
	if r := runCLI(t, store, "right password\n", "certs", "import", good, "--password-stdin", "--user", "doej_0001"); r.code != ExitOK {
		t.Fatalf("import of a good file: %d %q", r.code, r.err)
	}
	if entries, _ := filepath.Glob(filepath.Join(home, "certs", "*.p12")); len(entries) != 1 {
		t.Fatalf("good file not imported: %v", entries)
	}
}

func selfSignedP12(t *testing.T, pw string) []byte {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Jane Doe"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	data, err := certstore.EncodePKCS12(&certstore.Bundle{Key: key, Cert: cert}, pw)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
