package server_test

import (
	"bytes"
	"encoding/base32"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server"
	"github.com/mag-desktop/magdesk/internal/server/password"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// oathtool is Debian's independent TOTP implementation.
func oathtool(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	path, err := exec.LookPath("oathtool")
	if err != nil {
		t.Skip("oathtool is not installed (apt-get install oathtool)")
	}
	out, err := exec.Command(path, "--totp", "-b", "-N", fmt.Sprintf("@%d", at.Unix()), secret).Output()
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestTOTPWithOathtool enrols an authenticator, verifies it and logs in with codes computed by
// oathtool; a code is accepted once.
func TestTOTPWithOathtool(t *testing.T) {
	clk, env, c, uid := oneUser(t)
	tok := mustLogin(t, env, c, uid)

	var en api.TOTPEnrollment
	if st, p := env.Do(t, c, "POST", api.PathTOTP, tok, nil, &en); st != 201 {
		t.Fatalf("enrol: %v", p)
	}
	if len(en.SecretBase32) != 32 || !strings.HasPrefix(en.OTPAuthURI, "otpauth://totp/") || !strings.Contains(en.OTPAuthURI, "secret="+en.SecretBase32) ||
		en.Digits != 6 || en.Period != 30 || en.Algorithm != "SHA1" {
		t.Fatalf("enrolment: %+v", en)
	}
	verify := path(api.PathTOTPVerify, "enrollment", en.EnrollmentID)
	_, p := env.Do(t, c, "POST", verify, tok, api.CodeRequest{Code: "000000"}, nil)
	if code := oathtool(t, en.SecretBase32, clk.Now()); code == "000000" {
		t.Skip("the current code happens to be 000000")
	}
	wantCode(t, "wrong enrolment code", p, api.CodeOTPInvalid)
	if st, p := env.Do(t, c, "POST", verify, tok, api.CodeRequest{Code: oathtool(t, en.SecretBase32, clk.Now())}, nil); st != 201 {
		t.Fatalf("verify: %v", p)
	}
	_, p = env.Do(t, c, "POST", api.PathTOTP, tok, nil, nil)
	wantCode(t, "second enrolment", p, api.CodeTOTPAlreadyEnrolled)

	// Login now asks for the code.
	_, p = env.Login(t, c, uid, goodPW)
	wantCode(t, "login without code", p, api.CodeMFARequired)
	if p.MFATicket == "" || len(p.Methods) != 1 || p.Methods[0] != "totp" {
		t.Fatalf("MFA_REQUIRED: %+v", p)
	}
	var lr api.LoginResponse
	_, p2 := env.Do(t, c, "POST", api.PathLoginMFA, "", api.MFARequest{MFATicket: p.MFATicket, OTP: oathtool(t, en.SecretBase32, clk.Now())}, nil)
	wantCode(t, "the enrolment code again", p2, api.CodeOTPReplayed)
	clk.Advance(30 * time.Second)
	if st, p3 := env.Do(t, c, "POST", api.PathLoginMFA, "", api.MFARequest{MFATicket: p.MFATicket, OTP: oathtool(t, en.SecretBase32, clk.Now())}, &lr); st != 200 {
		t.Fatalf("mfa: %v", p3)
	}
	if lr.Session.AAL != 2 || strings.Join(lr.Session.AMR, ",") != "pwd,otp" || !lr.Account.TOTPEnabled {
		t.Fatalf("session: %+v", lr)
	}
	_, p = env.Do(t, c, "POST", api.PathLoginMFA, "", api.MFARequest{MFATicket: p.MFATicket, OTP: oathtool(t, en.SecretBase32, clk.Now())}, nil)
	wantCode(t, "ticket used twice", p, api.CodeMFATicketInvalid)

	// The code in the login body works too, once.
	clk.Advance(30 * time.Second)
	code := oathtool(t, en.SecretBase32, clk.Now())
	var lr2 api.LoginResponse
	if st, p := env.Do(t, c, "POST", api.PathLogin, "", api.LoginRequest{UserID: uid, Password: goodPW, OTP: code}, &lr2); st != 200 || lr2.Session.AAL != 2 {
		t.Fatalf("login with otp: %v %+v", p, lr2.Session)
	}
	_, p = env.Do(t, c, "POST", api.PathLogin, "", api.LoginRequest{UserID: uid, Password: goodPW, OTP: code}, nil)
	wantCode(t, "otp replay in login", p, api.CodeOTPReplayed)

	// Secrets at rest: neither the TOTP secret, a session token nor the password is in the data folder.
	secretRaw, _ := base32.StdEncoding.DecodeString(en.SecretBase32)
	scanDataDir(t, env.DataDir, []byte(en.SecretBase32), secretRaw, []byte(lr2.SessionToken), []byte(goodPW))
	if st, err := os.Stat(filepath.Join(env.DataDir, "secret.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret.key: %v %v", st, err)
	}
}

// scanDataDir fails if any file below dir contains one of the secrets.
func scanDataDir(t *testing.T, dir string, secrets ...[]byte) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, s := range secrets {
			if bytes.Contains(b, s) {
				t.Errorf("secret %d found in clear in %s", i, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLockout: failures lock a user id progressively, unknown ids exactly alike, and the
// legitimate user gets in after the wait.
func TestLockout(t *testing.T) {
	clk, env, c, uid := oneUser(t)
	for _, id := range []string{uid, "nobody_0000"} {
		for i := range 5 {
			_, p := env.Login(t, c, id, "wrong password number "+fmt.Sprint(i))
			wantCode(t, "failure "+fmt.Sprint(i+1)+" of "+id, p, api.CodeInvalidCredentials)
		}
		_, p := env.Login(t, c, id, goodPW)
		wantCode(t, "sixth attempt of "+id, p, api.CodeAccountLocked)
		if p.RetryAfter < 25 || p.RetryAfter > 30 {
			t.Fatalf("%s: retry_after %d", id, p.RetryAfter)
		}
	}
	clk.Advance(31 * time.Second)
	_, p := env.Login(t, c, uid, "still wrong password")
	wantCode(t, "sixth failure", p, api.CodeInvalidCredentials)
	_, p = env.Login(t, c, uid, goodPW)
	wantCode(t, "locked again", p, api.CodeAccountLocked)
	if p.RetryAfter < 55 || p.RetryAfter > 60 {
		t.Fatalf("second lock: retry_after %d, want about 60", p.RetryAfter)
	}
	clk.Advance(61 * time.Second)
	mustLogin(t, env, c, uid)
	// Success reset the counter: one failure does not lock.
	_, p = env.Login(t, c, uid, "one more wrong one")
	wantCode(t, "after reset", p, api.CodeInvalidCredentials)
	mustLogin(t, env, c, uid)
	if evs, _ := env.Server.AuditEvents(t.Context(), "lockout"); len(evs) != 3 {
		t.Fatalf("%d lockout events, want 3", len(evs))
	}
}

func TestRateLimitPerIP(t *testing.T) {
	env := servertest.Start(t, servertest.WithLoginRate(2), servertest.WithSecurityQuestions(false))
	c := env.Client(t, nil)
	var last *api.Problem
	for i := range 5 {
		_, last = env.Login(t, c, fmt.Sprintf("user_%d", i), "whatever it is")
	}
	wantCode(t, "fifth login in a burst of 4", last, api.CodeRateLimited)
	if last.RetryAfter < 1 {
		t.Fatalf("retry_after %d", last.RetryAfter)
	}
}

func TestSessions(t *testing.T) {
	clk := newClock()
	env := servertest.Cluster(t, servertest.WithNow(clk.Now), servertest.WithSecurityQuestions(false))
	c := env.Client(t, nil)
	org := env.CreateOrg(t, "Acme")
	a := env.CreateActiveUser(t, org, "same@acme.example", "Sam", "Same", goodPW, false)
	b := env.CreateActiveUser(t, org, "same@acme.example", "Sam", "Same", goodPW, false)
	tok := mustLogin(t, env, c, a)

	me := func(token, expected string) (int, *api.Problem, api.Me) {
		var m api.Me
		h := http.Header{}
		if expected != "" {
			h.Set(api.HeaderExpectedUserID, expected)
		}
		st, p := env.DoHeaders(t, c, "GET", api.PathMe, token, h, nil, &m)
		return st, p, m
	}
	st, p, m := me(tok, "")
	if st != 200 || m.Account.UserID != a || m.Account.Email != "same@acme.example" || m.Session.AAL != 1 {
		t.Fatalf("me: %d %v %+v", st, p, m)
	}
	if st, p, _ := me(tok, a); st != 200 {
		t.Fatalf("expected user matches: %v", p)
	}
	st, p, _ = me(tok, b)
	wantCode(t, "expected another user", p, api.CodeSessionAccountMismatch)
	if st != 409 || p.Remediation[0].Action != "clear_local_session" {
		t.Fatalf("mismatch: %d %+v", st, p)
	}

	_, p = env.Do(t, c, "GET", api.PathMe, "", nil, nil)
	wantCode(t, "no token", p, api.CodeUnauthenticated)
	_, p = env.Do(t, c, "GET", api.PathMe, "mst_"+strings.Repeat("x", 43), nil, nil)
	wantCode(t, "unknown token", p, api.CodeUnauthenticated)

	// Idle expiry after 60 minutes without a request.
	clk.Advance(61 * time.Minute)
	_, p = env.Do(t, c, "GET", api.PathMe, tok, nil, nil)
	wantCode(t, "idle session", p, api.CodeSessionExpired)

	// Activity keeps a session alive, but not beyond 24 hours.
	tok = mustLogin(t, env, c, a)
	for range 28 {
		clk.Advance(50 * time.Minute)
		if st, p := env.Do(t, c, "GET", api.PathMe, tok, nil, nil); st != 200 {
			t.Fatalf("active session ended early: %v", p)
		}
	}
	clk.Advance(50 * time.Minute)
	_, p = env.Do(t, c, "GET", api.PathMe, tok, nil, nil)
	wantCode(t, "session older than 24 h", p, api.CodeSessionExpired)

	// Logout.
	tok = mustLogin(t, env, c, a)
	if st, p := env.Do(t, c, "DELETE", api.PathSessionCurrent, tok, nil, nil); st != http.StatusNoContent {
		t.Fatalf("logout: %d %v", st, p)
	}
	_, p = env.Do(t, c, "GET", api.PathMe, tok, nil, nil)
	wantCode(t, "after logout", p, api.CodeSessionExpired)
}

// TestBurstGetsServerBusy: a burst of logins beyond the hashing slots and their queue is told
// SERVER_BUSY with Retry-After at once; the rest succeed.
func TestBurstGetsServerBusy(t *testing.T) {
	env := servertest.Start(t, servertest.WithSecurityQuestions(false), servertest.WithConfig(func(c *server.Config) {
		c.HashConcurrency = 1
		c.Argon2 = password.Params{Memory: 32 * 1024, Time: 3, Threads: 1} // slow enough that the burst overlaps
	}))
	org := env.CreateOrg(t, "Org")
	uid := env.CreateActiveUser(t, org, "b@b.example", "Bu", "Rst", goodPW, false)
	c := env.Client(t, nil)
	const burst = 16
	codes := make(chan *api.Problem, burst)
	var wg sync.WaitGroup
	for range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, p := env.Login(t, c, uid, goodPW)
			codes <- p
		}()
	}
	wg.Wait()
	close(codes)
	ok, busy := 0, 0
	for p := range codes {
		switch {
		case p == nil:
			ok++
		case p.Code == api.CodeServerBusy && p.RetryAfter >= 1 && p.Status == 503:
			busy++
		default:
			t.Fatalf("unexpected answer in a burst: %+v", p)
		}
	}
	if busy == 0 || ok == 0 {
		t.Fatalf("%d logged in, %d told SERVER_BUSY: want both (1 hashing + 5 queued get through at a time)", ok, busy)
	}
}

// TestLockoutNotice: when guesses at an account start to be slowed down its owner is emailed
// once (not again while the failures go on, nor when they come back after decaying); an unknown
// user id counted the same way emails nobody.
func TestLockoutNotice(t *testing.T) {
	clk := newClock()
	env := servertest.Start(t, servertest.WithSecurityQuestions(false), servertest.WithNow(clk.Now))
	uid := env.CreateActiveUser(t, env.CreateOrg(t, "Acme"), "lou@acme.example", "Lou", "Locked", goodPW, false)
	c := env.Client(t, nil)
	// fail makes a number of failed attempts, waiting out the locks of this source between them.
	fail := func(id string, times int) {
		t.Helper()
		for i := 0; i < times; {
			_, p := env.Login(t, c, id, "not the password at all")
			if p != nil && p.Code == api.CodeAccountLocked {
				clk.Advance(time.Duration(p.RetryAfter+1) * time.Second)
				continue
			}
			wantCode(t, fmt.Sprintf("%s failure %d", id, i+1), p, api.CodeInvalidCredentials)
			i++
		}
	}
	fail("ghost_5555", 10)
	clk.Advance(time.Hour)
	fail(uid, 10)
	_, p := env.Login(t, c, uid, goodPW)
	wantCode(t, "while locked", p, api.CodeAccountLocked)
	clk.Advance(16 * time.Minute) // the lock is over and a failure has decayed; one more reaches the notice point again
	fail(uid, 1)
	_, p = env.Login(t, c, uid, goodPW)
	wantCode(t, "locked again", p, api.CodeAccountLocked)

	if err := env.Server.Close(); err != nil { // waits for the notices sent in the background
		t.Fatal(err)
	}
	var notices []string
	for _, m := range env.Mails(t) {
		if m.Template == "lockout_notice" {
			notices = append(notices, m.To)
			if !strings.Contains(m.Body, uid) || !strings.Contains(m.Body, "Forgot password?") {
				t.Errorf("notice lacks the user id or the way out:\n%s", m.Body)
			}
		}
	}
	if len(notices) != 1 || notices[0] != "lou@acme.example" {
		t.Fatalf("lockout notices to %q, want exactly one to lou@acme.example", notices)
	}
}

// TestSourceThrottleAndProxies: guesses at many user ids from one address lock that address
// after twenty failures, unless the address is a proxy that hides its clients (ProxyAddrs):
// then only each user id's own counter applies, so its clients are not all held back.
func TestSourceThrottleAndProxies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proxies []string
		want    api.Code
	}{
		{"a client's address", nil, api.CodeAccountLocked},
		{"a proxy's address", []string{"127.0.0.1"}, api.CodeInvalidCredentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := servertest.Start(t, servertest.WithSecurityQuestions(false),
				servertest.WithConfig(func(c *server.Config) { c.ProxyAddrs = tc.proxies }))
			c := env.Client(t, nil)
			for i := range 20 {
				_, p := env.Login(t, c, fmt.Sprintf("sprayed_%02d", i), "not the password at all")
				wantCode(t, fmt.Sprintf("guess %d", i+1), p, api.CodeInvalidCredentials)
			}
			_, p := env.Login(t, c, "sprayed_99", "not the password at all")
			wantCode(t, "the 21st user id", p, tc.want)
		})
	}
}
