package service

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/config"
	"github.com/mag-desktop/magdesk/internal/secrets"
	"github.com/mag-desktop/magdesk/internal/server"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
	"github.com/mag-desktop/magdesk/internal/testenv"
)

// certsRig is a service over the stores of a throwaway computer (the app's store and a
// browser's NSS database under userHome), against a real demo magd.
type certsRig struct {
	t        *testing.T
	env      *servertest.Env
	demo     *server.DemoInfo
	home     string
	userHome string
	keyring  secrets.Keyring
	svc      *Service
}

func newCertsRig(t *testing.T) *certsRig {
	t.Helper()
	r := &certsRig{t: t, env: servertest.Start(t, servertest.WithDemo()), home: t.TempDir(), userHome: t.TempDir(), keyring: secrets.NewMemory()}
	r.demo = r.env.Server.Demo()
	ca := filepath.Join(r.home, "gateway-ca.pem")
	if err := os.WriteFile(ca, r.env.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	st := config.Defaults()
	st.ServerURL, st.CABundle = r.env.URL, ca
	if err := config.SaveUser(r.home, st); err != nil {
		t.Fatal(err)
	}
	eff, err := config.Load(r.home)
	if err != nil {
		t.Fatal(err)
	}
	r.svc = NewService(Options{Home: r.home, Settings: eff, Keyring: r.keyring, Sessions: client.NewSessionStore(r.keyring),
		Stores: certstore.InventoryOptions{Discover: certstore.DiscoverOptions{Home: r.userHome,
			XDGConfigHome: filepath.Join(r.userHome, ".config"), XDGDataHome: filepath.Join(r.userHome, ".local/share"), SystemDirs: []string{}}}})
	return r
}

func (r *certsRig) login(userID, password string) {
	r.t.Helper()
	if _, err := r.svc.Login(context.Background(), LoginRequest{UserID: userID, Password: password, NoCertificate: true}); err != nil {
		r.t.Fatalf("login %s: %v", userID, err)
	}
}

// second is the demo's certificate bound only to the demo user's second account.
func (r *certsRig) second() *certstore.Bundle {
	r.t.Helper()
	b, err := certstore.ParsePEMIdentity(r.demo.SecondCertPEM, r.demo.SecondKeyPEM)
	if err != nil {
		r.t.Fatal(err)
	}
	return b
}

func (r *certsRig) fileStore() *certstore.FileStore {
	r.t.Helper()
	fs, err := certstore.OpenFileStore(r.home, certstore.WithKeyring(r.keyring))
	if err != nil {
		r.t.Fatal(err)
	}
	return fs
}

// browser is the NSS database browsers share (~/.pki/nssdb) of the throwaway HOME.
func (r *certsRig) browser() certstore.Store {
	r.t.Helper()
	testenv.NeedTool(r.t, "certutil")
	testenv.NeedTool(r.t, "pk12util")
	dir := filepath.Join(r.userHome, ".pki", "nssdb")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		r.t.Fatal(err)
	}
	if out, err := exec.Command("certutil", "-N", "-d", "sql:"+dir, "--empty-password").CombinedOutput(); err != nil {
		r.t.Fatalf("certutil -N: %v %s", err, out)
	}
	return certstore.NewNSSStore(dir, "test browser", certstore.ExecRunner{})
}

// owner is the app's note of whose fp is ("", false: no note at all).
func (r *certsRig) owner(fp certstore.Fingerprint) (certstore.Record, bool) {
	r.t.Helper()
	recs, err := r.fileStore().Records()
	if err != nil {
		r.t.Fatal(err)
	}
	for _, rec := range recs {
		if rec.SHA256 == fp {
			return rec, true
		}
	}
	return certstore.Record{}, false
}

// After Account Connections the app notes the certificate as the logged-in account's, wherever
// it was found: with a note of another owner, with a note of none, or with no note at all.
func TestConnectLeavesAnOwnerRecord(t *testing.T) {
	cases := []struct {
		name  string
		plant func(r *certsRig, b *certstore.Bundle)
	}{
		{"in the app's store, noted for the other account", func(r *certsRig, b *certstore.Bundle) {
			if _, err := r.fileStore().ImportRecord(context.Background(), b, certstore.Record{Source: certstore.SourceImport,
				ServerURL: r.env.URL, UserID: r.demo.SecondUserID}); err != nil {
				t.Fatal(err)
			}
		}},
		{"in the app's store, noted for nobody", func(r *certsRig, b *certstore.Bundle) {
			if _, err := r.fileStore().Import(context.Background(), b); err != nil {
				t.Fatal(err)
			}
		}},
		{"in a browser's store only, with no note", func(r *certsRig, b *certstore.Bundle) {
			if _, err := r.browser().Import(context.Background(), b); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newCertsRig(t)
			b := r.second()
			fp := certstore.FingerprintOf(b.Cert)
			tc.plant(r, b)
			r.login(r.demo.UserUserID, r.demo.UserPassword)
			if _, err := r.svc.Connect(context.Background(), ConnectRequest{SHA256: string(fp),
				FromUserID: r.demo.SecondUserID, Password: r.demo.SecondPassword}); err != nil {
				t.Fatalf("connect: %v", err)
			}
			rec, ok := r.owner(fp)
			gw, _ := client.NormalizeServerURL(r.env.URL)
			if !ok || rec.UserID != r.demo.UserUserID || rec.ServerURL != gw {
				t.Fatalf("owner record after connecting: %+v (present %v), want %s at %s", rec, ok, r.demo.UserUserID, gw)
			}
			rep, err := r.svc.CertificateReport(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range rep.Identities {
				if c.SHA256 == fp && (c.Class != certstore.ClassBound || c.Account != r.demo.UserUserID) {
					t.Errorf("%s in %s after connecting: %s of %q", fp.Short(), c.Location.Label, c.Class, c.Account)
				}
			}
		})
	}
}

// A PKCS#12 imported the way the window imports it is noted as the logged-in account's when
// the gateway has it bound to that account, and as nobody's otherwise.
func TestImportIdentityRecordsItsOwner(t *testing.T) {
	cases := []struct {
		name      string
		login     func(d *server.DemoInfo) (user, password string)
		wantOwner func(d *server.DemoInfo) string
	}{
		{"bound to the logged-in account",
			func(d *server.DemoInfo) (string, string) { return d.SecondUserID, d.SecondPassword },
			func(d *server.DemoInfo) string { return d.SecondUserID }},
		{"bound to another account",
			func(d *server.DemoInfo) (string, string) { return d.UserUserID, d.UserPassword },
			func(*server.DemoInfo) string { return "" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newCertsRig(t)
			b := r.second()
			fp := certstore.FingerprintOf(b.Cert)
			path := filepath.Join(t.TempDir(), "mine.p12")
			if err := certstore.WritePKCS12File(path, b, "file password 1"); err != nil {
				t.Fatal(err)
			}
			user, pw := tc.login(r.demo)
			r.login(user, pw)
			id, err := r.svc.ImportIdentity(context.Background(), path, "file password 1")
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			want := tc.wantOwner(r.demo)
			rec, ok := r.owner(fp)
			if !ok || rec.UserID != want || id.Account != want {
				t.Fatalf("after import: record %+v (present %v), identity of %q; want the owner %q", rec, ok, id.Account, want)
			}
			// The note is what a later login goes by: it presents the certificate for its owner only.
			gw, _ := client.NormalizeServerURL(r.env.URL)
			cert, err := r.svc.o.Certs.ForLogin(context.Background(), gw, user)
			if err != nil || (cert != nil) != (want == user) {
				t.Fatalf("login certificate for %s: %v, %v", user, cert != nil, err)
			}
		})
	}
}
