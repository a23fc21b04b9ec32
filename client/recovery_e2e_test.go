package client_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

var codeRE = regexp.MustCompile(`one-time code: (\d+)`)

// newestMail is the body of the newest email of a template that mentions s.
func newestMail(t *testing.T, env *servertest.Env, template, s string) string {
	t.Helper()
	msgs := env.Mails(t)
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Template == template && strings.Contains(msgs[i].Body, s) {
			return msgs[i].Body
		}
	}
	t.Fatalf("no %s email mentioning %s", template, s)
	return ""
}

func answersFor(qs []api.SecurityQuestion) []api.SecurityAnswer {
	var out []api.SecurityAnswer
	for _, q := range qs {
		for _, a := range servertest.Answers {
			if a.QuestionID == q.ID {
				out = append(out, a)
			}
		}
	}
	return out
}

// Account self-service over real TLS: forgotten user ID, lost activation link, forgotten password.
func TestRecoveryFlows(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.client(t)
	meta, err := c.Meta(ctx)
	if err != nil || !meta.Features.Recovery {
		t.Fatalf("meta = %+v, %v", meta, err)
	}

	// Forgotten user ID: the mail lists it; an unknown address gets the same answer.
	known, err := c.RecoverUserIDs(ctx, "bob@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := c.RecoverUserIDs(ctx, "nobody@acme.example")
	if err != nil || unknown.Message != known.Message {
		t.Fatalf("unknown address: %+v, %v (known: %+v)", unknown, err, known)
	}
	newestMail(t, w.env, "recovery_user_ids", w.user)
	_, err = c.RecoverUserIDs(ctx, "not an address")
	wantCode(t, err, api.CodeValidationFailed)

	// Lost activation link: a fresh one supersedes the old.
	if _, err := c.RecoverActivation(ctx, w.pendingUser, "carol@acme.example"); err != nil {
		t.Fatal(err)
	}
	fresh := w.env.ActivationToken(t, w.pendingUser)
	if fresh == w.pendingUserToken {
		t.Fatal("no new activation email")
	}
	_, err = c.InspectActivation(ctx, w.pendingUserToken)
	wantCode(t, err, api.CodeActivationTokenUsed)
	if info, err := c.InspectActivation(ctx, fresh); err != nil || info.UserID != w.pendingUser {
		t.Fatalf("inspect the new token: %+v, %v", info, err)
	}

	// Forgotten password: emailed code plus two of the four answers; every session ends.
	bob := w.login(t, w.user, pwUser)
	rec, err := c.StartPasswordRecovery(ctx, w.user)
	if err != nil || rec.RecoveryID == "" || len(rec.Questions) != 2 {
		t.Fatalf("start = %+v, %v", rec, err)
	}
	code := codeRE.FindStringSubmatch(newestMail(t, w.env, "recovery_code", w.user))[1]
	const newPW = "saffron glacier tuba orchard"
	req := api.PasswordRecoveryCompleteRequest{RecoveryID: rec.RecoveryID, Code: "00000000",
		SecurityAnswers: answersFor(rec.Questions), Password: newPW, PasswordConfirm: newPW}
	if code == req.Code {
		req.Code = "11111111"
	}
	_, err = c.CompletePasswordRecovery(ctx, req)
	wantCode(t, err, api.CodeRecoveryInvalid)
	req.Code = code
	req.SecurityAnswers = []api.SecurityAnswer{{QuestionID: rec.Questions[0].ID, Answer: "wrong"}, {QuestionID: rec.Questions[1].ID, Answer: "wrong"}}
	_, err = c.CompletePasswordRecovery(ctx, req)
	wantCode(t, err, api.CodeRecoveryInvalid)
	req.SecurityAnswers = answersFor(rec.Questions)
	if _, err := c.CompletePasswordRecovery(ctx, req); err != nil {
		t.Fatalf("complete: %v", err)
	}
	_, err = c.CompletePasswordRecovery(ctx, req)
	wantCode(t, err, api.CodeRecoveryInvalid)
	if _, err := bob.Me(ctx); !client.IsUnauthenticated(err) {
		t.Fatalf("Bob's session survived the password reset: %v", err)
	}
	if _, err := w.client(t).Login(ctx, w.user, newPW, ""); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}

	// An unknown user ID gets the same shape of answer.
	decoy, err := c.StartPasswordRecovery(ctx, "nobody_4242")
	if err != nil || decoy.RecoveryID == "" || len(decoy.Questions) != 2 {
		t.Fatalf("unknown user id: %+v, %v", decoy, err)
	}
}
