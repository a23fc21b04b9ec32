package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/service"
)

// runActivate is first-time login: activate LINK|TOKEN [--password-stdin] [--answers FILE].
func runActivate(e *Env, args []string) int {
	fs := e.Flags("activate")
	fs.BoolVar(&e.PasswordStdin, "password-stdin", false, "read the new password from standard input")
	answersFile := fs.String("answers", "", `JSON file of security answers: [{"question_id": "...", "answer": "..."}]`)
	pos, err := parseArgs(fs, args)
	if err == nil {
		err = wantArgs(pos, 1, "the activation link or token from the email")
	}
	if err != nil {
		return e.Fail(err)
	}
	svc := e.service()
	token, err := svc.ParseActivationLink(pos[0])
	if err != nil {
		return e.Fail(err)
	}
	ctx := e.Context()
	info, err := svc.InspectActivation(ctx, token)
	if err != nil {
		return e.Fail(err)
	}
	if !e.JSON {
		fmt.Fprintf(e.IO.Err, "Activating user ID %s (%s, %s).\n", info.UserID, info.DisplayName, info.OrgName)
		fmt.Fprintln(e.IO.Err, passwordRules(info.PasswordPolicy))
	}
	var answers []api.SecurityAnswer
	if info.SecurityQuestionsRequired > 0 {
		if *answersFile != "" {
			if answers, err = readAnswers(*answersFile); err != nil {
				return e.Fail(err)
			}
		} else if answers, err = e.askQuestions(svc, info.SecurityQuestionsRequired); err != nil {
			return e.Fail(err)
		}
	}
	pw, err := e.NewSecret("New password: ", "Repeat the new password: ")
	if err != nil {
		return e.Fail(err)
	}
	res, err := svc.CompleteActivation(ctx, api.ActivationCompleteRequest{Token: token, Password: pw,
		PasswordConfirm: pw, SecurityAnswers: answers})
	if err != nil {
		return e.Fail(err)
	}
	return e.Output(res, func(w io.Writer) {
		fmt.Fprintf(w, "Your account %s is active.\nNext: magdesk login --user %s\n", res.UserID, res.UserID)
	})
}

func passwordRules(p api.PasswordPolicy) string {
	s := fmt.Sprintf("Choose a password of at least %d characters", p.MinLength)
	if p.MaxLength > 0 {
		s += fmt.Sprintf(" (at most %d)", p.MaxLength)
	}
	s += "; a passphrase of several unrelated words is easy to remember. No special characters are required"
	if p.Blocklist {
		s += ", but common passwords are refused"
	}
	return s + "."
}

// readAnswers reads the --answers file.
func readAnswers(path string) ([]api.SecurityAnswer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErrorf("cannot read the answers file: %v", err)
	}
	var answers []api.SecurityAnswer
	if err := json.Unmarshal(data, &answers); err != nil {
		return nil, usageErrorf(`the answers file %s is not valid JSON of the form [{"question_id": "...", "answer": "..."}]: %v`, path, err)
	}
	// Empty answers pass: the server judges them (an account without answers on file recovers
	// with the emailed code and empty answers).
	for i, a := range answers {
		if strings.TrimSpace(a.QuestionID) == "" {
			return nil, usageErrorf("the answers file %s: entry %d has no question_id", path, i+1)
		}
	}
	if answers == nil {
		answers = []api.SecurityAnswer{}
	}
	return answers, nil
}

// askQuestions lets the user pick n distinct questions from the catalogue and answer them.
func (e *Env) askQuestions(svc *service.Service, n int) ([]api.SecurityAnswer, error) {
	if !e.Terminal {
		return nil, usageErrorf("%d security answers are needed: pass --answers FILE", n)
	}
	qs, err := svc.SecurityQuestions(e.Context())
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(e.IO.Err, "Choose %d different security questions (they only help you recover a forgotten password):\n", n)
	for i, q := range qs {
		fmt.Fprintf(e.IO.Err, "  %2d. %s\n", i+1, q.Text)
	}
	var answers []api.SecurityAnswer
	for len(answers) < n {
		pick, err := e.Ask(fmt.Sprintf("Question %d of %d (number): ", len(answers)+1, n))
		if err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(pick)
		if err != nil || i < 1 || i > len(qs) {
			fmt.Fprintf(e.IO.Err, "Type a number from 1 to %d.\n", len(qs))
			continue
		}
		q := qs[i-1]
		if slices.ContainsFunc(answers, func(a api.SecurityAnswer) bool { return a.QuestionID == q.ID }) {
			fmt.Fprintln(e.IO.Err, "You already chose that question; pick another.")
			continue
		}
		ans, err := e.Ask(q.Text + " ")
		if err != nil {
			return nil, err
		}
		if ans == "" {
			fmt.Fprintln(e.IO.Err, "The answer must not be empty.")
			continue
		}
		answers = append(answers, api.SecurityAnswer{QuestionID: q.ID, Answer: ans})
	}
	return answers, nil
}

// runLogin is login --user ID [--password-stdin] [--otp CODE] [--cert auto|none|SHA256].
func runLogin(e *Env, args []string) int {
	fs := e.Flags("login")
	user := fs.String("user", "", "user ID (from the activation email)")
	otp := fs.String("otp", "", "one-time code from the authenticator app")
	certMode := fs.String("cert", "", "client certificate: auto (the one bound to this user), none, or its SHA-256")
	fs.BoolVar(&e.PasswordStdin, "password-stdin", false, "read the password from standard input")
	pos, err := parseArgs(fs, args)
	if err == nil {
		err = wantArgs(pos, 0, "no arguments besides the flags")
	}
	svc := e.service()
	if err == nil && strings.TrimSpace(*user) == "" {
		// Logging in again as the current (or remembered) user needs no --user.
		if *user = svc.CurrentAccount(); *user == "" {
			*user = e.Settings.LastUserID
		}
		if *user == "" {
			err = usageErrorf("login needs --user ID (your user ID is in the activation email; forgot it? magdesk recover user-id --email E)")
		}
	}
	var req service.LoginRequest
	if err == nil {
		req, err = loginRequest(*user, *otp, *certMode)
	}
	if err == nil {
		err = e.needServer()
	}
	if err != nil {
		return e.Fail(err)
	}
	if req.Password, err = e.Secret(fmt.Sprintf("Password for %s: ", *user)); err != nil {
		return e.Fail(err)
	}
	ctx := e.Context()
	me, err := svc.Login(ctx, req)
	if ticket, ok := client.IsMFARequired(err); ok && *otp == "" {
		if w := svc.ClockWarning(ctx); w != "" {
			e.warn([]string{w})
		}
		code, aerr := e.Ask("One-time code from your authenticator app: ")
		if aerr != nil {
			return e.Fail(usageErrorf("a one-time code is needed for %s: pass --otp CODE", *user))
		}
		me, err = svc.LoginMFA(ctx, ticket, code)
	}
	if err != nil {
		return e.Fail(err)
	}
	if *certMode == "auto" && me.Session.CertSHA256 == "" {
		fmt.Fprintf(e.IO.Err, "magdesk: no certificate of %s on this computer; logged in without one\n", me.Account.UserID)
	}
	if err := e.rememberServer(); err != nil {
		return e.Fail(err)
	}
	return e.Output(me.Account, func(w io.Writer) {
		fmt.Fprintf(w, "Logged in as %s (%s, %s); session valid until %s.\n", me.Account.UserID,
			me.Account.DisplayName, me.Account.Org.Name, me.Session.ExpiresAt.Local().Format(time.DateTime))
		if slices.Contains(me.RequiredActions, "register_credentials") {
			fmt.Fprintln(w, "Next: register an authenticator app with 'magdesk otp enroll' so that logins need a one-time code.")
		}
	})
}

// runLogout logs the current account out: here at once, on the server when it can be told.
func runLogout(e *Env, args []string) int {
	if _, err := parseArgs(e.Flags("logout"), args); err != nil {
		return e.Fail(err)
	}
	svc, sessErr := e.sessionService()
	rep, err := svc.Logout(e.Context())
	if err != nil {
		return e.Fail(err)
	}
	if rep.UserID == "" && sessErr != nil && service.CodeOf(sessErr) != service.CodeNotLoggedIn {
		// The current account's session is unusable (expired, gone): it is no longer current.
		fmt.Fprintln(e.IO.Err, "magdesk:", service.Message(sessErr))
	}
	return e.Output(rep, func(w io.Writer) {
		switch {
		case rep.UserID != "":
			fmt.Fprintf(w, "Logged out %s.\n", rep.UserID)
		case rep.EndedEarlier == 0:
			fmt.Fprintln(e.IO.Err, "Not logged in; nothing to do.")
		}
		if rep.EndedEarlier > 0 {
			fmt.Fprintf(w, "%d session(s) logged out earlier are now ended on the server too.\n", rep.EndedEarlier)
		}
	})
}

// runMe shows the account behind the current session.
func runMe(e *Env, args []string) int {
	_, svc, _, err := e.withService(e.Flags("me"), args, 0, "no arguments")
	if err != nil {
		return e.Fail(err)
	}
	me, err := svc.Me(e.Context())
	if err != nil {
		return e.failSession(err)
	}
	return e.Output(me, func(w io.Writer) {
		a := me.Account
		fmt.Fprintf(w, "User ID:       %s\nName:          %s\nEmail:         %s\nOrganisation:  %s (%s)\nRoles:         %s\n",
			a.UserID, a.DisplayName, a.Email, a.Org.Name, a.Org.ID, strings.Join(a.Roles, ", "))
		otp := "not registered (magdesk otp enroll)"
		if a.TOTPEnabled {
			otp = "registered"
		}
		fmt.Fprintf(w, "Authenticator: %s\nSession:       AAL%d via %s, until %s\n", otp, me.Session.AAL,
			strings.Join(me.Session.AMR, "+"), me.Session.ExpiresAt.Local().Format(time.DateTime))
		if me.Session.CertSHA256 != "" {
			fmt.Fprintf(w, "Certificate:   %s\n", me.Session.CertSHA256)
		}
	})
}
