package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// newClock is the server's clock for a test, frozen unless the test moves it.
func newClock() *servertest.Clock { return servertest.NewFrozenClock(time.Now().UTC()) }

const goodPW = "plum orbit lantern quietly 42"

// oneUser is a magd on a frozen clock, without security questions, with one active user of
// org "Acme" whose password is goodPW: the start of most login and credential tests.
func oneUser(t *testing.T) (*servertest.Clock, *servertest.Env, *http.Client, string) {
	t.Helper()
	clk := newClock()
	env := servertest.Start(t, servertest.WithNow(clk.Now), servertest.WithSecurityQuestions(false))
	org := env.CreateOrg(t, "Acme")
	return clk, env, env.Client(t, nil), env.CreateActiveUser(t, org, "a@acme.example", "Ann", "Able", goodPW, false)
}

func wantCode(t *testing.T, what string, p *api.Problem, code api.Code) {
	t.Helper()
	if p == nil {
		t.Fatalf("%s: succeeded, want %s", what, code)
	}
	if p.Code != code {
		t.Fatalf("%s: code %s (%s), want %s", what, p.Code, p.Detail, code)
	}
	if p.Detail == "" || p.Title == "" {
		t.Fatalf("%s: problem without title or detail: %+v", what, p)
	}
}

// TestActivationScenario follows the seed page: the activation email -> inspect -> complete with
// every mistake a user makes -> login -> Login Success email.
func TestActivationScenario(t *testing.T) {
	clk := newClock()
	env := servertest.Cluster(t, servertest.WithNow(clk.Now))
	c := env.Client(t, nil)
	org := env.CreateOrg(t, "Acme Parts")
	uid := env.CreateUser(t, org, "jane.doe@acme.example", "Jane", "Doe", false)

	mails := env.Mails(t)
	if len(mails) != 1 || mails[0].Subject != "Action Required: Account Activation" || mails[0].To != "jane.doe@acme.example" {
		t.Fatalf("activation email: %+v", mails)
	}
	token := env.ActivationToken(t, uid)
	body := mails[0].Body
	for _, want := range []string{"Your user ID: " + uid, "magdesk://activate?token=" + token, env.URL + "/activate#token=" + token} {
		if !strings.Contains(body, want) {
			t.Fatalf("activation email lacks %q:\n%s", want, body)
		}
	}

	var info api.ActivationInfo
	if st, p := env.Do(t, c, "POST", api.PathActivationInspect, "", api.TokenRequest{Token: token}, &info); st != 200 {
		t.Fatalf("inspect: %d %v", st, p)
	}
	if info.UserID != uid || info.OrgName != "Acme Parts" || info.SecurityQuestionsRequired != 4 || info.EmailMasked != "j***@acme.example" {
		t.Fatalf("inspect: %+v", info)
	}
	// Inspecting does not consume: a second inspect works too.
	if st, p := env.Do(t, c, "POST", api.PathActivationInspect, "", api.TokenRequest{Token: token}, nil); st != 200 {
		t.Fatalf("second inspect: %d %v", st, p)
	}

	complete := func(pw, confirm string, answers []api.SecurityAnswer) *api.Problem {
		_, p := env.Do(t, c, "POST", api.PathActivationComplete, "", api.ActivationCompleteRequest{Token: token, Password: pw,
			PasswordConfirm: confirm, SecurityAnswers: answers}, nil)
		return p
	}
	wantCode(t, "mismatched passwords", complete(goodPW, goodPW+"x", servertest.Answers), api.CodePasswordMismatch)
	wantCode(t, "short password", complete("short", "short", servertest.Answers), api.CodePasswordTooShort)
	wantCode(t, "blocklisted password", complete("123456789012345", "123456789012345", servertest.Answers), api.CodePasswordBlocklisted)
	wantCode(t, "three answers", complete(goodPW, goodPW, servertest.Answers[:3]), api.CodeSecurityQuestionsInvalid)
	dup := append([]api.SecurityAnswer{}, servertest.Answers...)
	dup[3].QuestionID = dup[0].QuestionID
	wantCode(t, "same question twice", complete(goodPW, goodPW, dup), api.CodeSecurityQuestionsInvalid)
	bad := append([]api.SecurityAnswer{}, servertest.Answers...)
	bad[1].QuestionID = "q99"
	wantCode(t, "unknown question", complete(goodPW, goodPW, bad), api.CodeSecurityQuestionsInvalid)

	// Nothing above consumed the token.
	if p := complete(goodPW, goodPW, servertest.Answers); p != nil {
		t.Fatalf("complete: %v", p)
	}
	wantCode(t, "reused token", complete(goodPW, goodPW, servertest.Answers), api.CodeActivationTokenUsed)
	_, p := env.Do(t, c, "POST", api.PathActivationInspect, "", api.TokenRequest{Token: token}, nil)
	wantCode(t, "inspect used token", p, api.CodeActivationTokenUsed)
	_, p = env.Do(t, c, "POST", api.PathActivationInspect, "", api.TokenRequest{Token: strings.Repeat("A", 43)}, nil)
	wantCode(t, "unknown token", p, api.CodeActivationTokenInvalid)
	_, p = env.Do(t, c, "POST", api.PathActivationInspect, "", api.TokenRequest{Token: token + "junk"}, nil)
	wantCode(t, "token with trailing junk", p, api.CodeActivationTokenInvalid)

	// Login, and the Login Success email only the first time.
	lr, p := env.Login(t, c, strings.ToUpper(uid), goodPW)
	if p != nil {
		t.Fatalf("login: %v", p)
	}
	if !lr.FirstLogin || lr.Account.UserID != uid || lr.Session.AAL != 1 || !strings.HasPrefix(lr.SessionToken, "mst_") {
		t.Fatalf("login: %+v", lr)
	}
	if _, p := env.Login(t, c, uid, goodPW); p != nil {
		t.Fatalf("second login: %v", p)
	}
	var success int
	for _, m := range env.Mails(t) {
		if m.Subject == "Login Success" {
			success++
			if !strings.Contains(m.Body, "magdesk://my-account/credentials") {
				t.Fatalf("Login Success email lacks the credentials link:\n%s", m.Body)
			}
		}
	}
	if success != 1 {
		t.Fatalf("%d Login Success emails, want 1", success)
	}

	// An expired token (the injected clock moves 24 h on).
	uid2 := env.CreateUser(t, org, "john@acme.example", "John", "Roe", false)
	tok2 := env.ActivationToken(t, uid2)
	clk.Advance(24*time.Hour + time.Second)
	_, p = env.Do(t, c, "POST", api.PathActivationComplete, "", api.ActivationCompleteRequest{Token: tok2, Password: goodPW,
		PasswordConfirm: goodPW, SecurityAnswers: servertest.Answers}, nil)
	wantCode(t, "expired token", p, api.CodeActivationTokenExpired)

	// A resend supersedes the old token.
	if err := env.Server.ResendActivation(t.Context(), uid2); err != nil {
		t.Fatal(err)
	}
	tok3 := env.ActivationToken(t, uid2)
	if tok3 == tok2 {
		t.Fatal("resend reused the token")
	}
	_, p = env.Do(t, c, "POST", api.PathActivationInspect, "", api.TokenRequest{Token: tok2}, nil)
	wantCode(t, "superseded token", p, api.CodeActivationTokenUsed)
	if st, p := env.Do(t, c, "POST", api.PathActivationInspect, "", api.TokenRequest{Token: tok3}, nil); st != http.StatusOK {
		t.Fatalf("new token: %v", p)
	}
}

func TestSecurityQuestionsOff(t *testing.T) {
	env := servertest.Start(t, servertest.WithSecurityQuestions(false))
	c := env.Client(t, nil)
	var meta api.Meta
	env.Do(t, c, "GET", api.PathMeta, "", nil, &meta)
	if meta.Features.SecurityQuestions || meta.SecurityQuestionsRequired != 0 || meta.PasswordPolicy.MinLength != 15 {
		t.Fatalf("meta: %+v", meta)
	}
	org := env.CreateOrg(t, "Org")
	uid := env.CreateActiveUser(t, org, "a@b.example", "Ann", "Bee", goodPW, false)
	if _, p := env.Login(t, c, uid, goodPW); p != nil {
		t.Fatal(p)
	}
}
