package hardening

import (
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// race sends n requests at once (each built by req(i)) and returns the answers in order.
func (w *world) race(t *testing.T, n int, req func(i int) rawReq) []answer {
	t.Helper()
	c := w.rawClient(t)
	out := make([]answer, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			a, err := w.send(c, req(i))
			if err != nil {
				a = answer{status: -1, body: []byte(err.Error())}
			}
			out[i] = a
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// exactlyOne checks that one answer has status win and every other one is the catalogued
// problem lose; it returns the winner's index.
func exactlyOne(t *testing.T, what string, as []answer, win int, lose api.Code) int {
	t.Helper()
	winner := -1
	for i, a := range as {
		if a.status == win {
			if winner >= 0 {
				t.Fatalf("%s: requests %d and %d both succeeded", what, winner, i)
			}
			winner = i
			continue
		}
		p, err := problemOf(a)
		if err != nil || p.Code != lose {
			t.Fatalf("%s: request %d got %d %v %.200s, want %s", what, i, a.status, err, a.body, lose)
		}
	}
	if winner < 0 {
		t.Fatalf("%s: none of %d requests succeeded", what, len(as))
	}
	return winner
}

// TestSingleUseUnderConcurrency: everything that works once (an activation token, a TOTP
// code, a launch URL, an application's assertion, an access request, an emailed recovery code)
// works exactly once when ten requests race for it.
func TestSingleUseUnderConcurrency(t *testing.T) {
	// Enough hashing slots that all ten really run at once (on 2 CPUs magd would otherwise turn
	// some away with SERVER_BUSY before they reach the single-use check).
	w := newWorld(t, servertest.WithConfig(func(c *server.Config) { c.HashConcurrency = 16 }))
	const n = 10
	pw := func(i int) string { return fmt.Sprintf("racing password number %02d x", i) }

	as := w.race(t, n, func(i int) rawReq {
		return rawReq{method: "POST", path: api.PathActivationComplete, ctype: "application/json", body: mustJSON(api.ActivationCompleteRequest{
			Token: w.pendingToken, Password: pw(i), PasswordConfirm: pw(i), SecurityAnswers: servertest.Answers})}
	})
	won := exactlyOne(t, "activation token", as, http.StatusOK, api.CodeActivationTokenUsed)
	c := w.rawClient(t)
	// The winner's password is the account's; the losers' are not (four of them: a fifth
	// failure would lock the account).
	for k, i := range []int{won, (won + 1) % n, (won + 2) % n, (won + 3) % n, (won + 4) % n} {
		o := w.attempt(t, c, api.PathLogin, api.LoginRequest{UserID: w.pending, Password: pw(i)})
		if (o.status == http.StatusOK) != (k == 0) {
			t.Fatalf("password %d of the race: %+v (the winner was %d)", i, o, won)
		}
	}

	// One TOTP code, ten logins.
	user, _ := w.login(t, w.user, pwUser)
	en, err := user.StartTOTP(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := user.VerifyTOTP(ctxT(t), en.EnrollmentID, code(t, en.SecretBase32, w.clk.Now())); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(30 * time.Second)
	otp := code(t, en.SecretBase32, w.clk.Now())
	as = w.race(t, n, func(int) rawReq {
		return rawReq{method: "POST", path: api.PathLogin, ctype: "application/json", body: mustJSON(api.LoginRequest{UserID: w.user, Password: pwUser, OTP: otp})}
	})
	exactlyOne(t, "TOTP code", as, http.StatusOK, api.CodeOTPReplayed)

	// One launch URL, ten browsers (one authorization code, ten token requests: internal/server).
	lu := w.launchURL(t)
	as = w.race(t, n, func(int) rawReq { return rawReq{method: "GET", path: lu.Path} })
	pageWinner(t, "launch URL", as, http.StatusSeeOther)

	// Ten requests for access to the same application.
	as = w.race(t, n, func(int) rawReq {
		return rawReq{method: "POST", path: fill(api.PathAccessRequests, map[string]string{"app": appAvail}), ctype: "application/json",
			body: []byte("{}"), authz: "Bearer " + w.adminTok}
	})
	exactlyOne(t, "access request", as, http.StatusCreated, api.CodeAccessRequestExists)

	// One emailed recovery code, ten new passwords.
	var rec api.PasswordRecovery
	if st, p := w.env.Do(t, w.env.Client(t, nil), "POST", api.PathRecoveryPasswordStart, "", api.PasswordRecoveryStartRequest{UserID: w.other}, &rec); p != nil {
		t.Fatalf("recovery start: %d %+v", st, p)
	}
	proof := answersFor(rec)
	rcode := recoveryCode(t, w, "olga@globex.example")
	as = w.race(t, n, func(i int) rawReq {
		return rawReq{method: "POST", path: api.PathRecoveryPasswordComplete, ctype: "application/json", body: mustJSON(api.PasswordRecoveryCompleteRequest{
			RecoveryID: rec.RecoveryID, Code: rcode, SecurityAnswers: proof, Password: pw(i), PasswordConfirm: pw(i)})}
	})
	won = exactlyOne(t, "recovery code", as, http.StatusOK, api.CodeRecoveryInvalid)
	if o := w.attempt(t, c, api.PathLogin, api.LoginRequest{UserID: w.other, Password: pw(won)}); o.status != http.StatusOK {
		t.Fatalf("the winning new password: %+v", o)
	}
	// The recovery ended every session the account had.
	a, err := w.send(c, rawReq{method: "GET", path: api.PathMe, authz: "Bearer " + w.otherTok})
	if p, perr := problemOf(a); err != nil || perr != nil || p.Code != api.CodeSessionExpired {
		t.Fatalf("a session from before the recovery: %d %v %v %+v", a.status, err, perr, p)
	}
}

// answersFor is the right answers (servertest.Answers) to the questions of a recovery.
func answersFor(rec api.PasswordRecovery) []api.SecurityAnswer {
	answers := map[string]string{}
	for _, a := range servertest.Answers {
		answers[a.QuestionID] = a.Answer
	}
	var proof []api.SecurityAnswer
	for _, q := range rec.Questions {
		proof = append(proof, api.SecurityAnswer{QuestionID: q.ID, Answer: answers[q.ID]})
	}
	return proof
}

var codeRE = regexp.MustCompile(`one-time code: (\d{6,10})`)

// recoveryCode is the code of the newest password-recovery email to addr.
func recoveryCode(t *testing.T, w *world, addr string) string {
	t.Helper()
	msgs := w.env.Mails(t)
	for i := len(msgs) - 1; i >= 0; i-- {
		if m := msgs[i]; m.To == addr && m.Template == "recovery_code" {
			if sm := codeRE.FindStringSubmatch(m.Body); sm != nil {
				return sm[1]
			}
		}
	}
	t.Fatalf("no recovery code emailed to %s", addr)
	return ""
}

// pageWinner is exactlyOne for browser pages: the losers get 410 Gone.
func pageWinner(t *testing.T, what string, as []answer, win int) int {
	t.Helper()
	winner := -1
	for i, a := range as {
		switch {
		case a.status == win && winner < 0:
			winner = i
		case a.status == win:
			t.Fatalf("%s: requests %d and %d both succeeded", what, winner, i)
		case a.status != http.StatusGone:
			t.Fatalf("%s: request %d got %d, want %d once and 410 otherwise", what, i, a.status, win)
		}
	}
	if winner < 0 {
		t.Fatalf("%s: none succeeded", what)
	}
	return winner
}
