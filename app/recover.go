package app

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/setup"
)

// recoverScreen holds the widgets of the short recovery wizards, which all end on
// Login (or the setup wizard) with the user ID filled in.
type recoverScreen struct {
	u              *UI
	userID, email  *widget.Entry
	code           *widget.Entry
	answers        []*widget.Entry
	password, conf *widget.Entry
	feedback       *widget.Label
	meter          *strengthMeter
	send, finish   *widget.Button
	err            *widget.Label
	recovery       api.PasswordRecovery
}

func (u *UI) newRecover() *recoverScreen {
	r := &recoverScreen{u: u, userID: widget.NewEntry(), email: widget.NewEntry(), err: errorLabel()}
	r.email.SetPlaceHolder("the address your organisation registered")
	u.recover = r
	return r
}

// failed explains a recovery error; a gateway without self-service recovery says whom to ask.
func (r *recoverScreen) failed(err error) {
	e := r.u.explain(err)
	if e.Code == api.CodeNotFound || e.Code == api.CodeMethodNotAllowed {
		setError(r.err, "This gateway does not offer self-service recovery. Contact your organisation administrator or help desk: they can send you a new activation email or reset your account.")
		return
	}
	setError(r.err, e.Message)
}

func (r *recoverScreen) back() *widget.Button {
	return widget.NewButton("Back to login", func() { r.u.ShowLogin(strings.TrimSpace(r.userID.Text)) })
}

// ShowRecoverActivation asks for a fresh activation email ("Establish Your Account").
func (u *UI) ShowRecoverActivation() {
	if u.me != nil {
		u.info("Already set up", "You are logged in, so your account is active.")
		return
	}
	r := u.newRecover()
	r.send = widget.NewButton("Send a new activation email", func() {
		id, mail := strings.TrimSpace(r.userID.Text), strings.TrimSpace(r.email.Text)
		if id == "" || mail == "" {
			setError(r.err, "Enter your user ID and your email address.")
			return
		}
		runErr(u, r.send, func(ctx context.Context) error {
			_, err := u.be.RecoverActivation(ctx, id, mail)
			return err
		}, func(err error) {
			if err != nil {
				r.failed(err)
				return
			}
			u.ShowSetup("")
			u.info("Check your email", "If the user ID and email address match an account that is not set up yet, a new activation email is on its way. "+
				"Only the newest link works. Paste it here.")
		})
	})
	r.send.Importance = widget.HighImportance
	r.email.OnSubmitted = func(string) { r.send.OnTapped() }
	u.show("Recover: activation", container.NewVBox(
		heading("Activation link doesn't work?", "Links work once and for 24 hours. Get a fresh email with a new link."),
		widget.NewForm(widget.NewFormItem("User ID", r.userID), widget.NewFormItem("Email", r.email)),
		r.err, container.NewHBox(r.send, r.back())), r.userID)
}

// ShowRecoverUserID emails the user ids registered to an address, then asks for the one
// to use and goes to Login with it.
func (u *UI) ShowRecoverUserID() {
	r := u.newRecover()
	r.send = widget.NewButton("Email me my user IDs", nil)
	r.send.Importance = widget.HighImportance
	useID := widget.NewButton("Log in with this user ID", func() { u.ShowLogin(strings.TrimSpace(r.userID.Text)) })
	second := container.NewVBox(widget.NewLabel("Type the user ID from the email:"), r.userID, useID)
	second.Hide()
	r.send.OnTapped = func() {
		mail := strings.TrimSpace(r.email.Text)
		if mail == "" {
			setError(r.err, "Enter your email address.")
			return
		}
		runErr(u, r.send, func(ctx context.Context) error {
			_, err := u.be.RecoverUserIDs(ctx, mail)
			return err
		}, func(err error) {
			if err != nil {
				r.failed(err)
				return
			}
			setError(r.err, "")
			second.Show()
			u.focus(r.userID)
		})
	}
	r.email.OnSubmitted = func(string) { r.send.OnTapped() }
	r.userID.OnSubmitted = func(string) { useID.OnTapped() }
	u.show("Recover: user ID", container.NewVBox(
		heading("Forgot your user ID?", "Every user ID registered to your email address is sent to it."),
		widget.NewForm(widget.NewFormItem("Email", r.email)), r.err, container.NewHBox(r.send, r.back()), second), r.email)
}

// ShowRecoverPassword resets a forgotten password: the emailed code, two security answers,
// and a new password.
func (u *UI) ShowRecoverPassword(userID string) {
	r := u.newRecover()
	r.userID.SetText(userID)
	r.send = widget.NewButton("Send me a code", nil)
	r.send.Importance = widget.HighImportance
	second := container.NewVBox()
	r.send.OnTapped = func() {
		id := strings.TrimSpace(r.userID.Text)
		if id == "" {
			setError(r.err, "Enter your user ID.")
			return
		}
		run(u, r.send, func(ctx context.Context) (api.PasswordRecovery, error) { return u.be.StartPasswordRecovery(ctx, id) },
			func(pr api.PasswordRecovery, err error) {
				if err != nil {
					r.failed(err)
					return
				}
				setError(r.err, "")
				r.recovery = pr
				r.fillSecond(second)
			})
	}
	r.userID.OnSubmitted = func(string) { r.send.OnTapped() }
	u.show("Recover: password", container.NewVBox(
		heading("Forgot your password?", "A one-time code is sent to your email. With it and two of your security answers you choose a new password."),
		widget.NewForm(widget.NewFormItem("User ID", r.userID)), container.NewHBox(r.send, r.back()), second, r.err), r.userID)
}

func (r *recoverScreen) fillSecond(box *fyne.Container) {
	u := r.u
	r.code, r.password, r.conf = widget.NewEntry(), widget.NewPasswordEntry(), widget.NewPasswordEntry()
	r.code.SetPlaceHolder("code from the email")
	r.feedback = wrapped("")
	r.meter = newStrengthMeter()
	form := widget.NewForm(widget.NewFormItem("Code from the email", r.code))
	r.answers = nil
	for _, q := range r.recovery.Questions {
		a := widget.NewEntry()
		r.answers = append(r.answers, a)
		form.Append(q.Text, a)
	}
	form.Append("New password", r.password)
	form.Append("Type it again", r.conf)
	check := func(string) {
		fb := setup.CheckPassword(r.password.Text, r.conf.Text, api.PasswordPolicy{MinLength: 15}, r.userID.Text)
		r.meter.set(fb.Strength, r.password.Text == "")
		r.feedback.SetText(strings.Join(fb.Problems, "\n"))
	}
	r.password.OnChanged, r.conf.OnChanged = check, check
	r.finish = widget.NewButton("Set new password", r.complete)
	r.finish.Importance = widget.HighImportance
	r.conf.OnSubmitted = func(string) { r.complete() }
	// Enter in each earlier field moves on to the next one.
	chain := append(append([]*widget.Entry{r.code}, r.answers...), r.password, r.conf)
	for i, e := range chain[:len(chain)-1] {
		next := chain[i+1]
		e.OnSubmitted = func(string) { u.focus(next) }
	}
	box.RemoveAll()
	box.Add(widget.NewLabel(fmt.Sprintf("If %s exists, a code was sent to its email address.", strings.TrimSpace(r.userID.Text))))
	box.Add(form)
	box.Add(r.meter.box)
	box.Add(r.feedback)
	box.Add(r.finish)
	u.focus(r.code)
}

func (r *recoverScreen) complete() {
	u := r.u
	req := api.PasswordRecoveryCompleteRequest{RecoveryID: r.recovery.RecoveryID, Code: strings.TrimSpace(r.code.Text),
		Password: r.password.Text, PasswordConfirm: r.conf.Text}
	for i, q := range r.recovery.Questions {
		req.SecurityAnswers = append(req.SecurityAnswers, api.SecurityAnswer{QuestionID: q.ID, Answer: r.answers[i].Text})
	}
	runErr(u, r.finish, func(ctx context.Context) error {
		_, err := u.be.CompletePasswordRecovery(ctx, strings.TrimSpace(r.userID.Text), req)
		return err
	}, func(err error) {
		if err != nil {
			r.failed(err)
			return
		}
		u.ShowLogin(strings.TrimSpace(r.userID.Text))
		u.info("Password changed", "Your new password is set and every old session has ended. Log in with it now.")
	})
}
