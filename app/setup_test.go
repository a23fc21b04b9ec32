package app

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/internal/server/servertest"
	"github.com/mag-desktop/magdesk/internal/setup"
)

// pendingUser creates an account waiting for activation and returns its id and email link.
func (h *harness) pendingUser() (id, link string) {
	org := h.env.CreateOrg(h.t, "Acme Aero")
	id = h.env.CreateUser(h.t, org, "sam@example.com", "Sam", "Ortiz", false)
	return id, "magdesk://activate?token=" + h.env.ActivationToken(h.t, id)
}

func (h *harness) choosePassword(pw string) {
	h.t.Helper()
	s := h.u.wizard
	h.typeIn(s.password, pw)
	h.typeIn(s.confirm, pw)
	if s.pwNext.Disabled() {
		h.t.Fatalf("Next disabled for a good password: %q", s.feedback.Text)
	}
	h.tap(s.pwNext)
}

func (h *harness) answerQuestions(distinct bool) {
	h.t.Helper()
	s := h.u.wizard
	for i, sel := range s.selects {
		if distinct || i < 3 {
			sel.SetSelectedIndex(0) // each list offers only what the others have not taken
		} else {
			// Not offered by the lists, but a choice restored from an older version could repeat.
			sel.Selected = s.selects[0].Selected
		}
		h.typeIn(s.answers[i], "answer number "+string(rune('a'+i)))
	}
}

func TestSetupWizardFromLinkArgumentWithResume(t *testing.T) {
	h := newHarness(t)
	id, link := h.pendingUser()

	// Started with the magdesk://activate link as its argument.
	h.u.Start([]string{link})
	h.u.Wait()
	if h.u.Screen() != "Setup: password" {
		t.Fatalf("screen %q, error %q", h.u.Screen(), h.u.wizard.err.Text)
	}
	h.mustContain(labels(h.u.Win.Content()), "user ID "+id+", organisation Acme Aero")

	// Live policy feedback and strength meter.
	s := h.u.wizard
	h.typeIn(s.password, "short")
	h.typeIn(s.confirm, "short")
	if !s.pwNext.Disabled() || !strings.Contains(s.feedback.Text, "at least 15") {
		t.Fatalf("short password accepted: %q", s.feedback.Text)
	}
	weak := s.meter.bar.fraction()
	if weak == 0 || s.meter.words.Importance != widget.DangerImportance {
		t.Fatalf("a short password: bar %v, words %q in %v", weak, s.meter.words.Text, s.meter.words.Importance)
	}
	h.typeIn(s.password, testPassword)
	if !s.pwNext.Disabled() || !strings.Contains(s.feedback.Text, "same password") {
		t.Fatalf("mismatch not reported: %q", s.feedback.Text)
	}
	if s.meter.bar.fraction() <= weak || s.meter.words.Importance != widget.SuccessImportance {
		t.Fatalf("meter did not rise: %v -> %v (%q)", weak, s.meter.bar.fraction(), s.meter.words.Text)
	}
	h.choosePassword(testPassword)
	if h.u.Screen() != "Setup: questions" {
		t.Fatalf("screen %q", h.u.Screen())
	}

	// Nothing is wrong before anything is chosen: a plain hint says what is left, no error.
	q := h.u.wizard
	if q.err.Visible() || !q.qHint.Visible() || !q.qNext.Disabled() {
		t.Fatalf("fresh questions step: error %q (shown %v), hint %q", q.err.Text, q.err.Visible(), q.qHint.Text)
	}
	h.mustContain(q.qHint.Text, "choose question 1")
	// A question chosen in one list is not offered in the other three.
	first := q.selects[0].Options[0]
	q.selects[0].SetSelected(first)
	for i, sel := range q.selects[1:] {
		if slices.Contains(sel.Options, first) {
			t.Fatalf("list %d still offers %q", i+2, first)
		}
		if len(sel.Options) != len(q.selects[0].Options)-1 {
			t.Fatalf("list %d offers %d questions, list 1 %d", i+2, len(sel.Options), len(q.selects[0].Options))
		}
	}
	q.selects[0].ClearSelected()
	if !slices.Contains(q.selects[1].Options, first) {
		t.Fatal("a question given up is not offered again")
	}
	// Four distinct questions are required.
	h.answerQuestions(false)
	s.checkQuestions()
	if !h.u.wizard.qNext.Disabled() || !strings.Contains(h.u.wizard.err.Text, "four different") {
		t.Fatalf("duplicate question accepted: %q", h.u.wizard.err.Text)
	}
	h.answerQuestions(true)
	h.tap(h.u.wizard.qNext)
	if h.u.Screen() != "Setup: summary" {
		t.Fatalf("screen %q: %q", h.u.Screen(), h.u.wizard.err.Text)
	}
	chosen := h.u.wizard.questionIDs()

	// The app is closed here. The next start offers to resume; nothing secret is in the file.
	h.rebuild(h.u.App, nil)
	h.u.Start(nil)
	h.u.Wait()
	d, ok := h.u.TopDialog().(*dialog.ConfirmDialog)
	if !ok {
		t.Fatalf("no resume offer, screen %q", h.u.Screen())
	}
	d.Confirm()
	h.u.Wait()
	if h.u.Screen() != "Setup: password" {
		t.Fatalf("resume went to %q: %q", h.u.Screen(), h.u.wizard.err.Text)
	}
	h.choosePassword(testPassword)
	if got := h.u.wizard.questionIDs(); strings.Join(got, ",") != strings.Join(chosen, ",") {
		t.Fatalf("question choices not kept: %v vs %v", got, chosen)
	}
	h.answerQuestions(true)
	h.tap(h.u.wizard.qNext)
	h.tap(h.u.wizard.activate)
	if h.u.Screen() != "Setup: done" || !h.u.wizard.loginNow.Visible() {
		t.Fatalf("not activated: %q", h.u.wizard.err.Text)
	}
	if _, err := os.Stat(filepath.Join(h.home, setup.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("setup progress left after activation: %v", err)
	}

	// "Log in now": Login with the user id filled in, no certificate, then Home.
	h.tap(h.u.wizard.loginNow)
	if h.u.login.userID.Text != id || !h.u.login.noCert {
		t.Fatalf("login after setup: user %q noCert %v", h.u.login.userID.Text, h.u.login.noCert)
	}
	h.typeIn(h.u.login.password, testPassword)
	h.u.login.password.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.u.Wait()
	if h.u.LoggedIn() == nil {
		t.Fatalf("first login failed: %q", h.u.login.err.Text)
	}
}

func TestSetupLinkErrors(t *testing.T) {
	h := newHarness(t)
	_, link := h.pendingUser()
	cases := []struct{ link, want string }{
		{"", "activation link"},
		{"https://example.com/something-else", "activation link"},
		{"magdesk://activate?token=" + strings.Repeat("A", 43), "Link doesn't work?"},
	}
	for _, c := range cases {
		h.u.ShowSetup("")
		h.typeIn(h.u.wizard.link, c.link)
		h.tap(h.u.wizard.next)
		if h.u.Screen() != "Setup: link" || !strings.Contains(h.u.wizard.err.Text, c.want) {
			t.Errorf("link %q: screen %q error %q", c.link, h.u.Screen(), h.u.wizard.err.Text)
		}
	}
	// The https form of the link (as pasted from an email, with angle brackets) works too.
	https := strings.Replace(link, "magdesk://activate?token=", h.env.URL+"/activate#token=", 1)
	h.u.ShowSetup("")
	h.typeIn(h.u.wizard.link, " <"+https+"> ")
	h.tap(h.u.wizard.next)
	if h.u.Screen() != "Setup: password" {
		t.Fatalf("https link: %q", h.u.wizard.err.Text)
	}
}

func TestSetupServerRefusesPasswordGoesBackToPasswordStep(t *testing.T) {
	h := newHarness(t)
	_, link := h.pendingUser()
	h.u.ShowSetup(link)
	h.u.Wait()
	// Long enough and not in the app's short list, but on the server's blocklist.
	const common = "correct horse battery staple"
	h.choosePassword(common)
	h.answerQuestions(true)
	h.tap(h.u.wizard.qNext)
	h.tap(h.u.wizard.activate)
	if h.u.Screen() != "Setup: password" {
		t.Fatalf("screen %q after a refused password", h.u.Screen())
	}
	h.mustContain(h.u.wizard.err.Text, "common")
	// Nothing else is lost: the answers are still there after choosing another password.
	h.choosePassword(testPassword)
	for i, a := range h.u.wizard.answers {
		if a.Text == "" {
			t.Fatalf("answer %d lost", i)
		}
	}
	h.tap(h.u.wizard.qNext)
	h.tap(h.u.wizard.activate)
	if !h.u.wizard.loginNow.Visible() {
		t.Fatalf("not activated: %q", h.u.wizard.err.Text)
	}
}

func TestSecondStartHandsOverTheActivationLink(t *testing.T) {
	h := newHarness(t)
	id, link := h.pendingUser()
	h.u.Start(nil)
	h.u.Wait()
	// What instance delivers when `magdesk magdesk://activate?...` is started again.
	h.u.HandleArgs([]string{"--ignored", link})
	h.u.Wait()
	if h.u.Screen() != "Setup: password" || h.u.wizard.info.UserID != id {
		t.Fatalf("second start with a link: screen %q error %q", h.u.Screen(), h.u.wizard.err.Text)
	}
	// Arguments without a link change nothing.
	h.u.HandleArgs([]string{"--demo"})
	h.u.Wait()
	if h.u.Screen() != "Setup: password" {
		t.Fatalf("screen changed to %q", h.u.Screen())
	}
}

func TestSetupWithoutSecurityQuestions(t *testing.T) {
	h := newHarness(t, servertest.WithSecurityQuestions(false))
	id, link := h.pendingUser()
	h.u.ShowSetup(link)
	h.u.Wait()
	h.choosePassword(testPassword)
	if h.u.Screen() != "Setup: summary" {
		t.Fatalf("questions off: went to %q", h.u.Screen())
	}
	h.tap(h.u.wizard.activate)
	h.tap(h.u.wizard.loginNow)
	h.typeIn(h.u.login.password, testPassword)
	h.tap(h.u.login.submit)
	if h.u.LoggedIn() == nil || h.u.LoggedIn().Account.UserID != id {
		t.Fatalf("login after setup without questions: %q", h.u.login.err.Text)
	}
}
