package hardening

import (
	"archive/zip"
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base32"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/cli"
	"github.com/mag-desktop/magdesk/internal/logging"
	"github.com/mag-desktop/magdesk/internal/server"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// magdesk runs the real command line in-process; stdin feeds --password-stdin.
func magdesk(t *testing.T, w *world, caFile, stdin string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	// Debug logging: the most the app ever writes to its log, all of it scanned below.
	all := append([]string{"--server", w.env.URL, "--ca", caFile, "--log-level", "debug"}, args...)
	if code := cli.Run(all, cli.IO{In: strings.NewReader(stdin), Out: &out, Err: &errb}); code != cli.ExitOK {
		t.Fatalf("magdesk %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return out.String()
}

// TestSecretsAtRest runs a whole scenario (activation, login, TOTP enrolment and a login with
// it, a certificate request with the key made here, access requests, logout) against a magd
// whose data folder and a MAGDESK_HOME this test owns, then scans every file of both —
// database, WAL, logs, the certificate store — for every secret used, in raw, hex, base64 and
// base32 forms. Secrets belong in the OS keyring or as hashes, never in a file.
func TestSecretsAtRest(t *testing.T) {
	if os.Getenv("MAGDESK_REAL_KEYRING") != "1" {
		keyring.MockInit()
	}
	data := filepath.Join(t.TempDir(), "magd")
	home := filepath.Join(t.TempDir(), "home")
	outside := t.TempDir() // the CA certificate and the answers file: inputs, not at rest
	t.Setenv("MAGDESK_HOME", home)
	t.Setenv("HOME", t.TempDir()) // the NSS databases certs commands look at (~/.pki/nssdb)
	t.Setenv("MAGDESK_TIMEOUT", "20s")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	logf, err := os.OpenFile(filepath.Join(data, "magd.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	w := newWorld(t, servertest.WithConfig(func(c *server.Config) {
		c.DataDir = data
		c.Logger = slog.New(slog.NewJSONHandler(logf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}))
	caFile := filepath.Join(outside, "ca.pem")
	if err := os.WriteFile(caFile, w.env.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := map[string][]byte{}
	add := func(name, v string) { secrets[name] = []byte(v) }
	for name, v := range map[string]string{"admin password": pwAdmin, "user password": pwUser, "other password": pwOther,
		"admin session": w.adminTok, "user session": w.userTok, "other session": w.otherTok, "spare session": w.spareTok,
		"revoked session": w.revokedTok} {
		add(name, v)
	}

	// Activation through the command line, with answers and password on stdin/in a file.
	const pw = "saffron glacier metronome ninety"
	answers := []api.SecurityAnswer{{QuestionID: "q01", Answer: "a hamster called Biscuit"}, {QuestionID: "q02", Answer: "Ouagadougou by the river"},
		{QuestionID: "q05", Answer: "Evangelina Marguerite"}, {QuestionID: "q09", Answer: "Rue des Tanneurs"}}
	ansFile := filepath.Join(outside, "answers.json")
	if err := os.WriteFile(ansFile, mustJSON(answers), 0o600); err != nil {
		t.Fatal(err)
	}
	id := w.env.CreateUser(t, w.org, "sam@acme.example", "Sam", "Secret", false)
	token := w.env.ActivationToken(t, id)
	add("password", pw)
	add("activation token", token)
	for _, a := range answers {
		add("security answer "+a.QuestionID, a.Answer)
	}
	magdesk(t, w, caFile, pw+"\n", "activate", "magdesk://activate?token="+token, "--password-stdin", "--answers", ansFile)
	if err := os.Remove(ansFile); err != nil {
		t.Fatal(err)
	}
	magdesk(t, w, caFile, pw+"\n", "login", "--user", id, "--password-stdin")
	sessions := client.OpenSessionStore()
	server, err := client.NormalizeServerURL(w.env.URL)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := sessions.Load(server, id)
	if err != nil || !strings.HasPrefix(sess.Token, "mst_") {
		t.Fatalf("the login's session in the keyring: %+v %v", sess, err)
	}
	add("session 1", sess.Token)

	// TOTP: enrol, verify, log out and in again with a code.
	var en api.TOTPEnrollment
	if err := json.Unmarshal([]byte(magdesk(t, w, caFile, "", "--json", "otp", "enroll")), &en); err != nil || en.SecretBase32 == "" {
		t.Fatalf("otp enroll --json: %+v %v", en, err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(en.SecretBase32, "="))
	if err != nil {
		t.Fatalf("TOTP secret %q: %v", en.SecretBase32, err)
	}
	add("TOTP secret (base32)", en.SecretBase32)
	secrets["TOTP secret (raw)"] = raw
	magdesk(t, w, caFile, "", "otp", "verify", code(t, en.SecretBase32, w.clk.Now()))
	magdesk(t, w, caFile, "", "logout")
	w.clk.Advance(30 * time.Second) // a code is accepted once: use the next one
	magdesk(t, w, caFile, pw+"\n", "login", "--user", id, "--password-stdin", "--otp", code(t, en.SecretBase32, w.clk.Now()))
	if sess, err = sessions.Load(server, id); err != nil {
		t.Fatal(err)
	}
	add("session 2", sess.Token)

	// A certificate: `certs request` makes the key here, sends the CSR through the client and
	// keeps the identity in the app's file store under MAGDESK_HOME; then a login with it.
	var out certstore.RequestOutcome
	if err := json.Unmarshal([]byte(magdesk(t, w, caFile, "", "--json", "certs", "request", "--label", "hardening")), &out); err != nil || out.Identity.SHA256 == "" {
		t.Fatalf("certs request --json: %+v %v", out, err)
	}
	t.Cleanup(func() { _ = keyring.Delete(certstore.KeyringService, string(out.Identity.SHA256)) })
	store, err := certstore.OpenFileStore(home)
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.Export(ctxT(t), out.Identity.SHA256)
	if err != nil {
		t.Fatalf("read the identity back: %v", err)
	}
	key, ok := b.Key.(*ecdsa.PrivateKey)
	if !ok {
		t.Fatalf("the requested key is a %T", b.Key)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	secrets["private key (PKCS#8 DER)"] = p8
	secrets["private key (SEC1 DER)"] = sec1
	scalar, err := key.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	secrets["private key (scalar)"] = scalar
	secrets["private key (PKCS#8 PEM)"] = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})
	if p12pw, err := keyring.Get(certstore.KeyringService, string(out.Identity.SHA256)); err == nil {
		add("file store PKCS#12 password", p12pw)
	} else {
		t.Fatalf("the identity's password is not in the keyring: %v", err)
	}
	magdesk(t, w, caFile, "", "logout")
	magdesk(t, w, caFile, pw+"\n", "login", "--user", id, "--password-stdin", "--cert", "auto")
	if sess, err = sessions.Load(server, id); err != nil || sess.CertSHA256 != string(out.Identity.SHA256) {
		t.Fatalf("the login with the certificate: %+v %v", sess, err)
	}
	add("session 3 (with the certificate)", sess.Token)

	// Access requests and a last look, then log out.
	magdesk(t, w, caFile, "", "apps", "request", appAvail)
	magdesk(t, w, caFile, "", "apps")
	magdesk(t, w, caFile, "", "me")
	magdesk(t, w, caFile, "", "logout")
	// The support bundle a help desk asks for is a file at rest too: its entries are scanned
	// unpacked.
	bundle := filepath.Join(home, "support.zip")
	magdesk(t, w, caFile, "", "support-bundle", bundle)
	unpacked := unzip(t, bundle)
	if err := w.env.Server.Close(); err != nil {
		t.Fatalf("close magd: %v", err)
	}

	// Whatever is there is for this user only: no file or folder readable by group or others,
	// except public certificates (the CA certificate is meant to be handed out).
	for _, root := range []string{data, home} {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err == nil && info.Mode().Perm()&0o077 != 0 && !publicCertFile(path) {
				t.Errorf("%s has mode %v: readable beyond its owner", path, info.Mode().Perm())
			}
			return nil
		})
	}
	// The scan below reads a real debug log of every command (not an empty file).
	if st, err := os.Stat(filepath.Join(logging.Dir(home), logging.FileName)); err != nil || st.Size() < 1000 {
		t.Fatalf("the app's debug log: %v %v", st, err)
	}
	var needles []needle
	for name, v := range secrets {
		needles = append(needles, forms(name, v)...)
	}
	files, hits := scanTree(t, []string{data, home, unpacked}, needles)
	mail := filepath.Join(data, "mail") + string(filepath.Separator)
	inMail := 0
	for _, h := range hits {
		// The activation email is the channel that delivers the token: it sits in the Maildir
		// until read, and the token was consumed above. Finding it there also shows
		// the scan reads real files.
		if h.secret == "activation token" && strings.HasPrefix(h.file, mail) {
			inMail++
			continue
		}
		t.Errorf("%s (%s) found in %s", h.secret, h.form, h.file)
	}
	if inMail == 0 {
		t.Error("the scan did not even find the activation token in the activation email")
	}
	if files < 5 {
		t.Fatalf("scanned only %d files", files)
	}
	t.Logf("secrets at rest: %d secrets in %d forms each looked for in %d files under the data folder, MAGDESK_HOME and the unpacked support bundle", len(secrets), len(needles)/len(secrets), files)
}

// unzip extracts a zip archive into a new temporary folder.
func unzip(t *testing.T, path string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer zr.Close()
	dir := t.TempDir()
	for i, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, 64<<20))
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%03d-%s", i, filepath.Base(f.Name))), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if len(zr.File) == 0 {
		t.Fatalf("the support bundle %s is empty", path)
	}
	return dir
}

// publicCertFile reports a PEM file holding certificates and nothing secret.
func publicCertFile(path string) bool {
	data, err := os.ReadFile(path)
	return err == nil && strings.HasSuffix(path, ".pem") && bytes.Contains(data, []byte("BEGIN CERTIFICATE")) &&
		!bytes.Contains(data, []byte("PRIVATE KEY"))
}
