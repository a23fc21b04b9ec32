package server

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/mail"
	"github.com/mag-desktop/magdesk/internal/server/password"
	"github.com/mag-desktop/magdesk/internal/server/store"
	"github.com/mag-desktop/magdesk/internal/version"
)

// securityQuestions is the catalogue; activation needs answers to exactly four distinct ones.
var securityQuestions = []api.SecurityQuestion{
	{ID: "q01", Text: "What was the name of your first pet?"},
	{ID: "q02", Text: "In what city were you born?"},
	{ID: "q03", Text: "What was the name of your primary school?"},
	{ID: "q04", Text: "What was the make of your first car?"},
	{ID: "q05", Text: "What is your oldest sibling's middle name?"},
	{ID: "q06", Text: "In what city did your parents meet?"},
	{ID: "q07", Text: "What was the first concert you attended?"},
	{ID: "q08", Text: "What was your childhood nickname?"},
	{ID: "q09", Text: "What is the name of the street you grew up on?"},
	{ID: "q10", Text: "What was the name of your first employer?"},
}

const requiredAnswers = 4

func questionText(id string) (string, bool) {
	for _, q := range securityQuestions {
		if q.ID == id {
			return q.Text, true
		}
	}
	return "", false
}

func (s *Server) questionsRequired() int {
	if s.cfg.SecurityQuestions {
		return requiredAnswers
	}
	return 0
}

func (s *Server) handleMeta(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, api.Meta{
		APIVersion:       api.Version,
		ServerVersion:    version.Version,
		MinClientVersion: "0.1.0",
		Features: api.Features{SecurityQuestions: s.cfg.SecurityQuestions, TOTP: true, MTLS: true,
			Recovery: true},
		PasswordPolicy:            s.policy.API(),
		SecurityQuestionsRequired: s.questionsRequired(),
	})
}

func (s *Server) handleQuestions(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, securityQuestions)
}

// checkActivationToken finds the pending account behind a token or says precisely what is wrong.
func (s *Server) checkActivationToken(ctx context.Context, token string) (store.ActivationToken, store.Account, error) {
	token = strings.TrimSpace(token)
	invalidTok := api.NewProblem(api.CodeActivationTokenInvalid,
		"This activation link is not valid. Copy the whole link from the activation email, or ask your administrator to send a new one.")
	if len(token) != 43 || strings.Trim(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return store.ActivationToken{}, store.Account{}, invalidTok
	}
	t, err := s.st.ActivationTokenByHash(ctx, tokenHash(token))
	if errors.Is(err, store.ErrNotFound) {
		return t, store.Account{}, invalidTok
	}
	if err != nil {
		return t, store.Account{}, err
	}
	acct, err := s.st.AccountByID(ctx, t.AccountID)
	if err != nil {
		return t, acct, err
	}
	switch {
	case !t.ConsumedAt.IsZero() || acct.Status != store.AccountPending:
		return t, acct, api.NewProblem(api.CodeActivationTokenUsed,
			"This activation link was already used: your account is set up. Log in with your user ID and password.")
	case !t.Superseded.IsZero():
		return t, acct, api.NewProblem(api.CodeActivationTokenUsed,
			"A newer activation email was sent to you; this link no longer works. Use the link in the newest email.")
	case !s.now().Before(t.ExpiresAt):
		return t, acct, api.NewProblem(api.CodeActivationTokenExpired,
			"This activation link has expired (links work for 24 hours). Use \"Link doesn't work?\" or ask your administrator to send a new one.")
	}
	return t, acct, nil
}

func (s *Server) handleInspect(w http.ResponseWriter, r *http.Request) error {
	var req api.TokenRequest
	if err := s.decodeLimited(r, &req, "token"); err != nil {
		return err
	}
	t, acct, err := s.checkActivationToken(r.Context(), req.Token)
	if err != nil {
		return err
	}
	steps := []string{"set_password"}
	if s.cfg.SecurityQuestions {
		steps = append(steps, "security_questions")
	}
	return writeJSON(w, http.StatusOK, api.ActivationInfo{
		UserID: acct.UserID, DisplayName: acct.DisplayName(), EmailMasked: maskEmail(acct.Email), OrgName: acct.OrgName,
		ExpiresAt: t.ExpiresAt, Steps: steps, PasswordPolicy: s.policy.API(), SecurityQuestionsRequired: s.questionsRequired(),
	})
}

// maskEmail shows enough of an address to recognise it: j***@example.com.
func maskEmail(e string) string {
	at := strings.LastIndexByte(e, '@')
	if at < 1 {
		return "***"
	}
	return e[:1] + "***" + e[at:]
}

// checkAnswers validates the security answers: exactly four distinct catalogue questions,
// each answer at least three characters once normalised.
func checkAnswers(answers []api.SecurityAnswer) error {
	var fields []api.FieldError
	seen := map[string]bool{}
	for i, a := range answers {
		f := fmt.Sprintf("security_answers[%d]", i)
		if _, ok := questionText(a.QuestionID); !ok {
			fields = append(fields, api.FieldError{Field: f + ".question_id", Code: api.CodeSecurityQuestionsInvalid, Message: "not a question of the catalogue"})
		} else if seen[a.QuestionID] {
			fields = append(fields, api.FieldError{Field: f + ".question_id", Code: api.CodeSecurityQuestionsInvalid, Message: "question chosen twice"})
		}
		seen[a.QuestionID] = true
		if n := len([]rune(password.NormalizeAnswer(a.Answer))); n < 3 || n > 200 {
			fields = append(fields, api.FieldError{Field: f + ".answer", Code: api.CodeSecurityQuestionsInvalid, Message: "answers need 3 to 200 characters"})
		}
	}
	if len(answers) != requiredAnswers || len(fields) > 0 {
		p := api.NewProblem(api.CodeSecurityQuestionsInvalid,
			"Choose four different security questions from the list and answer each with at least three characters.")
		p.Errors = fields
		return p
	}
	return nil
}

func (s *Server) handleComplete(w http.ResponseWriter, r *http.Request) error {
	var req api.ActivationCompleteRequest
	if err := s.decodeLimited(r, &req, "token"); err != nil {
		return err
	}
	ctx := r.Context()
	t, acct, err := s.checkActivationToken(ctx, req.Token)
	if err != nil {
		return err
	}
	if req.Password != req.PasswordConfirm {
		return api.NewProblem(api.CodePasswordMismatch, "The two passwords are not the same. Type the same password in both fields.")
	}
	if err := s.policy.Check(req.Password, acct.UserID, acct.FirstName, acct.LastName, acct.OrgName, emailLocal(acct.Email)); err != nil {
		return err
	}
	if s.cfg.SecurityQuestions {
		if err := checkAnswers(req.SecurityAnswers); err != nil {
			return err
		}
	}
	phc, err := s.hash(ctx, req.Password)
	if err != nil {
		return err
	}
	answers := map[string]string{}
	if s.cfg.SecurityQuestions {
		for _, a := range req.SecurityAnswers {
			if answers[a.QuestionID], err = s.hash(ctx, password.NormalizeAnswer(a.Answer)); err != nil {
				return err
			}
		}
	}
	now := s.now()
	err = s.st.Tx(ctx, func(q store.Q) error {
		if err := q.ConsumeActivationToken(ctx, t.Hash, now); err != nil {
			return err
		}
		if err := q.Activate(ctx, acct.ID, phc); err != nil {
			return err
		}
		for id, h := range answers {
			if err := q.SaveSecurityAnswer(ctx, acct.ID, id, h, now); err != nil {
				return err
			}
		}
		return s.audit(ctx, q, r, "account.activated", acct.UserID, acct.UserID, "")
	})
	if errors.Is(err, store.ErrNotFound) { // lost a race with another complete of the same token
		return api.NewProblem(api.CodeActivationTokenUsed, "This activation link was already used. Log in with your user ID and password.")
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.ActivationCompleteResponse{UserID: acct.UserID, Status: store.AccountActive, Next: "login"})
}

func emailLocal(e string) string {
	if at := strings.LastIndexByte(e, '@'); at > 0 {
		return e[:at]
	}
	return e
}

// issueActivation stores a fresh token for a pending account (superseding older ones) and
// emails both forms of the link.
func (s *Server) issueActivation(ctx context.Context, acct store.Account, actor string) (string, error) {
	token := randomToken()
	now := s.now()
	err := s.st.Tx(ctx, func(q store.Q) error {
		if err := q.IssueActivationToken(ctx, store.ActivationToken{Hash: tokenHash(token), AccountID: acct.ID,
			CreatedAt: now, ExpiresAt: now.Add(activationTTL)}); err != nil {
			return err
		}
		return s.audit(ctx, q, nil, "activation.issued", actor, acct.UserID, "")
	})
	if err != nil {
		return "", err
	}
	base, err := s.publicURL(ctx)
	if err != nil {
		return "", err
	}
	body := fmt.Sprintf(`Hello %s,

An account on MAG was created for you by %s.

Your user ID: %s

To activate your account, open this link with MAG Desktop:
%s

or paste this link into MAG Desktop ("First-time login"):
%s/activate#token=%s

The link works once, until %s (24 hours). If it does not work, use
"Link doesn't work?" in MAG Desktop or ask your organisation administrator.
`, acct.DisplayName(), acct.OrgName, acct.UserID, ActivationLink(token), base, token, now.Add(activationTTL).Format(time.RFC1123))
	return token, s.outbox.Send(ctx, mail.Message{To: acct.Email, Subject: "Action Required: Account Activation",
		Body: body, Template: "activation", Date: now})
}

// ActivationLink is the desktop deep link for an activation token.
func ActivationLink(token string) string { return "magdesk://activate?token=" + token }

// publicURL is the base URL of the serving magd (stored at its start, so that `magd admin`
// writes the same links).
func (s *Server) publicURL(ctx context.Context) (string, error) {
	if s.baseURL != "" {
		return s.baseURL, nil
	}
	u, err := s.st.Setting(ctx, "public_url")
	if u == "" && err == nil {
		u = "https://127.0.0.1:8443"
	}
	return u, err
}

// activateScript moves the token from the fragment (never sent to a server) into the deep link.
const activateScript = `var t=location.hash.replace(/^#token=/,"");if(/^[A-Za-z0-9_-]{43}$/.test(t)){document.getElementById("open").href="magdesk://activate?token="+t;}`

var (
	activatePage = template.Must(template.New("activate").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Activate your MAG account</title>
<style>` + pageStyle + `</style></head>
<body><h1>Activate your MAG account</h1>
<p>Account activation happens in <strong>MAG Desktop</strong>.</p>
<ol><li>Copy the full address of this page from the address bar (it ends with <code>#token=…</code>).</li>
<li>Open MAG Desktop, choose <strong>First-time login</strong>, and paste it.</li></ol>
<p>Or, if MAG Desktop is installed, <a id="open" href="magdesk://activate">open it directly</a>.</p>
<p>Do not share this link: it sets the password of your account. It works once, for 24 hours.</p>
<script>` + activateScript + `</script>
</body></html>`))
	activatePolicy = pageCSP(activateScript)
)

func (s *Server) handleActivatePage(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", activatePolicy)
	return activatePage.Execute(w, nil)
}
