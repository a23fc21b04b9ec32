package hardening

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
)

// foreignCert is a client certificate magd did not issue.
func foreignCert(t *testing.T, notAfter time.Time, eku []x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key := newP256(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "intruder"},
		NotBefore: notAfter.Add(-48 * time.Hour), NotAfter: notAfter, ExtKeyUsage: eku, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestForeignClientCertificates: certificates magd did not issue (self-signed, expired, for
// servers only) presented at login or to Account Connections are answered with a JSON problem
// (CERT_UNTRUSTED), never a TLS alert or a login, even with the right password.
func TestForeignClientCertificates(t *testing.T) {
	w := newWorld(t)
	ctx := ctxT(t)
	now := time.Now()
	certs := map[string]tls.Certificate{
		"self-signed client":  foreignCert(t, now.Add(24*time.Hour), []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}),
		"expired self-signed": foreignCert(t, now.Add(-24*time.Hour), []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}),
		"server-only":         foreignCert(t, now.Add(24*time.Hour), []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}),
	}
	for name, cert := range certs {
		t.Run(name, func(t *testing.T) {
			c := w.client(t).WithCertificate(&cert)
			defer c.CloseIdleConnections()
			_, err := c.Login(ctx, w.user, pwUser, "")
			p := client.ProblemOf(err)
			if p == nil || p.Code != api.CodeCertUntrusted || p.CertSHA256 == "" {
				t.Fatalf("login = %v, want CERT_UNTRUSTED naming the certificate", err)
			}
			logged, _ := w.login(t, w.admin, pwAdmin)
			lc := logged.WithCertificate(&cert)
			defer lc.CloseIdleConnections()
			_, err = lc.ConnectCertificate(ctx, api.ConnectionRequest{UserID: w.user, Password: pwUser})
			if p := client.ProblemOf(err); p == nil || p.Code != api.CodeCertUntrusted {
				t.Fatalf("account connection = %v, want CERT_UNTRUSTED", err)
			}
		})
	}
}
