package app

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/mag-desktop/magdesk/api"
)

// otpScreen registers an authenticator app: QR code and secret, then the first code.
type otpScreen struct {
	u          *UI
	content    *fyne.Container
	body       *fyne.Container
	err        *widget.Label
	start      *widget.Button
	enrollment api.TOTPEnrollment
	qr         *canvas.Image
	secret     *widget.Label
	code       *widget.Entry
	verify     *widget.Button
}

func newOTPScreen(u *UI) *otpScreen {
	s := &otpScreen{u: u, body: container.NewVBox(), err: errorLabel()}
	s.start = widget.NewButton("Register an authenticator app", s.begin)
	s.start.Importance = widget.HighImportance
	s.content = container.NewBorder(container.NewVBox(heading("One-time codes",
		"An authenticator app on your phone (for example Microsoft Authenticator, Google Authenticator or FreeOTP) "+
			"gives a new 6-digit code every 30 seconds. Some applications need it as a second step after your password."), s.err),
		nil, nil, nil, container.NewVScroll(s.body))
	s.reset()
	return s
}

func (s *otpScreen) reset() {
	s.body.RemoveAll()
	if s.u.me != nil && s.u.me.Account.TOTPEnabled {
		s.body.Add(widget.NewLabel("✓ An authenticator app is registered for your account. You will be asked for a code when you log in."))
	} else {
		s.body.Add(s.start)
	}
	s.content.Refresh()
}

func (s *otpScreen) begin() {
	u := s.u
	run(u, s.start, func(ctx context.Context) (api.TOTPEnrollment, error) { return u.be.StartTOTP(ctx) },
		func(e api.TOTPEnrollment, err error) {
			if err != nil {
				u.sessionError(err, s.err)
				return
			}
			setError(s.err, "")
			s.show(e)
		})
}

func (s *otpScreen) show(e api.TOTPEnrollment) {
	s.enrollment = e
	png, err := qrcode.Encode(e.OTPAuthURI, qrcode.Medium, 256)
	s.body.RemoveAll()
	if err == nil {
		s.qr = canvas.NewImageFromResource(fyne.NewStaticResource("otp-qr.png", png))
		s.qr.FillMode = canvas.ImageFillContain
		s.qr.SetMinSize(fyne.NewSize(220, 220))
		s.body.Add(widget.NewLabel("1. In your authenticator app, add an account and scan this code:"))
		s.body.Add(container.NewCenter(s.qr))
	}
	s.secret = widget.NewLabel(groupSecret(e.SecretBase32))
	s.secret.Selectable = true
	s.secret.TextStyle = fyne.TextStyle{Monospace: true}
	s.body.Add(widget.NewLabel("Can't scan? Type this key into the app instead (time-based, 6 digits):"))
	s.body.Add(s.secret)
	s.code = widget.NewEntry()
	s.code.SetPlaceHolder("123456")
	s.code.OnSubmitted = func(string) { s.doVerify() }
	s.verify = widget.NewButton("Verify", s.doVerify)
	s.verify.Importance = widget.HighImportance
	s.body.Add(widget.NewLabel("2. Type the 6-digit code the app now shows:"))
	s.body.Add(container.NewBorder(nil, nil, nil, s.verify, s.code))
	s.content.Refresh()
	s.u.focus(s.code)
}

// groupSecret spaces the key in fours so it is easier to type.
func groupSecret(k string) string {
	var b strings.Builder
	for i, r := range k {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *otpScreen) doVerify() {
	u := s.u
	code := strings.ReplaceAll(strings.TrimSpace(s.code.Text), " ", "")
	if code == "" {
		setError(s.err, "Type the 6-digit code from your authenticator app.")
		return
	}
	id := s.enrollment.EnrollmentID
	runErr(u, s.verify, func(ctx context.Context) error { _, err := u.be.VerifyTOTP(ctx, id, code); return err }, func(err error) {
		if err != nil {
			s.code.SetText("")
			u.sessionError(err, s.err)
			return
		}
		setError(s.err, "")
		u.me.Account.TOTPEnabled = true
		s.reset()
		u.homeChanged()
		u.info("Authenticator registered", "Your authenticator app is registered. From now on, MAG asks for a code from it when you log in.")
	})
}
