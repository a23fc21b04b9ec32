package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
	"github.com/mag-desktop/magdesk/internal/service"
	"github.com/pquerna/otp/totp"
	"github.com/zalando/go-keyring"
)

const (
	pwAdmin = "correct horse battery staple admin"
	pwUser  = "plaid tundra kettle origami lantern"
	terms   = "# Alpha service agreement\n\nBe nice."
)

type world struct {
	env              *servertest.Env
	clk              *servertest.Clock
	org              string
	admin, user      string // user ids
	pendingUser      string
	pendingUserToken string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	clk := servertest.NewClock()
	env := servertest.Start(t, servertest.WithNow(clk.Now))
	w := &world{env: env, clk: clk}
	w.org = env.CreateOrg(t, "Acme Aerospace")
	w.admin = env.CreateActiveUser(t, w.org, "ada@acme.example", "Ada", "Admin", pwAdmin, true)
	w.user = env.CreateActiveUser(t, w.org, "bob@acme.example", "Bob", "User", pwUser, false)
	w.pendingUser = env.CreateUser(t, w.org, "carol@acme.example", "Carol", "New", false)
	w.pendingUserToken = env.ActivationToken(t, w.pendingUser)
	env.AddApp(t, "alpha", "Alpha Portal", "/demoapps/alpha", terms, 0)
	env.Subscribe(t, w.org, "alpha")
	return w
}

func (w *world) client(t *testing.T) *client.Client {
	t.Helper()
	c, err := client.New(client.Options{ServerURL: w.env.URL, CAPEM: w.env.CAPEM, Timeout: 10 * time.Second,
		ClientInfo: api.ClientInfo{Name: "magdesk-test", Version: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func (w *world) login(t *testing.T, userID, pw string) *client.Client {
	t.Helper()
	c := w.client(t)
	if _, err := c.Login(context.Background(), userID, pw, ""); err != nil {
		t.Fatalf("login %s: %v", userID, err)
	}
	return c
}

func wantCode(t *testing.T, err error, code api.Code) {
	t.Helper()
	if !client.HasCode(err, code) {
		t.Fatalf("error = %v, want %s", err, code)
	}
	if msg := service.Message(err); msg == "" || strings.Contains(msg, "%!") {
		t.Fatalf("bad message for %s: %q", code, msg)
	}
	var p *api.Problem
	if !errors.As(err, &p) || p.Code != code {
		t.Fatalf("errors.As(*api.Problem) does not find %s in %v", code, err)
	}
}

func TestActivationAndLogin(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.client(t)

	meta, err := c.Meta(ctx)
	if err != nil || meta.APIVersion != api.Version || meta.PasswordPolicy.MinLength == 0 {
		t.Fatalf("meta = %+v, %v", meta, err)
	}
	qs, err := c.SecurityQuestions(ctx)
	if err != nil || len(qs) < 4 {
		t.Fatalf("questions = %v, %v", qs, err)
	}

	// The activation email's own links parse to the token.
	var body string
	for _, m := range w.env.Mails(t) {
		if strings.Contains(m.Body, w.pendingUserToken) {
			body = m.Body
		}
	}
	var links int
	for _, f := range strings.Fields(body) {
		if tok, err := client.ParseActivationLink(f); err == nil && strings.Contains(f, "activate") {
			links++
			if tok != w.pendingUserToken {
				t.Fatalf("link %q parsed to %q", f, tok)
			}
		}
	}
	if links != 2 {
		t.Fatalf("found %d parseable activation links in the email, want 2:\n%s", links, body)
	}

	info, err := c.InspectActivation(ctx, w.pendingUserToken)
	if err != nil || info.UserID != w.pendingUser || info.OrgName != "Acme Aerospace" {
		t.Fatalf("inspect = %+v, %v", info, err)
	}
	_, err = c.InspectActivation(ctx, strings.Repeat("A", 43))
	wantCode(t, err, api.CodeActivationTokenInvalid)

	answers := make([]api.SecurityAnswer, 4)
	for i := range answers {
		answers[i] = api.SecurityAnswer{QuestionID: qs[i].ID, Answer: "answer number " + qs[i].ID}
	}
	req := api.ActivationCompleteRequest{Token: w.pendingUserToken, Password: "tulip orbit saddle meadow",
		PasswordConfirm: "tulip orbit saddle meadoW", SecurityAnswers: answers}
	_, err = c.CompleteActivation(ctx, req)
	wantCode(t, err, api.CodePasswordMismatch)
	req.Password, req.PasswordConfirm = "short", "short"
	_, err = c.CompleteActivation(ctx, req)
	wantCode(t, err, api.CodePasswordTooShort)
	req.Password, req.PasswordConfirm = "0000000000000000", "0000000000000000"
	_, err = c.CompleteActivation(ctx, req)
	wantCode(t, err, api.CodePasswordBlocklisted)
	req.Password, req.PasswordConfirm = "tulip orbit saddle meadow", "tulip orbit saddle meadow"
	req.SecurityAnswers = answers[:2]
	_, err = c.CompleteActivation(ctx, req)
	wantCode(t, err, api.CodeSecurityQuestionsInvalid)
	req.SecurityAnswers = answers
	res, err := c.CompleteActivation(ctx, req)
	if err != nil || res.UserID != w.pendingUser {
		t.Fatalf("complete = %+v, %v", res, err)
	}
	_, err = c.CompleteActivation(ctx, req)
	wantCode(t, err, api.CodeActivationTokenUsed)

	_, err = c.Login(ctx, w.pendingUser, "wrong password entirely", "")
	wantCode(t, err, api.CodeInvalidCredentials)
	_, err = c.Login(ctx, "nobody_0000", "wrong password entirely", "")
	wantCode(t, err, api.CodeInvalidCredentials)
	resp, err := c.Login(ctx, " "+w.pendingUser+" ", req.Password, "")
	if err != nil || resp.Account.UserID != w.pendingUser || c.UserID() != w.pendingUser || !resp.FirstLogin {
		t.Fatalf("login = %+v, %v (client user %q)", resp, err, c.UserID())
	}
	me, err := c.Me(ctx)
	if err != nil || me.Account.UserID != w.pendingUser {
		t.Fatalf("me = %+v, %v", me, err)
	}
	if err := c.Logout(ctx); err != nil || c.HasSession() {
		t.Fatalf("logout: %v (session kept: %v)", err, c.HasSession())
	}
	// The old token is dead on the server.
	c.SetSession(w.pendingUser, resp.SessionToken)
	_, err = c.Me(ctx)
	if !client.IsUnauthenticated(err) {
		t.Fatalf("me after logout: %v", err)
	}
}

func TestLockout(t *testing.T) {
	w := newWorld(t)
	c := w.client(t)
	var err error
	for i := 0; i < 6; i++ {
		_, err = c.Login(context.Background(), w.user, "not the password at all", "")
		if _, locked := client.IsLocked(err); locked {
			break
		}
	}
	wait, locked := client.IsLocked(err)
	if !locked || wait < 20*time.Second || wait > 60*time.Second {
		t.Fatalf("after failures: %v (wait %v)", err, wait)
	}
	if msg := service.Message(err); !strings.Contains(msg, "locked for") {
		t.Fatalf("message %q", msg)
	}
	// Locked even with the right password, until the wait is over.
	_, err = c.Login(context.Background(), w.user, pwUser, "")
	if _, locked := client.IsLocked(err); !locked {
		t.Fatalf("right password during lockout: %v", err)
	}
	w.clk.Advance(wait + time.Second)
	if _, err := c.Login(context.Background(), w.user, pwUser, ""); err != nil {
		t.Fatalf("after the wait: %v", err)
	}
}

func TestApplicationsTermsAndRequests(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	user := w.login(t, w.user, pwUser)
	admin := w.login(t, w.admin, pwAdmin)

	apps, err := user.Applications(ctx)
	if err != nil || len(apps) != 1 || apps[0].Status != api.StatusPendingTerms {
		t.Fatalf("apps = %+v, %v", apps, err)
	}
	_, err = user.RequestAccess(ctx, "alpha")
	wantCode(t, err, api.CodeTermsNotAccepted)
	// Members may read the agreement; only the org admin agrees to it.
	utv, err := user.Terms(ctx, w.org, "alpha")
	if err != nil {
		t.Fatalf("user reads terms: %v", err)
	}
	_, err = user.AcceptTerms(ctx, w.org, "alpha", utv.TermsVersionID)
	wantCode(t, err, api.CodeForbidden)
	_, err = user.Terms(ctx, "org_other", "alpha")
	wantCode(t, err, api.CodeForbidden)
	_, err = user.AccessRequests(ctx, w.org)
	wantCode(t, err, api.CodeForbidden)

	tv, err := admin.Terms(ctx, w.org, "alpha")
	if err != nil || tv.Accepted || !strings.Contains(tv.Body, "Be nice") {
		t.Fatalf("terms = %+v, %v", tv, err)
	}
	acc, err := admin.AcceptTerms(ctx, w.org, "alpha", tv.TermsVersionID)
	if err != nil || acc.TermsVersionID != tv.TermsVersionID {
		t.Fatalf("accept = %+v, %v", acc, err)
	}
	// "I Agree" is idempotent.
	if _, err := admin.AcceptTerms(ctx, w.org, "alpha", tv.TermsVersionID); err != nil {
		t.Fatalf("second accept: %v", err)
	}
	_, err = admin.Terms(ctx, w.org, "nope")
	wantCode(t, err, api.CodeNotFound)

	ar, err := user.RequestAccess(ctx, "alpha")
	if err != nil || ar.ID == "" {
		t.Fatalf("request = %+v, %v", ar, err)
	}
	_, err = user.RequestAccess(ctx, "alpha")
	wantCode(t, err, api.CodeAccessRequestExists)
	_, err = user.Launch(ctx, "alpha")
	wantCode(t, err, api.CodeLaunchNotAllowed)

	reqs, err := admin.AccessRequests(ctx, w.org)
	if err != nil || len(reqs) != 1 || reqs[0].ID != ar.ID || reqs[0].UserID != w.user {
		t.Fatalf("requests = %+v, %v", reqs, err)
	}
	if _, err := admin.Decide(ctx, w.org, ar.ID, api.DecisionApprove, ""); err != nil {
		t.Fatal(err)
	}
	apps, err = user.Applications(ctx)
	if err != nil || apps[0].Status != api.StatusAccessGranted {
		t.Fatalf("apps after approval = %+v, %v", apps, err)
	}
	l, err := user.Launch(ctx, "alpha")
	if err != nil || !strings.HasPrefix(l.LaunchURL, "https://") {
		t.Fatalf("launch = %+v, %v", l, err)
	}
	_, err = user.Launch(ctx, "nope")
	wantCode(t, err, api.CodeNotFound)
}

func TestTOTPLogin(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.login(t, w.user, pwUser)
	en, err := c.StartTOTP(ctx)
	if err != nil || !strings.HasPrefix(en.OTPAuthURI, "otpauth://totp/") {
		t.Fatalf("enroll = %+v, %v", en, err)
	}
	_, err = c.VerifyTOTP(ctx, en.EnrollmentID, "000000")
	wantCode(t, err, api.CodeOTPInvalid)
	code := func() string {
		s, err := totp.GenerateCode(en.SecretBase32, w.clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	w.clk.Advance(30 * time.Second)
	if _, err := c.VerifyTOTP(ctx, en.EnrollmentID, code()); err != nil {
		t.Fatalf("verify: %v", err)
	}
	_, err = c.StartTOTP(ctx)
	wantCode(t, err, api.CodeTOTPAlreadyEnrolled)

	// Password alone now asks for a code.
	c2 := w.client(t)
	_, err = c2.Login(ctx, w.user, pwUser, "")
	ticket, ok := client.IsMFARequired(err)
	if !ok || ticket == "" {
		t.Fatalf("login without code: %v", err)
	}
	_, err = c2.LoginMFA(ctx, ticket, "123456")
	wantCode(t, err, api.CodeOTPInvalid)
	w.clk.Advance(30 * time.Second)
	used := code()
	resp, err := c2.LoginMFA(ctx, ticket, used)
	if err != nil || resp.Session.AAL != 2 || c2.UserID() != w.user {
		t.Fatalf("login with code: %+v, %v", resp, err)
	}
	// The same code again is refused as replayed.
	_, err = w.client(t).Login(ctx, w.user, pwUser, used)
	wantCode(t, err, api.CodeOTPReplayed)
	_, err = w.client(t).LoginMFA(ctx, strings.Repeat("x", 43), used)
	wantCode(t, err, api.CodeMFATicketInvalid)
	w.clk.Advance(30 * time.Second)
	if _, err := w.client(t).Login(ctx, w.user, pwUser, code()); err != nil {
		t.Fatalf("login with otp in the first step: %v", err)
	}
}

func TestAccountMismatch(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	user := w.login(t, w.user, pwUser)
	_, token := sessionOf(t, w, w.user, pwUser)
	// A token of Bob filed under Ada: the server refuses to act as someone else.
	c := w.client(t)
	_, err := c.Resume(ctx, w.admin, token)
	if !client.IsAccountMismatch(err) {
		t.Fatalf("resume with another account's token: %v", err)
	}
	wantCode(t, err, api.CodeSessionAccountMismatch)
	if c.HasSession() {
		t.Fatal("the other account's token is kept after the mismatch")
	}
	if msg := service.Message(err); !strings.Contains(msg, "Clear cached sessions") {
		t.Fatalf("message does not offer clearing sessions: %q", msg)
	}
	if _, err := user.Me(ctx); err != nil {
		t.Fatalf("the right account still works: %v", err)
	}
}

func sessionOf(t *testing.T, w *world, userID, pw string) (*client.Client, string) {
	t.Helper()
	c := w.client(t)
	resp, err := c.Login(context.Background(), userID, pw, "")
	if err != nil {
		t.Fatal(err)
	}
	return c, resp.SessionToken
}

// newIdentity requests a certificate for the logged-in account of c.
func newIdentity(t *testing.T, c *client.Client) (tls.Certificate, *api.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "ignored"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	issued, err := c.RequestCertificate(context.Background(), csr, "test")
	if err != nil {
		t.Fatalf("request certificate: %v", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair([]byte(issued.CertificatePEM), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatal(err)
	}
	return pair, issued
}

// The Error 2035 case of the seed page: Bob's old certificate of his other account stays on the
// machine. A resty client with both certificates appended (SetCertificates) offers the first one
// and gets 2035; this client offers exactly the one it was given and logs in. Account
// Connections then makes the old certificate valid for both accounts.
func TestWrongCertificate2035(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// Bob's first account (Ada's account stands in as "the other account") owns certA.
	other := w.login(t, w.admin, pwAdmin)
	certA, issuedA := newIdentity(t, other)
	bob := w.login(t, w.user, pwUser)
	certB, issuedB := newIdentity(t, bob)
	list, err := bob.Certificates(ctx)
	if err != nil || len(list) != 1 || list[0].SHA256 != issuedB.SHA256 {
		t.Fatalf("Bob's certificates = %+v, %v", list, err)
	}

	// resty with both certificates appended: the stale one goes first and wins.
	rc := resty.New().SetRootCertificateFromString(string(w.env.CAPEM)).SetCertificates(certA, certB).SetBaseURL(w.env.URL)
	var prob api.Problem
	r, err := rc.R().SetBody(api.LoginRequest{UserID: w.user, Password: pwUser}).SetError(&prob).Post(api.PathLogin)
	if err != nil || r.StatusCode() != 403 || prob.MagCode != api.MagCodeWrongCertificate || prob.CertSHA256 != issuedA.SHA256 {
		t.Fatalf("two appended certificates: status %d, problem %+v, err %v", r.StatusCode(), prob, err)
	}

	// Our client: the stale certificate alone reproduces 2035 ...
	_, err = w.client(t).WithCertificate(&certA).Login(ctx, w.user, pwUser, "")
	if !client.IsWrongCertificate(err) {
		t.Fatalf("login with the other account's certificate: %v", err)
	}
	if msg := service.Message(err); !strings.Contains(msg, "2035") {
		t.Fatalf("message %q does not name Error 2035", msg)
	}
	// ... and the right one alone logs in, as a second factor.
	cb := w.client(t).WithCertificate(&certB)
	resp, err := cb.Login(ctx, w.user, pwUser, "")
	if err != nil || resp.Session.CertSHA256 != issuedB.SHA256 || resp.Session.AAL != 2 || cb.CertificateSHA256() != issuedB.SHA256 {
		t.Fatalf("login with the right certificate: %+v, %v", resp, err)
	}

	// Account Connections: Bob, logged in, presents certA and proves he owns the other account.
	conn := bob.WithCertificate(&certA)
	_, err = conn.ConnectCertificate(ctx, api.ConnectionRequest{UserID: w.admin, Password: "wrong password here"})
	wantCode(t, err, api.CodeConnectionSourceAuth)
	got, err := conn.ConnectCertificate(ctx, api.ConnectionRequest{UserID: w.admin, Password: pwAdmin})
	if err != nil || got.SHA256 != issuedA.SHA256 || got.BoundAccounts != 2 {
		t.Fatalf("connect = %+v, %v", got, err)
	}
	if _, err := w.client(t).WithCertificate(&certA).Login(ctx, w.user, pwUser, ""); err != nil {
		t.Fatalf("login with the connected certificate: %v", err)
	}
}

func TestClearSessionsRevokes(t *testing.T) {
	keyring.MockInit()
	w := newWorld(t)
	ctx := context.Background()
	store := client.OpenSessionStore()
	var tokens []string
	for _, u := range []struct{ id, pw string }{{w.user, pwUser}, {w.admin, pwAdmin}} {
		c, token := sessionOf(t, w, u.id, u.pw)
		if err := store.Save(client.Session{Server: c.Server(), UserID: u.id, Token: token}); err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, token)
	}
	// A third session whose server is gone: deleted here, with the reason.
	if err := store.Save(client.Session{Server: "https://127.0.0.1:1", UserID: "gone", Token: "mst_x"}); err != nil {
		t.Fatal(err)
	}
	connect := func(server string) (*client.Client, error) {
		return client.New(client.Options{ServerURL: server, CAPEM: w.env.CAPEM, Retries: -1, Timeout: 5 * time.Second})
	}
	rep, err := store.ClearSessions(ctx, connect)
	if err != nil || rep.Revoked() != 2 || rep.LocalOnly() != 1 || rep.Failed() != 0 {
		t.Fatalf("report %+v, %v", rep, err)
	}
	if refs, _ := store.List(); len(refs) != 0 {
		t.Fatalf("left: %+v", refs)
	}
	for i, token := range tokens {
		c := w.client(t)
		c.SetSession("", token)
		if _, err := c.Me(ctx); !client.IsUnauthenticated(err) {
			t.Fatalf("token %d still works after ClearSessions: %v", i, err)
		}
	}
}

// The remaining codes the client relies on, each provoked for real.
func TestMoreErrorCodes(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()

	// VALIDATION_FAILED: a field the server checks.
	bob := w.login(t, w.user, pwUser)
	_, err := bob.RequestCertificate(ctx, "not a csr", strings.Repeat("x", 200))
	wantCode(t, err, api.CodeValidationFailed)
	admin := w.login(t, w.admin, pwAdmin)
	_, err = admin.Decide(ctx, w.org, "req_nope", "maybe", "")
	if !client.HasCode(err, api.CodeValidationFailed) && !client.HasCode(err, api.CodeNotFound) {
		t.Fatalf("decide with a bad decision: %v", err)
	}

	// UNAUTHENTICATED: a token the server never issued.
	c := w.client(t)
	c.SetSession(w.user, "mst_"+strings.Repeat("A", 43))
	_, err = c.Me(ctx)
	wantCode(t, err, api.CodeUnauthenticated)
	if !client.IsUnauthenticated(err) {
		t.Fatal("IsUnauthenticated false")
	}

	// CERT_UNTRUSTED: a self-made certificate, refused as JSON after the password verified.
	self := selfSigned(t)
	_, err = w.client(t).WithCertificate(&self).Login(ctx, w.user, pwUser, "")
	wantCode(t, err, api.CodeCertUntrusted)

	// CERT_EXPIRED: Bob's certificate once the server's clock is past its NotAfter.
	certB, issued := newIdentity(t, bob)
	// SESSION_EXPIRED: 61 idle minutes later Bob's session is over.
	w.clk.Advance(61 * time.Minute)
	_, err = bob.Me(ctx)
	wantCode(t, err, api.CodeSessionExpired)
	w.clk.Advance(time.Until(issued.NotAfter) + 24*time.Hour)
	_, err = w.client(t).WithCertificate(&certB).Login(ctx, w.user, pwUser, "")
	wantCode(t, err, api.CodeCertExpired)

	// ACTIVATION_TOKEN_EXPIRED: the pending user's link is long past its 24 hours.
	_, err = w.client(t).InspectActivation(ctx, w.pendingUserToken)
	wantCode(t, err, api.CodeActivationTokenExpired)
}

// RATE_LIMITED: the per-IP login budget; a POST is never retried on its own.
func TestRateLimited(t *testing.T) {
	env := servertest.Start(t, servertest.WithLoginRate(1))
	c, err := client.New(client.Options{ServerURL: env.URL, CAPEM: env.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		_, err = c.Login(context.Background(), "nobody_1", "wrong password at all", "")
		if client.HasCode(err, api.CodeRateLimited) {
			break
		}
	}
	wantCode(t, err, api.CodeRateLimited)
	if p := client.ProblemOf(err); p.RetryAfter <= 0 {
		t.Fatalf("no Retry-After in %+v", p)
	}
	if msg := service.Message(err); !strings.Contains(msg, "busy. Wait") {
		t.Fatalf("message %q", msg)
	}
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "me"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
