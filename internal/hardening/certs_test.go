package hardening

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net/url"
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

// TestStolenSessionEndsWithItsCertificate: someone holding the session token of a certificate
// login keeps using it; once an administrator revokes the certificate the token is refused
// within the session cache's 5 s, and a launch link taken before is refused.
func TestStolenSessionEndsWithItsCertificate(t *testing.T) {
	w := newWorld(t)
	owner, _ := w.login(t, w.user, pwUser)
	key := newP256(t)
	issued, err := owner.RequestCertificate(ctxT(t), csrPEM(t, key), "stolen")
	if err != nil {
		t.Fatal(err)
	}
	cert := identityOf(t, issued, key)
	c := w.clientFrom(t, "127.0.0.1", &cert)
	a, err := w.send(c, rawReq{method: "POST", path: api.PathLogin, ctype: "application/json",
		body: mustJSON(api.LoginRequest{UserID: w.user, Password: pwUser})})
	var login api.LoginResponse
	if err != nil || a.status != 200 || json.Unmarshal(a.body, &login) != nil || login.Session.AAL != 2 {
		t.Fatalf("certificate login: %d %v %s", a.status, err, a.body)
	}
	thief := w.rawClient(t)
	me := rawReq{method: "GET", path: api.PathMe, authz: "Bearer " + login.SessionToken}
	if a, err := w.send(thief, me); err != nil || a.status != 200 {
		t.Fatalf("the stolen token before revocation: %d %v", a.status, err)
	}
	launch, err := w.send(thief, rawReq{method: "POST", path: fill(api.PathLaunch, map[string]string{"app": appGranted}),
		ctype: "application/json", body: []byte("{}"), authz: "Bearer " + login.SessionToken})
	var l api.LaunchResponse
	if err != nil || launch.status != 200 || json.Unmarshal(launch.body, &l) != nil {
		t.Fatalf("launch link: %d %v %s", launch.status, err, launch.body)
	}
	if err := w.env.Server.RevokeCertificate(ctxT(t), issued.CertificateID); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	for {
		a, err := w.send(thief, me)
		if err != nil {
			t.Fatal(err)
		}
		if a.status == 401 {
			break
		}
		if time.Since(revoked) > 6*time.Second {
			t.Fatalf("the stolen token still works %v after revocation: %d", time.Since(revoked), a.status)
		}
		time.Sleep(200 * time.Millisecond)
	}
	u, _ := url.Parse(l.LaunchURL)
	if a, err := w.send(thief, rawReq{method: "GET", path: u.Path}); err != nil || a.status != 403 {
		t.Fatalf("the launch link after revocation: %d %v", a.status, err)
	}
	t.Logf("stolen certificate session refused %v after revocation", time.Since(revoked).Round(100*time.Millisecond))
}
