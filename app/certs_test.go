package app

import (
	"context"
	"crypto/tls"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"

	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
	"github.com/mag-desktop/magdesk/internal/service"
)

// browserStore makes the NSS database Chrome and many tools use (~/.pki/nssdb) in the test's
// HOME, so the app finds certificates "in the browser".
func (h *harness) browserStore() *certstore.NSSStore {
	h.t.Helper()
	if _, err := exec.LookPath("certutil"); err != nil {
		h.t.Skip("certutil is not installed (libnss3-tools)")
	}
	dir := filepath.Join(h.userHome, ".pki", "nssdb")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		h.t.Fatal(err)
	}
	if out, err := exec.Command("certutil", "-N", "-d", "sql:"+dir, "--empty-password").CombinedOutput(); err != nil {
		h.t.Fatalf("certutil -N: %v %s", err, out)
	}
	return certstore.NewNSSStore(dir, "test browser", certstore.ExecRunner{})
}

// plantSecond puts the demo user's second-account certificate into st (nil: the app's store).
func (h *harness) plantSecond(st certstore.Store) certstore.Identity {
	h.t.Helper()
	d := h.env.Server.Demo()
	b, err := certstore.ParsePEMIdentity(d.SecondCertPEM, d.SecondKeyPEM)
	if err != nil {
		h.t.Fatal(err)
	}
	if st == nil {
		fs, err := certstore.OpenFileStore(h.home, certstore.WithKeyring(testKeyring))
		if err != nil {
			h.t.Fatal(err)
		}
		st = fs
	}
	id, err := st.Import(context.Background(), b)
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

func (h *harness) certStatus(sha certstore.Fingerprint) string {
	for _, id := range h.u.certs.ids {
		if id.SHA256 == string(sha) {
			return id.Status
		}
	}
	return ""
}

func TestCertificatesRequestAndFix2035ByRemoval(t *testing.T) {
	h := newHarness(t, servertest.WithDemo())
	nss := h.browserStore()
	planted := h.plantSecond(nss)
	d := h.env.Server.Demo()
	h.login(d.UserUserID, d.UserPassword)

	// Request a new certificate: key made here, stored in the app's store, bound to this account.
	h.u.showTab(TabCerts)
	h.u.Wait()
	h.tap(h.u.certs.request)
	h.mustContain(h.u.lastInfo, "Certificate issued")
	h.u.Wait()
	bound := 0
	for _, id := range h.u.certs.ids {
		if id.Status == service.CertBound {
			bound++
		}
	}
	if bound != 1 {
		t.Fatalf("%d certificates bound to this account, want 1: %+v", bound, h.u.certs.ids)
	}

	// The browser's certificate of the other account is found and marked as Error 2035.
	if st := h.certStatus(planted.SHA256); st != service.CertWrongAccount {
		t.Fatalf("planted certificate status %q", st)
	}
	h.mustContain(labels(h.u.certs.content), "Error 2035")

	// The wizard: backup, remove certificate and key, verify.
	h.tap(h.u.certs.fixFor[string(planted.SHA256)])
	f := h.u.fix
	if f == nil || h.u.TopDialog() == nil {
		t.Fatal("the 2035 wizard did not open")
	}
	f.showRemove()
	backup := filepath.Join(t.TempDir(), "second-account.p12")
	h.typeIn(f.backupPath.entry, backup)
	h.typeIn(f.backupPW, "backup pass 1")
	h.typeIn(f.backupPW2, "backup pass 2")
	h.tap(f.remove)
	h.mustContain(f.err.Text, "don't match")
	h.typeIn(f.backupPW2, "backup pass 1")
	h.tap(f.remove)
	if f.err.Text != "" {
		t.Fatalf("removal failed: %s", f.err.Text)
	}
	h.mustContain(f.result.Text, "Close every browser window")
	h.mustContain(f.result.Text, "neither the certificate nor its key")

	left, err := nss.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("still in the browser's store: %+v", left)
	}
	data, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	b, err := certstore.ParsePKCS12(data, "backup pass 1")
	if err != nil || certstore.FingerprintOf(b.Cert) != planted.SHA256 || b.Key == nil {
		t.Fatalf("backup does not hold the certificate and key: %v", err)
	}

	// The next login presents this account's own certificate by itself: a stronger session.
	h.u.fix.d.Hide()
	h.u.Logout()
	h.u.Wait()
	h.login(d.UserUserID, d.UserPassword)
	if me := h.u.LoggedIn(); me == nil || me.Session.AAL < 2 || !slices.Contains(me.Session.AMR, "x509") {
		t.Fatalf("login did not use the account's certificate: %+v (%q)", me, h.u.login.err.Text)
	}
}

func TestFix2035ByConnectingAndExport(t *testing.T) {
	h := newHarness(t, servertest.WithDemo())
	planted := h.plantSecond(nil)
	d := h.env.Server.Demo()
	h.login(d.UserUserID, d.UserPassword)
	h.u.showTab(TabCerts)
	h.u.Wait()
	if st := h.certStatus(planted.SHA256); st != service.CertWrongAccount {
		t.Fatalf("status %q", st)
	}
	h.tap(h.u.certs.fixFor[string(planted.SHA256)])
	f := h.u.fix
	f.showConnect()
	h.typeIn(f.fromUser, d.SecondUserID)
	h.typeIn(f.fromPW, "not the password at all")
	h.tap(f.connect)
	if f.err.Text == "" {
		t.Fatal("wrong credentials of the other account accepted")
	}
	h.typeIn(f.fromPW, d.SecondPassword)
	h.tap(f.connect)
	if f.err.Text != "" {
		t.Fatalf("connect failed: %s", f.err.Text)
	}
	h.mustContain(f.result.Text, "connected to "+d.UserUserID)
	h.u.certs.refresh()
	h.u.Wait()
	if st := h.certStatus(planted.SHA256); st != service.CertBound {
		t.Fatalf("after connecting, status %q", st)
	}
	// As on the command line, the app's note of the owner moved to this account, so a login
	// of this account picks the certificate and one of the other account no longer does.
	fs, err := certstore.OpenFileStore(h.home, certstore.WithKeyring(testKeyring))
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := fs.Records()
	if len(recs) != 1 || recs[0].SHA256 != planted.SHA256 || recs[0].UserID != d.UserUserID {
		t.Fatalf("owner record after connecting: %+v", recs)
	}

	// Export it, encrypted, and the file reads back.
	out := filepath.Join(t.TempDir(), "export.p12")
	if err := h.svc.ExportIdentity(context.Background(), string(planted.SHA256), out, "short"); err == nil {
		t.Fatal("a too short export password was accepted")
	}
	h.u.certs.askExport(h.u.certs.ids[0])
	if h.u.TopDialog() == nil {
		t.Fatal("no export dialog")
	}
	if err := h.svc.ExportIdentity(context.Background(), string(planted.SHA256), out, "export pass 1"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(out)
	if _, err := certstore.ParsePKCS12(data, "export pass 1"); err != nil {
		t.Fatal(err)
	}

	// Import: a wrong password says so and keeps nothing.
	_, err = h.svc.ImportIdentity(context.Background(), out, "wrong pass")
	if err == nil || !strings.Contains(strings.ToLower(service.Explain(err).Message), "password") {
		t.Fatalf("import with a wrong password: %v", err)
	}
}

// offering is the certificate side of a computer whose browser offers the wrong certificate.
type offering struct {
	service.Certs
	cert *tls.Certificate
}

func (o offering) ForLogin(context.Context, string, string) (*tls.Certificate, error) {
	return o.cert, nil
}

func TestLogin2035OpensFixAndRetriesWithout(t *testing.T) {
	h := newHarness(t, servertest.WithDemo())
	d := h.env.Server.Demo()
	b, err := certstore.ParsePEMIdentity(d.SecondCertPEM, d.SecondKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	h.rebuild(h.u.App, func(o *service.Options) {
		// The real stores, but login offers the second account's certificate.
		st := o.Stores
		st.Home = o.Home
		o.Certs = offering{Certs: service.NewLocalCerts(st, nil), cert: b.TLSCertificate()}
	})
	h.u.ShowLogin("")
	h.login(d.UserUserID, d.UserPassword)
	if h.u.LoggedIn() != nil {
		t.Fatal("logged in with another account's certificate")
	}
	h.mustContain(h.u.login.err.Text, "2035")
	if h.u.fix == nil || h.u.TopDialog() == nil || h.u.fix.retry == nil {
		t.Fatal("the 2035 fix did not open from Login")
	}
	h.u.fix.d.Hide()
	h.u.fix.retry(true) // "Log in without it this time"
	h.u.Wait()
	if h.u.LoggedIn() == nil {
		t.Fatalf("login without the certificate failed: %q", h.u.login.err.Text)
	}
}

// Importing a PKCS#12 file through the Import dialog notes the logged-in account as its owner
// when the gateway has it bound to that account (as the command line does), and nobody else.
func TestImportDialogRecordsTheOwner(t *testing.T) {
	cases := []struct {
		name                string
		asSecond, wantOwner bool
		status              string
	}{
		{"bound to the logged-in account", true, true, service.CertBound},
		{"bound to another account", false, false, service.CertWrongAccount},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, servertest.WithDemo())
			d := h.env.Server.Demo()
			b, err := certstore.ParsePEMIdentity(d.SecondCertPEM, d.SecondKeyPEM)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "mine.p12")
			if err := certstore.WritePKCS12File(path, b, "file password 1"); err != nil {
				t.Fatal(err)
			}
			user, pw := d.UserUserID, d.UserPassword
			if tc.asSecond {
				user, pw = d.SecondUserID, d.SecondPassword
			}
			h.login(user, pw)
			h.u.showTab(TabCerts)
			h.u.Wait()

			h.tap(h.u.certs.importB)
			form, ok := h.u.TopDialog().(*dialog.FormDialog)
			if !ok {
				t.Fatalf("Import opened %T", h.u.TopDialog())
			}
			h.typeIn(h.u.certs.path.entry, path)
			secret, _ := find(h.overlay(), func(o fyne.CanvasObject) bool {
				e, ok := o.(*escEntry)
				return ok && e.Password
			}).(*escEntry)
			if secret == nil {
				t.Fatal("the Import dialog has no password entry")
			}
			h.typeIn(secret, "file password 1")
			form.Submit()
			h.u.Wait()
			if h.u.certs.err.Text != "" {
				t.Fatalf("import failed: %s", h.u.certs.err.Text)
			}

			want := ""
			if tc.wantOwner {
				want = user
			}
			fs, err := certstore.OpenFileStore(h.home, certstore.WithKeyring(testKeyring))
			if err != nil {
				t.Fatal(err)
			}
			recs, _ := fs.Records()
			if len(recs) != 1 || recs[0].SHA256 != certstore.FingerprintOf(b.Cert) || recs[0].UserID != want {
				t.Fatalf("owner record after importing: %+v, want the owner %q", recs, want)
			}
			if st := h.certStatus(certstore.FingerprintOf(b.Cert)); st != tc.status {
				t.Fatalf("status after importing: %q, want %q", st, tc.status)
			}
		})
	}
}
