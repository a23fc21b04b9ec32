package app

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/service"
)

// loginScreen is user id + password, then a one-time code when the server asks for one.
type loginScreen struct {
	u        *UI
	userID   *widget.Entry
	password *widget.Entry
	submit   *widget.Button
	err      *widget.Label
	// The second step.
	otpBox    *fyne.Container
	otp       *widget.Entry
	verify    *widget.Button
	ticket    string
	noCert    bool
	firstTime bool
	// clock warns that one-time codes will fail because the clocks differ.
	clock *widget.Label
	// The lockout countdown.
	info      *widget.Label
	lockUntil time.Time
	lockMsg   func(left time.Duration) string
	lockGen   int
}

// ShowLogin shows Login, with userID filled in when given (else the remembered one).
func (u *UI) ShowLogin(userID string) { u.showLogin(userID, false) }

// showLogin with firstTime logs in without a certificate and says so (right after setup).
func (u *UI) showLogin(userID string, firstTime bool) {
	s := &loginScreen{u: u, userID: widget.NewEntry(), password: widget.NewPasswordEntry(), err: errorLabel(),
		otp: widget.NewEntry(), noCert: firstTime, firstTime: firstTime, info: wrapped(""), clock: wrapped("")}
	s.clock.Importance = widget.WarningImportance
	s.clock.Hide()
	s.info.Importance = widget.SuccessImportance
	s.info.Hide()
	if userID == "" {
		userID = u.be.RememberedUserID()
	}
	s.userID.SetText(userID)
	s.userID.SetPlaceHolder("your user ID, e.g. jdoe1")
	s.userID.OnSubmitted = func(string) { u.focus(s.password) }
	s.password.OnSubmitted = func(string) { s.doLogin() }
	s.submit = widget.NewButton("Log in", s.doLogin)
	s.submit.Importance = widget.HighImportance
	s.otp.SetPlaceHolder("6-digit code from your authenticator app")
	s.otp.OnSubmitted = func(string) { s.doVerify() }
	s.verify = widget.NewButton("Verify code", s.doVerify)
	s.verify.Importance = widget.HighImportance
	s.otpBox = container.NewVBox(
		widget.NewLabel("Enter the code your authenticator app shows for MAG Desktop."),
		s.otp, s.verify,
		widget.NewButton("Cancel", func() { s.otpBox.Hide(); s.ticket = ""; u.focus(s.password) }),
	)
	s.otpBox.Hide()

	form := widget.NewForm(widget.NewFormItem("User ID", s.userID), widget.NewFormItem("Password", s.password))
	explain := "Log in with the user ID from your activation email and the password you chose."
	if firstTime {
		explain = "Your account is ready. Log in with your new password. No certificate is used for this first login, so if your browser or the system asks you to choose a certificate, press Cancel."
	}
	links := container.NewHBox(
		widget.NewButton("First-time setup", func() { u.ShowSetup("") }),
		widget.NewButton("Forgot user ID?", u.ShowRecoverUserID),
		widget.NewButton("Forgot password?", func() { u.ShowRecoverPassword(strings.TrimSpace(s.userID.Text)) }),
		widget.NewButton("Change server", u.ShowConnect),
	)
	u.login = s
	focus := s.userID
	if userID != "" {
		focus = s.password
	}
	body := container.NewVBox(heading("Log in to MAG", explain), s.clock, form, s.err, s.info, s.submit, s.otpBox, widget.NewSeparator(), links)
	if u.demo != nil {
		creds := widget.NewLabel(strings.Join(u.demo.Lines, "\n"))
		creds.Selectable = true
		creds.Wrapping = fyne.TextWrapBreak
		body.Add(widget.NewCard("Demo mode", "Throwaway accounts on the built-in demo gateway",
			container.NewVBox(creds, widget.NewButton("Set up the pending account with its activation link", func() { u.ShowSetup(u.demo.ActivationLink) }))))
	}
	u.show("Login", body, focus)
	s.checkClock()
}

// checkClock warns before any code is typed when the clocks differ so much that every code fails.
func (s *loginScreen) checkClock() {
	run(s.u, nil, func(ctx context.Context) (string, error) { return s.u.be.ClockWarning(ctx), nil }, func(w string, _ error) {
		s.clock.SetText(w)
		s.clock.Hidden = w == ""
		s.clock.Refresh()
	})
}

func (s *loginScreen) doLogin() {
	u := s.u
	req := service.LoginRequest{UserID: strings.TrimSpace(s.userID.Text), Password: s.password.Text, NoCertificate: s.noCert}
	if req.UserID == "" || req.Password == "" {
		setError(s.err, "Enter your user ID and your password.")
		return
	}
	setError(s.err, "")
	run(u, s.submit, func(ctx context.Context) (api.Me, error) { return u.be.Login(ctx, req) }, s.handle)
}

func (s *loginScreen) doVerify() {
	u := s.u
	code := strings.TrimSpace(s.otp.Text)
	if code == "" {
		setError(s.err, "Enter the 6-digit code from your authenticator app.")
		return
	}
	ticket := s.ticket
	run(u, s.verify, func(ctx context.Context) (api.Me, error) { return u.be.LoginMFA(ctx, ticket, code) }, s.handle)
}

// handle reacts to a login answer: the session, a code to ask for, or an error with its fix.
func (s *loginScreen) handle(me api.Me, err error) {
	u := s.u
	s.stopLockout()
	if err == nil {
		s.password.SetText("")
		u.enter(me)
		return
	}
	e := u.explain(err)
	switch e.Kind {
	case service.KindMFARequired:
		s.ticket = e.MFATicket
		setError(s.err, "")
		s.otp.SetText("")
		s.otpBox.Show()
		u.focus(s.otp)
		s.checkClock()
	case service.KindOTPInvalid:
		s.otp.SetText("")
		setError(s.err, e.Message)
	case service.KindLocked:
		if e.RetryAfter <= 0 {
			setError(s.err, e.Message)
			break
		}
		until := u.now().Add(e.RetryAfter.Round(time.Second))
		s.startLockout(func(left time.Duration) string { return service.LockoutMessage(left, until) }, until)
	case service.KindWrongCertificate:
		setError(s.err, e.Message)
		u.startFix2035(e.CertSHA256, func(noCert bool) { s.noCert = noCert; s.doLogin() })
	case service.KindAccountMismatch:
		setError(s.err, e.Message)
		u.ConfirmClearSessions()
	case service.KindUnauthenticated:
		// An expired MFA ticket: start again from the password.
		s.otpBox.Hide()
		s.ticket = ""
		setError(s.err, e.Message)
	default:
		setError(s.err, e.Message)
	}
}
