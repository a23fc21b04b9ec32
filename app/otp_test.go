package app

import (
	"strings"
	"testing"
	"time"
)

func TestOTPEnrolmentThenLoginWithCode(t *testing.T) {
	h := newHarness(t)
	id := h.user(false)
	h.login(id, testPassword)
	h.u.showTab(TabOTP)
	h.tap(h.u.otp.start)
	e := h.u.otp.enrollment
	if e.SecretBase32 == "" || h.u.otp.qr == nil || h.u.otp.qr.Resource == nil {
		t.Fatal("no QR code or secret shown")
	}
	if got := strings.ReplaceAll(h.u.otp.secret.Text, " ", ""); got != e.SecretBase32 {
		t.Fatalf("secret shown %q, enrolment %q", got, e.SecretBase32)
	}

	// A wrong first code is refused and can be retried.
	h.typeIn(h.u.otp.code, "000000")
	h.tap(h.u.otp.verify)
	if h.u.me.Account.TOTPEnabled || h.u.otp.err.Text == "" {
		t.Fatalf("wrong code accepted: %q", h.u.otp.err.Text)
	}
	h.typeIn(h.u.otp.code, h.code(e.SecretBase32))
	h.tap(h.u.otp.verify)
	if !h.u.me.Account.TOTPEnabled {
		t.Fatalf("code refused: %q", h.u.otp.err.Text)
	}
	h.mustContain(h.u.lastInfo, "registered")

	// Next login asks for a code after the password.
	h.u.Logout()
	h.u.Wait()
	h.clock.advance(31 * time.Second) // a code is accepted once: use the next time step
	h.login(id, testPassword)
	if h.u.LoggedIn() != nil || !h.u.login.otpBox.Visible() {
		t.Fatalf("no code step: %q", h.u.login.err.Text)
	}
	h.typeIn(h.u.login.otp, "123456")
	h.tap(h.u.login.verify)
	if h.u.LoggedIn() != nil || h.u.login.err.Text == "" {
		t.Fatal("a wrong code logged in")
	}
	h.typeIn(h.u.login.otp, h.code(e.SecretBase32))
	h.tap(h.u.login.verify)
	if h.u.LoggedIn() == nil {
		t.Fatalf("right code refused: %q", h.u.login.err.Text)
	}
	if h.u.me.Session.AAL < 2 {
		t.Fatalf("session strength %d after password + code", h.u.me.Session.AAL)
	}
	h.u.showTab(TabAccount)
	h.u.Wait()
	h.mustContain(labels(h.u.account.content), "strong (two factors)")
}
