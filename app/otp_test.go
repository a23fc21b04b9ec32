package app

import (
	"slices"
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
	h.clock.Advance(31 * time.Second) // a code is accepted once: use the next time step
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

func TestCredentialsLinkAndNextStepOnHome(t *testing.T) {
	h := newHarness(t)
	id := h.user(false)
	// Started from the Login Success email's link: after login the app opens Security codes.
	h.u.Start([]string{"magdesk://my-account/credentials"})
	h.u.Wait()
	h.login(id, testPassword)
	if h.u.Screen() != TabOTP {
		t.Fatalf("after login with the credentials link: %q", h.u.Screen())
	}
	// Home offers the next step while the account has only a password.
	if !slices.Contains(h.u.me.RequiredActions, actionRegisterCredentials) {
		t.Fatalf("the server asks for no credential registration: %v", h.u.me.RequiredActions)
	}
	if h.u.home.registerOTP == nil {
		t.Fatal("Home does not offer to register a credential")
	}
	h.tap(h.u.home.registerOTP)
	if h.u.Screen() != TabOTP {
		t.Fatalf("the next-step button went to %q", h.u.Screen())
	}
}
