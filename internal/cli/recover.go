package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mag-desktop/magdesk/api"
)

// runRecover is account self-service: recover activation|user-id|password.
func runRecover(e *Env, args []string) int {
	return subcommand(e, "recover", args, map[string]func(*Env, []string) int{
		"activation": recoverActivation, "user-id": recoverUserID, "password": recoverPassword,
	}, "")
}

func recoverActivation(e *Env, args []string) int {
	fs := e.Flags("recover activation")
	user := fs.String("user", "", "user ID from the activation email")
	email := fs.String("email", "", "email address of the account")
	pos, err := parseArgs(fs, args)
	if err == nil {
		err = wantArgs(pos, 0, "no arguments besides --user and --email")
	}
	if err == nil && (strings.TrimSpace(*user) == "" || strings.TrimSpace(*email) == "") {
		err = usageErrorf("recover activation needs --user ID and --email E")
	}
	if err != nil {
		return e.Fail(err)
	}
	res, err := e.service().RecoverActivation(e.Context(), *user, *email)
	if err != nil {
		return e.Fail(err)
	}
	return e.Output(res, func(w io.Writer) {
		fmt.Fprintln(w, orDefault(res.Message, "If the user ID and email belong to an account that is not activated yet, a new activation email is on its way."))
		fmt.Fprintln(w, "Use the link in the newest email: it replaces the older ones. Then: magdesk activate LINK")
	})
}

func recoverUserID(e *Env, args []string) int {
	fs := e.Flags("recover user-id")
	email := fs.String("email", "", "email address of your account(s)")
	pos, err := parseArgs(fs, args)
	if err == nil {
		err = wantArgs(pos, 0, "no arguments besides --email")
	}
	if err == nil && strings.TrimSpace(*email) == "" {
		err = usageErrorf("recover user-id needs --email E")
	}
	if err != nil {
		return e.Fail(err)
	}
	res, err := e.service().RecoverUserIDs(e.Context(), *email)
	if err != nil {
		return e.Fail(err)
	}
	return e.Output(res, func(w io.Writer) {
		fmt.Fprintln(w, orDefault(res.Message, "If accounts are registered to this address, an email listing their user IDs is on its way."))
	})
}

// recoverPassword: with --password-stdin the emailed code, then the new password, one per line.
func recoverPassword(e *Env, args []string) int {
	fs := e.Flags("recover password")
	user := fs.String("user", "", "your user ID")
	fs.BoolVar(&e.PasswordStdin, "password-stdin", false, "read the emailed code, then the new password, from standard input")
	answersFile := fs.String("answers", "", `JSON file of security answers: [{"question_id": "...", "answer": "..."}]`)
	pos, err := parseArgs(fs, args)
	if err == nil {
		err = wantArgs(pos, 0, "no arguments besides the flags")
	}
	if err == nil && strings.TrimSpace(*user) == "" {
		err = usageErrorf("recover password needs --user ID (forgot it? magdesk recover user-id --email E)")
	}
	if err != nil {
		return e.Fail(err)
	}
	var fileAnswers []api.SecurityAnswer
	if *answersFile != "" {
		if fileAnswers, err = readAnswers(*answersFile); err != nil {
			return e.Fail(err)
		}
	}
	ctx := e.Context()
	svc := e.service()
	rec, err := svc.StartPasswordRecovery(ctx, *user)
	if err != nil {
		return e.Fail(err)
	}
	if !e.JSON {
		fmt.Fprintln(e.IO.Err, "If this user ID exists, a one-time code was emailed to its address.")
	}
	code, err := e.Secret("Code from the email: ")
	if err != nil {
		return e.Fail(err)
	}
	answers, err := e.recoveryAnswers(rec.Questions, fileAnswers)
	if err != nil {
		return e.Fail(err)
	}
	pw, err := e.NewSecret("New password: ", "Repeat the new password: ")
	if err != nil {
		return e.Fail(err)
	}
	res, err := svc.CompletePasswordRecovery(ctx, *user, api.PasswordRecoveryCompleteRequest{RecoveryID: rec.RecoveryID,
		Code: strings.TrimSpace(code), SecurityAnswers: answers, Password: pw, PasswordConfirm: pw})
	if err != nil {
		return e.Fail(err)
	}
	return e.Output(res, func(w io.Writer) {
		fmt.Fprintln(w, orDefault(res.Message, "Your password was changed and every session of the account was ended."))
		fmt.Fprintf(w, "Next: magdesk login --user %s\n", *user)
	})
}

// recoveryAnswers answers the questions the server chose: from the file when given (it may
// hold all four answers), else asked on the terminal. A question the file does not answer is
// sent empty: that is right for an account without answers on file (its email says so), and
// the server refuses it otherwise.
func (e *Env) recoveryAnswers(qs []api.SecurityQuestion, file []api.SecurityAnswer) ([]api.SecurityAnswer, error) {
	out := make([]api.SecurityAnswer, 0, len(qs))
	for _, q := range qs {
		if file != nil {
			i := slices.IndexFunc(file, func(a api.SecurityAnswer) bool { return a.QuestionID == q.ID })
			if i < 0 {
				fmt.Fprintf(e.IO.Err, "magdesk: the answers file does not answer %q; leaving it empty.\n", q.Text)
				out = append(out, api.SecurityAnswer{QuestionID: q.ID})
				continue
			}
			out = append(out, file[i])
			continue
		}
		if !e.Terminal {
			return nil, usageErrorf("answers to %d security questions are needed: pass --answers FILE "+
				"(if the email says your account has no security answers, a file holding [] will do)", len(qs))
		}
		ans, err := e.Ask(q.Text + " ")
		if err != nil {
			return nil, err
		}
		out = append(out, api.SecurityAnswer{QuestionID: q.ID, Answer: ans})
	}
	return out, nil
}

func orDefault(s, d string) string {
	if strings.TrimSpace(s) == "" {
		return d
	}
	return s
}
