package service

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/config"
	"github.com/mag-desktop/magdesk/internal/secrets"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

const renewPW = "plum orbit lantern quietly 42"

// gatewayService is a service with its own file store and keyring against a real magd.
func gatewayService(t *testing.T, env *servertest.Env) (*Service, *certstore.FileStore) {
	t.Helper()
	home, userHome := t.TempDir(), t.TempDir()
	ca := filepath.Join(home, "ca.pem")
	if err := os.WriteFile(ca, env.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	st := config.Defaults()
	st.ServerURL, st.CABundle = env.URL, ca
	k := secrets.NewMemory()
	svc := NewService(Options{Home: home, Settings: config.Effective{Settings: st}, Keyring: k, Sessions: client.NewSessionStore(nil),
		Stores: certstore.InventoryOptions{Discover: certstore.DiscoverOptions{Home: userHome, XDGConfigHome: filepath.Join(userHome, ".config"),
			XDGDataHome: filepath.Join(userHome, ".local/share"), SystemDirs: []string{}}}})
	fs, err := certstore.OpenFileStore(home, certstore.WithKeyring(k))
	if err != nil {
		t.Fatal(err)
	}
	return svc, fs
}

// fileSHAs is what the file store holds; each one must have its key.
func fileSHAs(t *testing.T, fs *certstore.FileStore) []string {
	t.Helper()
	ids, err := fs.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !id.Key.Present {
			t.Errorf("%s is in the file store without its key", id.SHA256)
		}
		out = append(out, string(id.SHA256))
	}
	slices.Sort(out)
	return out
}

// activeAtGateway is the account's active certificates as the gateway lists them.
func activeAtGateway(t *testing.T, svc *Service) []string {
	t.Helper()
	c, err := svc.current()
	if err != nil {
		t.Fatal(err)
	}
	certs, err := c.Certificates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, cert := range certs {
		if cert.Status == "active" {
			out = append(out, cert.SHA256)
		}
	}
	slices.Sort(out)
	return out
}

// TestRenewalRetriedLeavesOneCertificate: a renewal whose login failed (a wrong password) is
// renewed again. When the first new certificate is still here, the retry finishes with it; when
// its key was lost, the gateway's second renewal replaces it. Either way the account ends with
// one active certificate, the one in the file store, and the old one revoked and gone.
func TestRenewalRetriedLeavesOneCertificate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		keyLost bool
	}{
		{"first new certificate still here", false},
		{"first new certificate lost", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := servertest.NewFrozenClock(time.Now().Add(-300 * 24 * time.Hour).Truncate(time.Second))
			env := servertest.Start(t, servertest.WithNow(clk.Now), servertest.WithSecurityQuestions(false))
			uid := env.CreateActiveUser(t, env.CreateOrg(t, "Acme"), "a@acme.example", "Ann", "Able", renewPW, false)
			svc, fs := gatewayService(t, env)
			ctx := context.Background()
			if _, err := svc.Login(ctx, LoginRequest{UserID: uid, Password: renewPW, NoCertificate: true}); err != nil {
				t.Fatal(err)
			}
			old, err := svc.RequestCertificate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			clk.Advance(old.NotAfter.Add(-89 * 24 * time.Hour).Sub(clk.Now()))
			if _, err := svc.Login(ctx, LoginRequest{UserID: uid, Password: renewPW}); err != nil {
				t.Fatal(err)
			}
			_, err = svc.RenewCertificate(ctx, RenewRequest{SHA256: old.SHA256, Password: "not my password at all"})
			if CodeOf(err) != CodeRenewalLoginFailed {
				t.Fatalf("renewal with a wrong password: %v (%s)", err, CodeOf(err))
			}
			here := fileSHAs(t, fs)
			first := slices.DeleteFunc(slices.Clone(here), func(s string) bool { return s == old.SHA256 })
			if len(here) != 2 || len(first) != 1 {
				t.Fatalf("after the failed renewal the file store holds %v, want the old %s and a new one", here, old.SHA256)
			}
			if tc.keyLost {
				if _, err := fs.Remove(ctx, certstore.Fingerprint(first[0])); err != nil {
					t.Fatal(err)
				}
			}

			res, err := svc.RenewCertificate(ctx, RenewRequest{SHA256: old.SHA256, Password: renewPW})
			if err != nil {
				t.Fatalf("renewal retried: %v", err)
			}
			if got := res.New.SHA256 == first[0]; got == tc.keyLost {
				t.Fatalf("retry renewed to %s, first new certificate %s (key lost: %v)", res.New.SHA256, first[0], tc.keyLost)
			}
			if res.Me.Session.CertSHA256 != res.New.SHA256 || res.Me.Session.AAL != 2 {
				t.Fatalf("session after renewal: %+v", res.Me.Session)
			}
			want := []string{res.New.SHA256}
			if got := fileSHAs(t, fs); !slices.Equal(got, want) {
				t.Fatalf("file store after renewal: %v, want %v", got, want)
			}
			if got := activeAtGateway(t, svc); !slices.Equal(got, want) {
				t.Fatalf("active at the gateway after renewal: %v, want %v", got, want)
			}
		})
	}
}
