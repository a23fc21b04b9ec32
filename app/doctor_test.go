package app

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"
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
