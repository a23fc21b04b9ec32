package server_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

func noPad(c *server.Config) { c.RecoveryMinDuration = -1 }

func TestRecoveryActivationAndUserIDs(t *testing.T) {
	env := servertest.Start(t, servertest.WithConfig(noPad))
	c := env.Client(t, nil)
	org := env.CreateOrg(t, "Acme")
	org2 := env.CreateOrg(t, "Bolt Works")
	pending := env.CreateUser(t, org, "pat@acme.example", "Pat", "Pend", false)
	old := env.ActivationToken(t, pending)
	active := env.CreateActiveUser(t, org2, "Pat@Acme.example", "Pat", "Pend", goodPW, false)

	var first, other api.RecoveryAccepted
	for _, req := range []api.RecoveryActivationRequest{
		{UserID: pending, Email: "someone@else.example"}, {UserID: "nobody_1234", Email: "pat@acme.example"},
		{UserID: active, Email: "pat@acme.example"},
	} {
		if st, p := env.Do(t, c, "POST", api.PathRecoveryActivation, "", req, &other); st != 202 {
			t.Fatalf("%+v: %d %v", req, st, p)
		}
		if first.Message == "" {
			first = other
		}
		if other != first {
			t.Fatalf("answers differ: %q vs %q", other.Message, first.Message)
		}
	}
	if env.ActivationToken(t, pending) != old {
		t.Fatal("a non-matching request sent a new activation email")
	}
	if st, _ := env.Do(t, c, "POST", api.PathRecoveryActivation, "", api.RecoveryActivationRequest{UserID: strings.ToUpper(pending), Email: "PAT@acme.example"}, &other); st != 202 || other != first {
		t.Fatal("matching request answered differently")
	}
	fresh := env.ActivationToken(t, pending)
	if fresh == old {
		t.Fatal("no new activation email")
	}
	_, p := env.Do(t, c, "POST", api.PathActivationInspect, "", api.TokenRequest{Token: old}, nil)
	wantCode(t, "superseded link", p, api.CodeActivationTokenUsed)

	// Forgotten user id: one email naming both accounts with their organisations.
	before := len(env.Mails(t))
	env.Do(t, c, "POST", api.PathRecoveryUserIDs, "", api.RecoveryUserIDsRequest{Email: "nobody@nowhere.example"}, &other)
	if other != first || len(env.Mails(t)) != before {
		t.Fatal("unknown email: different answer or an email was sent")
	}
	env.Do(t, c, "POST", api.PathRecoveryUserIDs, "", api.RecoveryUserIDsRequest{Email: "pat@ACME.example"}, &other)
	mails := env.Mails(t)
	if other != first || len(mails) != before+1 {
		t.Fatalf("known email: %d new emails", len(mails)-before)
	}
	body := mails[len(mails)-1].Body
	for _, want := range []string{pending, active, "Acme", "Bolt Works", "not activated yet"} {
		if !strings.Contains(body, want) {
			t.Fatalf("user-ids email lacks %q:\n%s", want, body)
		}
	}
}

var codeRE = regexp.MustCompile(`one-time code: (\d{8})`)

func TestPasswordRecovery(t *testing.T) {
	clk := newClock()
	env := servertest.Start(t, servertest.WithConfig(noPad), servertest.WithNow(clk.Now))
	c := env.Client(t, nil)
	org := env.CreateOrg(t, "Acme")
	uid := env.CreateActiveUser(t, org, "rita@acme.example", "Rita", "Reset", goodPW, false)
	tok := mustLogin(t, env, c, uid)

	start := func(id string) api.PasswordRecovery {
		t.Helper()
		var pr api.PasswordRecovery
		if st, p := env.Do(t, c, "POST", api.PathRecoveryPasswordStart, "", api.PasswordRecoveryStartRequest{UserID: id}, &pr); st != 200 {
			t.Fatalf("start %s: %v", id, p)
		}
		return pr
	}
	known, unknown := start(uid), start("ghost_4242")
	if len(known.Questions) != 2 || len(unknown.Questions) != 2 || known.RecoveryID == "" || unknown.RecoveryID == "" {
		t.Fatalf("shapes differ: %+v %+v", known, unknown)
	}
	if again := start("ghost_4242"); !slices.Equal(again.Questions, unknown.Questions) {
		t.Fatalf("decoy questions are not stable: %+v %+v", again.Questions, unknown.Questions)
	}
	answers := map[string]string{}
	for _, a := range servertest.Answers {
		answers[a.QuestionID] = a.Answer
	}
	give := func(pr api.PasswordRecovery, wrong bool) []api.SecurityAnswer {
		var out []api.SecurityAnswer
		for _, q := range pr.Questions {
			a := answers[q.ID]
			if wrong {
				a = "definitely not it"
			}
			out = append(out, api.SecurityAnswer{QuestionID: q.ID, Answer: "  " + strings.ToUpper(a) + " "})
		}
		return out
	}
	mails := env.Mails(t)
	m := codeRE.FindStringSubmatch(mails[len(mails)-1].Body)
	if m == nil || mails[len(mails)-1].To != "rita@acme.example" {
		t.Fatalf("no code email: %+v", mails[len(mails)-1])
	}
	code := m[1]
	newPW := "violet harbour engine 1977 quiet"
	complete := func(pr api.PasswordRecovery, code string, ans []api.SecurityAnswer) *api.Problem {
		_, p := env.Do(t, c, "POST", api.PathRecoveryPasswordComplete, "", api.PasswordRecoveryCompleteRequest{RecoveryID: pr.RecoveryID,
			Code: code, SecurityAnswers: ans, Password: newPW, PasswordConfirm: newPW}, nil)
		return p
	}
	wantCode(t, "unknown user id", complete(unknown, code, give(unknown, false)), api.CodeRecoveryInvalid)
	wantCode(t, "wrong code", complete(known, "00000000", give(known, false)), api.CodeRecoveryInvalid)
	wantCode(t, "wrong answers", complete(known, code, give(known, true)), api.CodeRecoveryInvalid)
	if p := complete(known, code, give(known, false)); p != nil {
		t.Fatalf("complete: %v", p)
	}
	wantCode(t, "reused code", complete(known, code, give(known, false)), api.CodeRecoveryInvalid)
	_, p := env.Do(t, c, "GET", api.PathMe, tok, nil, nil)
	wantCode(t, "old session after reset", p, api.CodeSessionExpired)
	if _, p := env.Login(t, c, uid, newPW); p != nil {
		t.Fatalf("login with the new password: %v", p)
	}
	if last := env.Mails(t); last[len(last)-1].Template != "password_changed" {
		t.Fatalf("no notification: %+v", last[len(last)-1])
	}

	// An expired code.
	pr := start(uid)
	mails = env.Mails(t)
	code = codeRE.FindStringSubmatch(mails[len(mails)-1].Body)[1]
	clk.Advance(16 * time.Minute)
	wantCode(t, "expired code", complete(pr, code, give(pr, false)), api.CodeRecoveryInvalid)

	// Guessing spends the recovery, never the login: the emailed code is the proof, and the
	// login throttling never blocks the way back in.
	clk.Advance(time.Hour) // a fresh hourly budget of recoveries
	pr = start(uid)
	mails = env.Mails(t)
	code = codeRE.FindStringSubmatch(mails[len(mails)-1].Body)[1]
	for i := range 5 {
		wantCode(t, fmt.Sprint("guess ", i), complete(pr, fmt.Sprintf("%08d", i), give(pr, false)), api.CodeRecoveryInvalid)
	}
	wantCode(t, "the right code after five guesses", complete(pr, code, give(pr, false)), api.CodeRecoveryInvalid)
	if _, p := env.Login(t, c, uid, newPW); p != nil {
		t.Fatalf("login after guessing recovery codes: %v", p)
	}
	// One live recovery: a new one ends the old, and three an hour per user id, alike for an
	// unknown one.
	older := start(uid)
	mails = env.Mails(t)
	olderCode := codeRE.FindStringSubmatch(mails[len(mails)-1].Body)[1]
	newer := start(uid)
	wantCode(t, "the code of a replaced recovery", complete(older, olderCode, give(older, false)), api.CodeRecoveryInvalid)
	for _, id := range []string{"nobody_3141", "nobody_3141", "nobody_3141"} {
		start(id)
	}
	for _, id := range []string{uid, "nobody_3141"} {
		_, p := env.Do(t, c, "POST", api.PathRecoveryPasswordStart, "", api.PasswordRecoveryStartRequest{UserID: id}, nil)
		wantCode(t, "a fourth recovery within the hour for "+id, p, api.CodeRateLimited)
	}
	mails = env.Mails(t)
	newerCode := codeRE.FindStringSubmatch(mails[len(mails)-1].Body)[1]
	if p := complete(newer, newerCode, give(newer, false)); p != nil {
		t.Fatalf("the newest recovery: %v", p)
	}
}

// TestRecoveryTiming takes many samples of password/start for existing and unknown user ids,
// alternating, and checks their medians differ by less than the noise allowance.
func TestRecoveryTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("timing samples")
	}
	const pad = 250 * time.Millisecond
	env := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.RecoveryMinDuration = pad }))
	c := env.Client(t, nil)
	org := env.CreateOrg(t, "Acme")
	var known []string
	for i := range 8 {
		known = append(known, env.CreateActiveUser(t, org, fmt.Sprintf("u%d@acme.example", i), "Uma", fmt.Sprintf("User%c", 'a'+i), goodPW, false))
	}
	sample := func(id string) time.Duration {
		start := time.Now()
		if st, p := env.Do(t, c, "POST", api.PathRecoveryPasswordStart, "", api.PasswordRecoveryStartRequest{UserID: id}, nil); st != 200 {
			t.Fatalf("start: %v", p)
		}
		return time.Since(start)
	}
	var tk, tu []time.Duration
	for i := range 12 {
		tk = append(tk, sample(known[i%len(known)]))
		tu = append(tu, sample(fmt.Sprintf("ghost_%04d", i)))
	}
	slices.Sort(tk)
	slices.Sort(tu)
	mk, mu := tk[len(tk)/2], tu[len(tu)/2]
	t.Logf("median known %v, unknown %v (pad %v)", mk, mu, pad)
	if d := mk - mu; d > 30*time.Millisecond || d < -30*time.Millisecond || mk < pad || mu < pad {
		t.Fatalf("known and unknown user ids can be told apart by time: median %v vs %v", mk, mu)
	}
}

// TestRecoveryWithoutAnswers: an account activated while security questions were off, on a
// server that has since turned them on, is asked two stable questions like an unknown user id
// (nothing tells them apart), and recovers with the emailed code alone, whose email says so.
func TestRecoveryWithoutAnswers(t *testing.T) {
	dir := t.TempDir()
	data := func(c *server.Config) { c.DataDir = dir; c.RecoveryMinDuration = -1 }
	off := servertest.Start(t, servertest.WithSecurityQuestions(false), servertest.WithConfig(data))
	uid := off.CreateActiveUser(t, off.CreateOrg(t, "Acme"), "nora@acme.example", "Nora", "Noanswers", goodPW, false)

	env := servertest.Start(t, servertest.WithSecurityQuestions(true), servertest.WithConfig(data)) // same data folder, questions on
	c := env.Client(t, nil)
	start := func(id string) api.PasswordRecovery {
		t.Helper()
		var pr api.PasswordRecovery
		if st, p := env.Do(t, c, "POST", api.PathRecoveryPasswordStart, "", api.PasswordRecoveryStartRequest{UserID: id}, &pr); st != 200 {
			t.Fatalf("start %s: %v", id, p)
		}
		return pr
	}
	known, unknown := start(uid), start("ghost_7777")
	if len(known.Questions) != 2 || len(unknown.Questions) != 2 {
		t.Fatalf("shapes differ: %d questions for the account, %d for an unknown id", len(known.Questions), len(unknown.Questions))
	}
	pr := start(uid) // the newest email is this recovery's
	if !slices.Equal(pr.Questions, known.Questions) {
		t.Fatalf("questions not stable: %+v vs %+v", pr.Questions, known.Questions)
	}
	mails := env.Mails(t)
	last := mails[len(mails)-1]
	m := codeRE.FindStringSubmatch(last.Body)
	if m == nil || last.To != "nora@acme.example" || !strings.Contains(last.Body, "this code alone is enough") {
		t.Fatalf("code email: %+v", last)
	}
	newPW := "amber lantern orchard 2031 calm"
	complete := func(code string) *api.Problem {
		var ans []api.SecurityAnswer
		for _, q := range pr.Questions {
			ans = append(ans, api.SecurityAnswer{QuestionID: q.ID}) // left empty, as the email says
		}
		_, p := env.Do(t, c, "POST", api.PathRecoveryPasswordComplete, "", api.PasswordRecoveryCompleteRequest{RecoveryID: pr.RecoveryID,
			Code: code, SecurityAnswers: ans, Password: newPW, PasswordConfirm: newPW}, nil)
		return p
	}
	wantCode(t, "wrong code", complete("00000000"), api.CodeRecoveryInvalid)
	if p := complete(m[1]); p != nil {
		t.Fatalf("the emailed code alone should recover an account without answers: %v", p)
	}
	if _, p := env.Login(t, c, uid, newPW); p != nil {
		t.Fatalf("login with the new password: %v", p)
	}
}
