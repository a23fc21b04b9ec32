package app

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// focusName names the focused widget for the tests: the button's text, or the entry's role.
func (h *harness) focusName(names map[fyne.Focusable]string) string {
	f := h.u.Win.Canvas().Focused()
	if b, ok := f.(*widget.Button); ok {
		return "[" + b.Text + "]"
	}
	if n, ok := names[f]; ok {
		return n
	}
	return "?"
}

func TestLoginTabOrderAndEnter(t *testing.T) {
	h := newHarness(t)
	h.u.ShowLogin("")
	l := h.u.login
	names := map[fyne.Focusable]string{l.userID: "user ID", l.password: "password"}
	// The keyboard smoke test relies on this order (three Tabs reach First-time setup).
	want := []string{"user ID", "password", "[Log in]", "[First-time setup]", "[Forgot user ID?]"}
	for i, w := range want {
		if i > 0 {
			test.FocusNext(h.u.Win.Canvas())
		}
		if got := h.focusName(names); got != w {
			t.Fatalf("Tab %d: focus on %s, want %s", i, got, w)
		}
	}
}

func TestKeyboardLinkEnterAndAltTabs(t *testing.T) {
	h := newHarness(t, servertest.WithDemo())
	d := h.env.Server.Demo()
	link := "magdesk://activate?token=" + h.env.ActivationToken(t, d.PendingUserID)
	// Enter in the (multi-line) link field continues instead of adding a line.
	h.u.ShowSetup("")
	test.Type(h.u.wizard.link, link)
	h.u.wizard.link.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.u.Wait()
	if h.u.Screen() != "Setup: password" {
		t.Fatalf("Enter in the link field: screen %q, link %q", h.u.Screen(), h.u.wizard.link.Text)
	}

	// Alt+N selects the N-th tab; a wrong-account certificate's fix has the focus there.
	h.plantSecond(nil)
	h.login(d.UserUserID, d.UserPassword)
	cases := []struct {
		key  fyne.KeyName
		want string
	}{{fyne.Key3, TabCerts}, {fyne.Key2, TabAccount}, {fyne.Key1, TabHome}, {fyne.Key9, TabHome}}
	sc := h.u.Win.Canvas().(fyne.Shortcutable)
	for _, c := range cases {
		sc.TypedShortcut(&desktop.CustomShortcut{KeyName: c.key, Modifier: fyne.KeyModifierAlt})
		h.u.Wait()
		if h.u.Screen() != c.want {
			t.Fatalf("Alt+%s: %q, want %q", c.key, h.u.Screen(), c.want)
		}
	}
	h.u.Win.Canvas().Unfocus()
	sc.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.Key3, Modifier: fyne.KeyModifierAlt})
	h.u.Wait()
	b, ok := h.u.Win.Canvas().Focused().(*widget.Button)
	if !ok || b.Text != "Fix Error 2035…" {
		t.Fatalf("focus on %T %v, want the Fix Error 2035 button", h.u.Win.Canvas().Focused(), b)
	}
	// Space on it opens the fix with "Remove" focused; Space there goes to the backup form,
	// whose password field has the focus (the backup path is filled in already).
	b.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace})
	h.u.Wait()
	r, ok := h.u.Win.Canvas().Focused().(*widget.Button)
	if !ok || h.u.fix == nil {
		t.Fatalf("the fix did not open with a button focused (%T)", h.u.Win.Canvas().Focused())
	}
	r.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace})
	if h.u.Win.Canvas().Focused() != h.u.fix.backupPW || h.u.fix.backupPath.Path() == "" {
		t.Fatalf("backup step: focus %T, path %q", h.u.Win.Canvas().Focused(), h.u.fix.backupPath.Path())
	}
}

// TestEnterSubmitsDialogs presses Enter in the last field of each dialog with a form and
// checks the dialog did its job.
func TestEnterSubmitsDialogs(t *testing.T) {
	t.Setenv("XDG_DOCUMENTS_DIR", t.TempDir())
	h := newHarness(t)
	id := h.user(false)
	h.login(id, testPassword)
	enter := &fyne.KeyEvent{Name: fyne.KeyReturn}
	cases := []struct {
		name  string
		open  func()
		field func() fyne.Focusable
		done  func() bool
	}{
		{"settings (CA field)", h.u.ShowSettings, func() fyne.Focusable { return h.u.settings.ca },
			func() bool { return h.u.TopDialog() == nil }},
		{"support bundle (path)", h.u.ShowSupportBundle, func() fyne.Focusable { return h.u.supportPath },
			func() bool { return strings.Contains(h.u.lastInfo, "Support bundle written") }},
	}
	for _, c := range cases {
		c.open()
		c.field().TypedKey(enter)
		h.u.Wait()
		if !c.done() {
			t.Errorf("%s: Enter did not submit (last message %q)", c.name, h.u.lastInfo)
		}
		h.u.closeDialogs()
	}
}
