package hardening

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// outcome is what one login attempt got back.
type outcome struct {
	status     int
	code       api.Code
	retryAfter int
}

func (w *world) attempt(t *testing.T, c *http.Client, path string, body any) outcome {
	t.Helper()
	a, err := w.send(c, rawReq{method: "POST", path: path, ctype: "application/json", body: mustJSON(body)})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if a.status == http.StatusOK {
		return outcome{status: a.status}
	}
	p, err := problemOf(a)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	waits := p.Code == api.CodeAccountLocked || p.Code == api.CodeRateLimited || p.Code == api.CodeServerBusy
	if waits != (p.RetryAfter > 0) || (waits && a.header.Get("Retry-After") != fmt.Sprint(p.RetryAfter)) {
		t.Fatalf("%s: %s with retry_after %d and Retry-After %q", path, p.Code, p.RetryAfter, a.header.Get("Retry-After"))
	}
	return outcome{status: a.status, code: p.Code, retryAfter: p.RetryAfter}
}

// TestBruteForceSameForKnownAndUnknownIDs: 200 wrong passwords on an existing user id and on an
// unknown one (each from a source of its own) get exactly the same answers, with the same
// progressive lock of that source; the real user gets in from another source at once, and from
// the attacking one once the wait is over (the server clock is moved, not slept).
func TestBruteForceSameForKnownAndUnknownIDs(t *testing.T) {
	w := newWorld(t)
	ck, cu := w.clientFrom(t, "127.0.0.2", nil), w.clientFrom(t, "127.0.0.3", nil)
	const tries = 200
	unknown := "zzunknown_4242"
	var known []outcome
	var waits []int
	for i := range tries {
		k := w.attempt(t, ck, api.PathLogin, api.LoginRequest{UserID: w.user, Password: fmt.Sprintf("wrong guess %03d x", i)})
		u := w.attempt(t, cu, api.PathLogin, api.LoginRequest{UserID: unknown, Password: fmt.Sprintf("wrong guess %03d x", i)})
		known = append(known, k)
		if k != u {
			t.Fatalf("attempt %d: known id got %+v, unknown id got %+v", i+1, k, u)
		}
		switch k.code {
		case api.CodeInvalidCredentials:
		case api.CodeAccountLocked:
			waits = append(waits, k.retryAfter)
			w.clk.Advance(time.Duration(k.retryAfter+1) * time.Second)
		default:
			t.Fatalf("attempt %d: unexpected %+v", i+1, k)
		}
	}
	// Five free failures, then waits of 30 s doubling up to 15 minutes.
	for i := range 5 {
		if known[i].code != api.CodeInvalidCredentials {
			t.Fatalf("attempt %d = %+v, want INVALID_CREDENTIALS", i+1, known[i])
		}
	}
	if known[5].code != api.CodeAccountLocked {
		t.Fatalf("attempt 6 = %+v, want ACCOUNT_LOCKED", known[5])
	}
	want := []int{30, 60, 120, 240, 480, 900, 900}
	if len(waits) < 90 {
		t.Fatalf("only %d lockouts in %d attempts: %v", len(waits), tries, waits)
	}
	for i, wt := range waits {
		exp := 900
		if i < len(want) {
			exp = want[i]
		}
		if wt != exp {
			t.Fatalf("lockout %d: retry_after %d, want %d (all: %v)", i+1, wt, exp, waits)
		}
	}
	// The attacking source is locked, even for the right password, until the wait is over; the
	// real user at another address is not.
	right := api.LoginRequest{UserID: w.user, Password: pwUser}
	if o := w.attempt(t, ck, api.PathLogin, api.LoginRequest{UserID: w.user, Password: "wrong again"}); o.code != api.CodeInvalidCredentials {
		t.Fatalf("after the last wait: %+v", o)
	}
	lock := w.attempt(t, ck, api.PathLogin, right)
	if lock.code != api.CodeAccountLocked || lock.retryAfter != 900 {
		t.Fatalf("right password from the attacking source: %+v", lock)
	}
	if o := w.attempt(t, w.clientFrom(t, "127.0.0.4", nil), api.PathLogin, right); o.status != http.StatusOK {
		t.Fatalf("right password from another source during the attack: %+v", o)
	}
	w.clk.Advance(time.Duration(lock.retryAfter+1) * time.Second)
	if o := w.attempt(t, ck, api.PathLogin, right); o.status != http.StatusOK {
		t.Fatalf("right password after the wait: %+v", o)
	}
	// A success clears the counters: the next mistake is an ordinary one.
	if o := w.attempt(t, ck, api.PathLogin, api.LoginRequest{UserID: w.user, Password: "one typo"}); o.code != api.CodeInvalidCredentials {
		t.Fatalf("first mistake after a success: %+v", o)
	}
	t.Logf("brute force: %d attempts per id, %d lockouts, waits %v...", tries, len(waits), waits[:8])
}

// TestAttackerCannotLockOutUser: an attacker who keeps failing on a user id for a day, from the
// user's own address and from forty others, cannot keep the real user out. A correct first
// attempt from an address that has not failed always gets in; after a typo of the user's own the
// wait is at most 15 minutes; a known device (a certificate of the account) logs in at once even
// from the attacked address, and the emailed-code recovery works there too.
func TestAttackerCannotLockOutUser(t *testing.T) {
	w := newWorld(t)
	owner, _ := w.login(t, w.user, pwUser)
	cert := identity(t, owner)
	shared := "127.0.0.2" // the user's address, which the attacker shares (one NAT)
	attacker := w.clientFrom(t, shared, nil)
	var botnet []*http.Client
	for i := range 40 {
		botnet = append(botnet, w.clientFrom(t, fmt.Sprintf("127.0.1.%d", 10+i), nil))
	}
	guess := api.LoginRequest{UserID: w.user, Password: "a guess that is wrong"}
	right := api.LoginRequest{UserID: w.user, Password: pwUser}
	worst := 0
	for minute := 0; minute < 24*60; minute += 5 {
		for _, c := range append([]*http.Client{attacker}, botnet[minute/5%len(botnet)]) {
			if o := w.attempt(t, c, api.PathLogin, guess); o.code != api.CodeInvalidCredentials && o.code != api.CodeAccountLocked {
				t.Fatalf("minute %d: a guess got %+v", minute, o)
			}
		}
		if minute%60 == 0 {
			h := minute / 60
			// A correct first attempt from an address that never failed.
			if o := w.attempt(t, w.clientFrom(t, fmt.Sprintf("127.0.2.%d", h+1), nil), api.PathLogin, right); o.status != http.StatusOK {
				t.Fatalf("hour %d: the user from a fresh address: %+v", h, o)
			}
			// A typo first, from another fresh address: a wait, bounded.
			c := w.clientFrom(t, fmt.Sprintf("127.0.3.%d", h+1), nil)
			if o := w.attempt(t, c, api.PathLogin, guess); o.code != api.CodeInvalidCredentials {
				t.Fatalf("hour %d: the user's typo: %+v", h, o)
			}
			o := w.attempt(t, c, api.PathLogin, right)
			if o.code == api.CodeAccountLocked {
				worst = max(worst, o.retryAfter)
				if o.retryAfter > 900 {
					t.Fatalf("hour %d: the user waits %d s after one typo, want at most 900", h, o.retryAfter)
				}
			} else if o.status != http.StatusOK {
				t.Fatalf("hour %d: the user after a typo: %+v", h, o)
			}
			// The known device, from the attacked address.
			if o := w.attempt(t, w.clientFrom(t, shared, &cert), api.PathLogin, right); o.status != http.StatusOK {
				t.Fatalf("hour %d: the user's known device from the attacked address: %+v", h, o)
			}
		}
		w.clk.Advance(5 * time.Minute)
	}
	// From the attacked address without the device the user may have to wait; recovery works.
	o := w.attempt(t, attacker, api.PathRecoveryPasswordStart, api.PasswordRecoveryStartRequest{UserID: w.user})
	if o.status != http.StatusOK {
		t.Fatalf("recovery from the attacked address: %+v", o)
	}
	t.Logf("a day of guessing from 41 addresses: the user's worst wait after a typo %d s", worst)
}

// TestLoginRateLimitedPerIP: the per-computer budget answers RATE_LIMITED with a wait, for
// known and unknown ids alike.
func TestLoginRateLimitedPerIP(t *testing.T) {
	w := newWorld(t, servertest.WithLoginRate(5)) // burst of 10
	c := w.rawClient(t)
	limited := 0
	for i := range 30 {
		id := w.other
		if i%2 == 1 {
			id = fmt.Sprintf("nobody_%d", i)
		}
		o := w.attempt(t, c, api.PathLogin, api.LoginRequest{UserID: id, Password: "not the password at all"})
		if o.code == api.CodeRateLimited {
			limited++
			if o.retryAfter < 1 || o.status != http.StatusTooManyRequests {
				t.Fatalf("attempt %d: %+v", i+1, o)
			}
		}
	}
	// newWorld's own logins used part of the budget; at most the burst got through.
	if limited < 20 {
		t.Fatalf("%d of 30 rapid attempts were rate limited, want at least 20", limited)
	}
}

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wrongCode is a valid-looking code that is none of the accepted ones around at.
func wrongCode(t *testing.T, secret string, at time.Time, i int) string {
	t.Helper()
	for n := i; ; n++ {
		c := fmt.Sprintf("%06d", (n*7919)%1000000)
		if c != code(t, secret, at) && c != code(t, secret, at.Add(-30*time.Second)) && c != code(t, secret, at.Add(30*time.Second)) {
			return c
		}
	}
}

// TestTOTPGuessingThrottled: wrong one-time codes count into the account's lockout whether they
// come with the password (login with otp) or in the MFA step, and while locked even the right
// code does not get in; guessing the enrolment code is throttled too.
func TestTOTPGuessingThrottled(t *testing.T) {
	w := newWorld(t)
	c := w.rawClient(t)
	ctx := ctxT(t)
	user, _ := w.login(t, w.user, pwUser)
	en, err := user.StartTOTP(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Guessing the enrolment's first code: five wrong codes, then locked.
	path := fill(api.PathTOTPVerify, map[string]string{"enrollment": en.EnrollmentID})
	verify := func(code string) outcome {
		a, err := w.send(c, rawReq{method: "POST", path: path, ctype: "application/json", authz: "Bearer " + w.userTok,
			body: mustJSON(api.CodeRequest{Code: code})})
		if err != nil {
			t.Fatal(err)
		}
		if a.status/100 == 2 {
			return outcome{status: a.status}
		}
		p, err := problemOf(a)
		if err != nil {
			t.Fatal(err)
		}
		return outcome{status: a.status, code: p.Code, retryAfter: p.RetryAfter}
	}
	for i := range 5 {
		if o := verify(wrongCode(t, en.SecretBase32, w.clk.Now(), i)); o.code != api.CodeOTPInvalid {
			t.Fatalf("enrolment guess %d: %+v", i+1, o)
		}
	}
	if o := verify(code(t, en.SecretBase32, w.clk.Now())); o.code != api.CodeAccountLocked || o.retryAfter != 30 {
		t.Fatalf("right enrolment code while locked: %+v", o)
	}
	w.clk.Advance(31 * time.Second)
	if o := verify(code(t, en.SecretBase32, w.clk.Now())); o.status != http.StatusCreated {
		t.Fatalf("right enrolment code after the wait: %+v", o)
	}

	// Login with password and otp: wrong codes lock the account like wrong passwords.
	for i := range 5 {
		o := w.attempt(t, c, api.PathLogin, api.LoginRequest{UserID: w.user, Password: pwUser, OTP: wrongCode(t, en.SecretBase32, w.clk.Now(), 10+i)})
		if o.code != api.CodeOTPInvalid {
			t.Fatalf("login otp guess %d: %+v", i+1, o)
		}
	}
	o := w.attempt(t, c, api.PathLogin, api.LoginRequest{UserID: w.user, Password: pwUser, OTP: code(t, en.SecretBase32, w.clk.Now())})
	if o.code != api.CodeAccountLocked || o.retryAfter != 30 {
		t.Fatalf("right code while locked: %+v", o)
	}
	w.clk.Advance(31 * time.Second)

	// The MFA step: a fresh ticket does not buy fresh guesses.
	mfa := func() string {
		a, err := w.send(c, rawReq{method: "POST", path: api.PathLogin, ctype: "application/json",
			body: mustJSON(api.LoginRequest{UserID: w.user, Password: pwUser})})
		if err != nil {
			t.Fatal(err)
		}
		p, err := problemOf(a)
		if err != nil || p.Code != api.CodeMFARequired || len(p.MFATicket) != 43 {
			t.Fatalf("login without otp: %+v %v", p, err)
		}
		return p.MFATicket
	}
	ticket := mfa()
	o = w.attempt(t, c, api.PathLoginMFA, api.MFARequest{MFATicket: ticket, OTP: wrongCode(t, en.SecretBase32, w.clk.Now(), 20)})
	if o.code != api.CodeOTPInvalid {
		t.Fatalf("first MFA guess after the wait: %+v", o)
	}
	// The failures before the wait still count: the sixth failure locks for 60 s.
	o = w.attempt(t, c, api.PathLoginMFA, api.MFARequest{MFATicket: mfaOrLocked(t, w, c, ticket), OTP: code(t, en.SecretBase32, w.clk.Now())})
	if o.code != api.CodeAccountLocked || o.retryAfter != 60 {
		t.Fatalf("right code in the MFA step while locked: %+v", o)
	}
	w.clk.Advance(61 * time.Second)
	o = w.attempt(t, c, api.PathLoginMFA, api.MFARequest{MFATicket: mfa(), OTP: code(t, en.SecretBase32, w.clk.Now())})
	if o.status != http.StatusOK {
		t.Fatalf("right code after the wait: %+v", o)
	}
}

// mfaOrLocked: a new login while locked is refused before any ticket is issued; the old ticket
// is what a guesser still holds.
func mfaOrLocked(t *testing.T, w *world, c *http.Client, old string) string {
	t.Helper()
	o := w.attempt(t, c, api.PathLogin, api.LoginRequest{UserID: w.user, Password: pwUser})
	if o.code != api.CodeAccountLocked {
		t.Fatalf("new login while locked: %+v", o)
	}
	return old
}

// TestRecoveryCodeGuessingSameForKnownAndUnknownIDs: guessing the emailed recovery code of an
// existing account and of an unknown user id (whose recovery is a decoy) gets the same answers
// and the same lockout, so recovery neither tells accounts apart nor allows unthrottled guessing.
func TestRecoveryCodeGuessingSameForKnownAndUnknownIDs(t *testing.T) {
	w := newWorld(t)
	c := w.rawClient(t)
	start := func(uid string) api.PasswordRecovery {
		a, err := w.send(c, rawReq{method: "POST", path: api.PathRecoveryPasswordStart, ctype: "application/json",
			body: mustJSON(api.PasswordRecoveryStartRequest{UserID: uid})})
		var rec api.PasswordRecovery
		if err != nil || a.status != http.StatusOK || json.Unmarshal(a.body, &rec) != nil || len(rec.Questions) != 2 {
			t.Fatalf("recovery start for %s: %d %v %s", uid, a.status, err, a.body)
		}
		return rec
	}
	known, ghost := start(w.user), start("zznobody_777")
	guess := func(rec api.PasswordRecovery, i int) outcome {
		var answers []api.SecurityAnswer
		for _, q := range rec.Questions {
			answers = append(answers, api.SecurityAnswer{QuestionID: q.ID, Answer: "a wrong answer"})
		}
		const pw = "brand new password for sure"
		return w.attempt(t, c, api.PathRecoveryPasswordComplete, api.PasswordRecoveryCompleteRequest{RecoveryID: rec.RecoveryID,
			Code: fmt.Sprintf("%08d", 31337+i), SecurityAnswers: answers, Password: pw, PasswordConfirm: pw})
	}
	// Five wrong guesses spend a recovery (and count five failures on the user id); more get
	// the same refusal.
	for i := range 8 {
		k, u := guess(known, i), guess(ghost, i)
		if k != u || k.code != api.CodeRecoveryInvalid {
			t.Fatalf("guess %d: known id got %+v, unknown id got %+v, want RECOVERY_INVALID for both", i+1, k, u)
		}
	}
	// A spent recovery does not lock anything: logging in works, and a new recovery is alike
	// for both; a fourth within the hour is refused alike for both.
	if o := w.attempt(t, c, api.PathLogin, api.LoginRequest{UserID: w.user, Password: pwUser}); o.status != http.StatusOK {
		t.Fatalf("login after the guesses: %+v", o)
	}
	start(w.user)
	start("zznobody_777")
	for range 2 {
		k := w.attempt(t, c, api.PathRecoveryPasswordStart, api.PasswordRecoveryStartRequest{UserID: w.user})
		u := w.attempt(t, c, api.PathRecoveryPasswordStart, api.PasswordRecoveryStartRequest{UserID: "zznobody_777"})
		if k != u {
			t.Fatalf("more recoveries: known %+v, unknown %+v", k, u)
		}
		if k.status != http.StatusOK && k.code != api.CodeRateLimited {
			t.Fatalf("more recoveries: %+v", k)
		}
	}
	k := w.attempt(t, c, api.PathRecoveryPasswordStart, api.PasswordRecoveryStartRequest{UserID: w.user})
	u := w.attempt(t, c, api.PathRecoveryPasswordStart, api.PasswordRecoveryStartRequest{UserID: "zznobody_777"})
	if k != u || k.code != api.CodeRateLimited || k.retryAfter < 1 {
		t.Fatalf("recoveries beyond the hourly cap: known %+v, unknown %+v, want RATE_LIMITED for both", k, u)
	}
}

// TestRecoveryEmailFlood: asking for reset codes again and again sends at most three emails an
// hour to the account, and only the newest code works (one live recovery per account).
func TestRecoveryEmailFlood(t *testing.T) {
	w := newWorld(t)
	c := w.rawClient(t)
	before := len(w.env.Mails(t))
	var recs []api.PasswordRecovery
	var codes []string
	for range 50 {
		a, err := w.send(c, rawReq{method: "POST", path: api.PathRecoveryPasswordStart, ctype: "application/json",
			body: mustJSON(api.PasswordRecoveryStartRequest{UserID: w.user})})
		if err != nil {
			t.Fatal(err)
		}
		var rec api.PasswordRecovery
		if a.status == http.StatusOK && json.Unmarshal(a.body, &rec) == nil {
			recs = append(recs, rec)
			codes = append(codes, recoveryCode(t, w, "bob@acme.example"))
		}
		w.clk.Advance(10 * time.Second)
	}
	sent := len(w.env.Mails(t)) - before
	if sent != 3 || len(recs) != 3 {
		t.Fatalf("50 requests in 8 minutes sent %d emails (%d recoveries), want 3", sent, len(recs))
	}
	const pw = "brand new password for sure"
	complete := func(i int) outcome {
		return w.attempt(t, c, api.PathRecoveryPasswordComplete, api.PasswordRecoveryCompleteRequest{RecoveryID: recs[i].RecoveryID,
			Code: codes[i], SecurityAnswers: answersFor(recs[i]), Password: pw, PasswordConfirm: pw})
	}
	if o := complete(0); o.code != api.CodeRecoveryInvalid {
		t.Fatalf("the code of a replaced recovery: %+v", o)
	}
	if o := complete(2); o.status != http.StatusOK {
		t.Fatalf("the newest code: %+v", o)
	}
}

// TestConnectionPasswordGuessingThrottled: Account Connections asks for the password of the
// account that owns the presented certificate; guessing it there is throttled like a login (on
// that certificate's own counter, so the owner's other logins are not held back), and an unknown
// owner id is answered alike.
func TestConnectionPasswordGuessingThrottled(t *testing.T) {
	w := newWorld(t)
	ctx := ctxT(t)
	owner, _ := w.login(t, w.other, pwOther)
	cert := identity(t, owner)
	caller, _ := w.login(t, w.user, pwUser)
	withCert := caller.WithCertificate(&cert)
	defer withCert.CloseIdleConnections()
	try := func(uid, pw string) outcome {
		_, err := withCert.ConnectCertificate(ctx, api.ConnectionRequest{UserID: uid, Password: pw})
		if err == nil {
			return outcome{status: http.StatusCreated}
		}
		p := client.ProblemOf(err)
		if p == nil {
			t.Fatalf("connect as %s: %v", uid, err)
		}
		return outcome{status: p.Status, code: p.Code, retryAfter: p.RetryAfter}
	}
	for i := range 7 {
		k, u := try(w.other, fmt.Sprintf("guess %d of the owner's password", i)), try("zzghost_5150", fmt.Sprintf("guess %d", i))
		if k != u {
			t.Fatalf("guess %d: owner id %+v, unknown id %+v", i+1, k, u)
		}
		want := api.CodeConnectionSourceAuth
		if i == 5 {
			want = api.CodeAccountLocked
		}
		if k.code != want {
			t.Fatalf("guess %d = %+v, want %s", i+1, k, want)
		}
		if k.code == api.CodeAccountLocked {
			if k.retryAfter != 30 {
				t.Fatalf("guess %d: wait %d s, want 30", i+1, k.retryAfter)
			}
			// The owner's own login is not locked by it.
			if o := w.attempt(t, w.rawClient(t), api.PathLogin, api.LoginRequest{UserID: w.other, Password: pwOther}); o.status != http.StatusOK {
				t.Fatalf("the owner's login while guesses through its certificate are locked: %+v", o)
			}
			w.clk.Advance(31 * time.Second)
		}
	}
	w.clk.Advance(61 * time.Second) // the seventh guess locked for 60 s
	if o := try(w.other, pwOther); o.status != http.StatusCreated {
		t.Fatalf("the right password after the wait: %+v", o)
	}
}
