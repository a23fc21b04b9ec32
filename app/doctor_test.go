package app

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"
	"github.com/pquerna/otp/totp"
)

func linesText(h *harness) string {
	var b strings.Builder
	for _, o := range h.u.doctor.lines.Objects {
		if l, ok := o.(*widget.Label); ok {
			b.WriteString(l.Text + "\n")
		}
	}
	return b.String()
}

// TestLoginWarnsAboutTheClock: with the gateway's clock 3 minutes ahead, the login screen says
// so before any code is typed, and Help > Check my connection says it too.
func TestLoginWarnsAboutTheClock(t *testing.T) {
	h := newHarness(t)
	h.u.ShowLogin("")
	h.u.Wait()
	if h.u.login.clock.Visible() {
		t.Fatalf("clocks agree, yet the login screen warns: %q", h.u.login.clock.Text)
	}
	h.clock.Advance(3 * time.Minute)
	h.u.ShowLogin("")
	h.u.Wait()
	if !h.u.login.clock.Visible() {
		t.Fatal("no clock warning on the login screen")
	}
	h.mustContain(h.u.login.clock.Text, "3 minutes")
	h.mustContain(h.u.login.clock.Text, "one-time codes")

	h.u.ShowDoctor()
	h.tap(h.u.doctor.check)
	got := linesText(h)
	for _, want := range []string{"OK — Connections to", "directly", "OK — The gateway answers", "Attention — The clocks of this computer"} {
		h.mustContain(got, want)
	}
}

func TestDoctorExplainsAnApplication(t *testing.T) {
	h := newHarness(t)
	id := h.user(false)
	h.login(id, testPassword)
	if h.u.LoggedIn() == nil {
		t.Fatal("not logged in")
	}
	h.u.ShowDoctor()
	h.typeIn(h.u.doctor.app, "nosuch")
	h.tap(h.u.doctor.check)
	h.mustContain(linesText(h), `Your organisation has no application "nosuch"`)
}

// TestOTPRefusedBecauseOfTheClock: the gateway's clock runs 3 minutes ahead of real time, which
// the authenticator follows; the code step warns first, and the refusal names the clocks.
func TestOTPRefusedBecauseOfTheClock(t *testing.T) {
	h := newHarness(t)
	id := h.user(false)
	h.login(id, testPassword)
	h.u.showTab(TabOTP)
	h.tap(h.u.otp.start)
	secret := h.u.otp.enrollment.SecretBase32
	h.typeIn(h.u.otp.code, h.code(secret))
	h.tap(h.u.otp.verify)
	if !h.u.me.Account.TOTPEnabled {
		t.Fatalf("enrolment: %q", h.u.otp.err.Text)
	}
	h.u.Logout()
	h.u.Wait()
	h.clock.Advance(3 * time.Minute)
	h.login(id, testPassword)
	if !h.u.login.otpBox.Visible() || !h.u.login.clock.Visible() {
		t.Fatalf("code step %v, clock warning %v (%q)", h.u.login.otpBox.Visible(), h.u.login.clock.Visible(), h.u.login.err.Text)
	}
	code, _ := totp.GenerateCode(secret, time.Now())
	h.typeIn(h.u.login.otp, code)
	h.tap(h.u.login.verify)
	if h.u.LoggedIn() != nil {
		t.Fatal("a code three minutes off was accepted")
	}
	h.mustContain(h.u.login.err.Text, "clocks")
	h.mustContain(h.u.login.err.Text, "3 minutes")
	if strings.Contains(h.u.login.err.Text, "code is wrong") {
		t.Fatalf("told the code is wrong: %q", h.u.login.err.Text)
	}
}
