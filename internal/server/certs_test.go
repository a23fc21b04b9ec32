package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/ca"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

func csrPEM(t testing.TB, key *ecdsa.PrivateKey, cn string) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// TestWrongCertificateScenario is the Error 2035 story of the seed page: the demo user's
// second account owns a certificate; logging in to the first account with it gives 2035 (after
// the password verified, never naming the other account); Account Connections fixes it.
func TestWrongCertificateScenario(t *testing.T) {
	env := servertest.Cluster(t, servertest.WithDemo())
	d := env.Server.Demo()
	if d == nil || d.UserUserID == d.SecondUserID || d.PendingUserID == "" || !strings.HasPrefix(d.ActivationLink, "magdesk://activate?token=") {
		t.Fatalf("demo: %+v", d)
	}
	pair, err := tls.X509KeyPair(d.SecondCertPEM, d.SecondKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	withCert := env.Client(t, &pair)
	plain := env.Client(t, nil)

	// A wrong password with the certificate is just a wrong password.
	_, p := env.Login(t, withCert, d.UserUserID, "not the password at all")
	wantCode(t, "wrong password with certificate", p, api.CodeInvalidCredentials)

	_, p = env.Login(t, withCert, d.UserUserID, d.UserPassword)
	wantCode(t, "login with the other account's certificate", p, api.CodeCertWrongAccount)
	if p.MagCode != 2035 || p.Status != 403 || len(p.CertSHA256) != 64 {
		t.Fatalf("2035 problem: %+v", p)
	}
	raw, _ := json.Marshal(p)
	if strings.Contains(string(raw), d.SecondUserID) {
		t.Fatalf("2035 names the other account: %s", raw)
	}
	actions := map[string]api.Remediation{}
	for _, r := range p.Remediation {
		actions[r.Action] = r
	}
	for _, a := range []string{"connect_certificate", "request_new_certificate", "remove_local_certificate", "retry_login_without_certificate"} {
		if _, ok := actions[a]; !ok {
			t.Fatalf("remediation lacks %s: %+v", a, p.Remediation)
		}
	}
	if r := actions["remove_local_certificate"]; !r.ClientSide || r.CertSHA256 != p.CertSHA256 {
		t.Fatalf("remove_local_certificate: %+v", r)
	}

	// The owner logs in with it: second factor, AAL2.
	lr, p := env.Login(t, withCert, d.SecondUserID, d.SecondPassword)
	if p != nil || lr.Session.AAL != 2 || strings.Join(lr.Session.AMR, ",") != "pwd,x509" || lr.Session.CertSHA256 != p2sha(d.SecondCertPEM) {
		t.Fatalf("owner login: %v %+v", p, lr.Session)
	}

	// Account Connections: log in to the first account without the certificate, then bind it.
	tok := mustLoginPW(t, env, plain, d.UserUserID, d.UserPassword)
	conn := api.ConnectionRequest{UserID: d.SecondUserID, Password: d.SecondPassword}
	_, p = env.Do(t, plain, "POST", api.PathCertificateConnections, tok, conn, nil)
	wantCode(t, "connection without a certificate", p, api.CodeCertRequired)
	_, p = env.Do(t, withCert, "POST", api.PathCertificateConnections, tok, api.ConnectionRequest{UserID: d.SecondUserID, Password: "wrong wrong wrong"}, nil)
	wantCode(t, "connection with a wrong password", p, api.CodeConnectionSourceAuth)
	_, p = env.Do(t, withCert, "POST", api.PathCertificateConnections, tok, api.ConnectionRequest{UserID: d.AdminUserID, Password: d.AdminPassword}, nil)
	wantCode(t, "connection naming an account that does not own it", p, api.CodeConnectionSourceAuth)
	var c api.Connection
	if st, p := env.Do(t, withCert, "POST", api.PathCertificateConnections, tok, conn, &c); st != 201 || c.BoundAccounts != 2 {
		t.Fatalf("connect: %d %v %+v", st, p, c)
	}
	_, p = env.Do(t, withCert, "POST", api.PathCertificateConnections, tok, conn, nil)
	wantCode(t, "connect twice", p, api.CodeCertAlreadyConnected)
	var both int
	for _, m := range env.Mails(t) {
		if m.Template == "cert_connected" {
			both++
		}
	}
	if both != 2 {
		t.Fatalf("%d connection emails, want 2 (one per account)", both)
	}

	lr, p = env.Login(t, withCert, d.UserUserID, d.UserPassword)
	if p != nil || lr.Session.AAL != 2 {
		t.Fatalf("login after connection: %v %+v", p, lr.Session)
	}
	var certs []api.Certificate
	env.Do(t, plain, "GET", api.PathCertificates, lr.SessionToken, nil, &certs)
	if len(certs) != 1 || certs[0].BoundVia != "connection" || certs[0].BoundAccounts != 2 {
		t.Fatalf("certificates of the first account: %+v", certs)
	}
	if evs, _ := env.Server.AuditEvents(t.Context(), "cert.connected"); len(evs) != 1 {
		t.Fatalf("audit: %+v", evs)
	}
}

func hexSHA(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

func p2sha(certPEM []byte) string {
	b, _ := pem.Decode(certPEM)
	c, _ := x509.ParseCertificate(b.Bytes)
	return hexSHA(c.Raw)
}

func mustLoginPW(t *testing.T, env *servertest.Env, c *http.Client, uid, pw string) string {
	t.Helper()
	lr, p := env.Login(t, c, uid, pw)
	if p != nil {
		t.Fatalf("login %s: %v", uid, p)
	}
	return lr.SessionToken
}

// TestIssueCertificate requests a certificate from a CSR, checks what was issued, and logs in with it.
func TestIssueCertificate(t *testing.T) {
	env := servertest.Start(t, servertest.WithSecurityQuestions(false))
	c := env.Client(t, nil)
	org := env.CreateOrg(t, "Acme")
	uid := env.CreateActiveUser(t, org, "a@acme.example", "Ann", "Able", goodPW, false)
	tok := mustLogin(t, env, c, uid)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var got api.Certificate
	if st, p := env.Do(t, c, "POST", api.PathCertificates, tok, api.CSRRequest{CSRPEM: csrPEM(t, key, "Administrator"), Label: "laptop"}, &got); st != 201 {
		t.Fatalf("issue: %d %v", st, p)
	}
	b, _ := pem.Decode([]byte(got.CertificatePEM))
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName == "Administrator" || len(cert.URIs) != 1 || cert.URIs[0].String() != "urn:mag:cert:"+got.CertificateID ||
		len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth || got.SHA256 != hexSHA(cert.Raw) ||
		!strings.Contains(got.ChainPEM, "BEGIN CERTIFICATE") {
		t.Fatalf("issued: %+v %+v", got, cert.Subject)
	}
	_, p := env.Do(t, c, "POST", api.PathCertificates, tok, api.CSRRequest{CSRPEM: "garbage"}, nil)
	wantCode(t, "garbage CSR", p, api.CodeCSRInvalid)

	pair := tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key}
	lr, p := env.Login(t, env.Client(t, &pair), uid, goodPW)
	if p != nil || lr.Session.AAL != 2 {
		t.Fatalf("login with the new certificate: %v %+v", p, lr)
	}
	if len(lr.RequiredActions) != 0 {
		t.Fatalf("required actions with a certificate: %v", lr.RequiredActions)
	}

	// A certificate from somebody else's CA: untrusted, reported as JSON after the password.
	self := selfSigned(t)
	_, p = env.Login(t, env.Client(t, &self), uid, goodPW)
	wantCode(t, "foreign certificate", p, api.CodeCertUntrusted)
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "intruder"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestCertificateProblems: a revoked, an expired and an unregistered certificate of our CA each
// get their own code at login, after the password.
func TestCertificateProblems(t *testing.T) {
	clk, env, c, uid := oneUser(t)
	tok := mustLogin(t, env, c, uid)
	issue := func() (api.Certificate, tls.Certificate) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		var got api.Certificate
		if st, p := env.Do(t, c, "POST", api.PathCertificates, tok, api.CSRRequest{CSRPEM: csrPEM(t, key, "x")}, &got); st != 201 {
			t.Fatalf("issue: %v", p)
		}
		b, _ := pem.Decode([]byte(got.CertificatePEM))
		return got, tls.Certificate{Certificate: [][]byte{b.Bytes}, PrivateKey: key}
	}
	revoked, pair := issue()
	if err := env.Server.RevokeCertificate(t.Context(), revoked.CertificateID); err != nil {
		t.Fatal(err)
	}
	_, p := env.Login(t, env.Client(t, &pair), uid, goodPW)
	wantCode(t, "revoked certificate", p, api.CodeCertRevoked)

	// Issued by our CA but never recorded (e.g. a database restored from an old backup).
	auth, err := ca.LoadOrCreate(filepath.Join(env.DataDir, "ca"), nil, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	stray, err := auth.IssueClient([]byte(csrPEM(t, key, "stray")), "crt_stray", clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, p = env.Login(t, env.Client(t, &tls.Certificate{Certificate: [][]byte{stray.Raw}, PrivateKey: key}), uid, goodPW)
	wantCode(t, "unregistered certificate", p, api.CodeCertNotRegistered)

	_, pair = issue()
	clk.Advance(367 * 24 * time.Hour)
	_, p = env.Login(t, env.Client(t, &pair), uid, goodPW)
	wantCode(t, "expired certificate", p, api.CodeCertExpired)
}

// TestIssuanceLimits: an account gets at most six certificates an hour and holds at most ten
// active ones; revoking one makes room, and the budget comes back after an hour.
func TestIssuanceLimits(t *testing.T) {
	clk, env, c, uid := oneUser(t)
	var login api.LoginResponse
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	request := func() (api.Certificate, *api.Problem) {
		var out api.Certificate
		_, p := env.Do(t, c, "POST", api.PathCertificates, login.SessionToken, api.CSRRequest{CSRPEM: csrPEM(t, key, "x")}, &out)
		return out, p
	}
	var issued []api.Certificate
	steps := []struct {
		name    string
		advance time.Duration
		n       int
		then    api.Code
	}{
		{"the first hour", 0, 6, api.CodeRateLimited},
		{"the second hour", time.Hour + time.Second, 4, api.CodeCertLimitReached},
	}
	for _, st := range steps {
		clk.Advance(st.advance)
		var p *api.Problem
		if login, p = env.Login(t, c, uid, goodPW); p != nil {
			t.Fatal(p)
		}
		for i := range st.n {
			crt, p := request()
			if p != nil {
				t.Fatalf("%s: certificate %d: %v", st.name, i+1, p)
			}
			issued = append(issued, crt)
		}
		_, p = request()
		wantCode(t, st.name+": one more", p, st.then)
		if st.then == api.CodeRateLimited && p.RetryAfter <= 0 {
			t.Errorf("%s: RATE_LIMITED without Retry-After", st.name)
		}
	}
	if _, p := env.Do(t, c, "DELETE", path(api.PathCertificate, "id", issued[0].CertificateID), login.SessionToken, nil, nil); p != nil {
		t.Fatal(p)
	}
	if _, p := request(); p != nil {
		t.Fatalf("after revoking one: %v", p)
	}
}

// TestRevocationEndsSessions: `magd admin cert revoke` ends the sessions that logged in with the
// certificate, and their launch links; a password session of the same account goes on. A launch
// link handed out before the access was suspended is refused too.
func TestRevocationEndsSessions(t *testing.T) {
	env := servertest.Start(t, servertest.WithDemo())
	d := env.Server.Demo()
	c := env.Client(t, nil)
	plain, p := env.Login(t, c, d.UserUserID, d.UserPassword)
	if p != nil {
		t.Fatal(p)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var crt api.Certificate
	if _, p := env.Do(t, c, "POST", api.PathCertificates, plain.SessionToken, api.CSRRequest{CSRPEM: csrPEM(t, key, "x")}, &crt); p != nil {
		t.Fatal(p)
	}
	blk, _ := pem.Decode([]byte(crt.CertificatePEM))
	pair := tls.Certificate{Certificate: [][]byte{blk.Bytes}, PrivateKey: key}
	strong, p := env.Login(t, env.Client(t, &pair), d.UserUserID, d.UserPassword)
	if p != nil || strong.Session.AAL != 2 {
		t.Fatalf("certificate login: %+v %v", strong.Session, p)
	}
	link := func(token string) string {
		var l api.LaunchResponse
		if _, p := env.Do(t, c, "POST", path(api.PathLaunch, "app", "engdocs"), token, nil, &l); p != nil {
			t.Fatal(p)
		}
		return l.LaunchURL
	}
	open := func(url string) int {
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	strongLink, plainLink := link(strong.SessionToken), link(plain.SessionToken)
	if err := env.Server.RevokeCertificate(t.Context(), crt.CertificateID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(6 * time.Second) // past the session cache, as another instance would be
	_, p = env.Do(t, c, "GET", api.PathMe, strong.SessionToken, nil, nil)
	wantCode(t, "the certificate session after revocation", p, api.CodeSessionExpired)
	if _, p := env.Do(t, c, "GET", api.PathMe, plain.SessionToken, nil, nil); p != nil {
		t.Fatalf("the password session after revocation: %v", p)
	}
	if st := open(strongLink); st != http.StatusForbidden {
		t.Errorf("launch link of the ended session: %d, want 403", st)
	}
	if st := open(plainLink); st != http.StatusSeeOther {
		t.Errorf("launch link of the password session: %d, want 303", st)
	}
	suspended := link(plain.SessionToken)
	if err := env.Server.SuspendAccess(t.Context(), d.UserUserID, "engdocs"); err != nil {
		t.Fatal(err)
	}
	if st := open(suspended); st != http.StatusForbidden {
		t.Errorf("launch link after the access was suspended: %d, want 403", st)
	}
}
