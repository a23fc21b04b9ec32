package app

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// smallest is the smallest window the app supports.
var smallest = fyne.NewSize(800, 600)

// clipped lists what under o does not fit: a label or button narrower than its text, or
// reaching past the window's right edge (cut off, or behind a sideways scroll).
func clipped(o fyne.CanvasObject, win fyne.Size) []string {
	var out []string
	d := fyne.CurrentApp().Driver()
	find(o, func(o fyne.CanvasObject) bool {
		var text string
		switch w := o.(type) {
		case *widget.Label:
			if w.Wrapping != fyne.TextWrapOff || w.Truncation != fyne.TextTruncateOff || w.Text == "" {
				return false
			}
			text = w.Text
		case *widget.Button:
			text = "[" + w.Text + "]"
		default:
			return false
		}
		if o.Size().IsZero() {
			return false // not laid out by the test driver (a dialog's title)
		}
		pos := d.AbsolutePositionForObject(o)
		switch {
		case o.Size().Width+0.5 < o.MinSize().Width:
			out = append(out, fmt.Sprintf("%q is %.0f wide, needs %.0f", text, o.Size().Width, o.MinSize().Width))
		case pos.X+o.Size().Width > win.Width+theme.Padding():
			out = append(out, fmt.Sprintf("%q reaches x=%.0f, past the window's %.0f", text, pos.X+o.Size().Width, win.Width))
		}
		return false
	})
	return out
}

// TestEveryScreenFitsAt800x600InLightAndDark walks the gallery (every screen and dialog) in a
// window of 800x600 and checks, in both themes, that each fits and no text is cut off.
func TestEveryScreenFitsAt800x600InLightAndDark(t *testing.T) {
	t.Setenv("XDG_DOCUMENTS_DIR", t.TempDir())
	h := newHarness(t, servertest.WithDemo())
	h.plantSecond(nil)
	h.u.Win.Resize(smallest)
	d := h.env.Server.Demo()
	acc := GalleryAccounts{UserID: d.UserUserID, UserPassword: d.UserPassword, AdminID: d.AdminUserID,
		AdminPassword: d.AdminPassword, ActivationLink: "magdesk://activate?token=" + h.env.ActivationToken(t, d.PendingUserID),
		Scratch: t.TempDir()}
	seen := 0
	for _, shot := range h.u.Gallery(acc) {
		shot.Do()
		h.u.Wait()
		if shot.Name == "" {
			continue
		}
		seen++
		for _, variant := range []string{"light", "dark"} {
			applyTheme(h.u.App, variant)
			c := h.u.Win.Canvas()
			c.Content().Resize(c.Size())
			var problems []string
			if m := c.Content().MinSize(); m.Width > smallest.Width || m.Height > smallest.Height {
				problems = append(problems, fmt.Sprintf("the screen needs %.0fx%.0f (window %v)", m.Width, m.Height, c.Size()))
			}
			problems = append(problems, clipped(c.Content(), smallest)...)
			if top := c.Overlays().Top(); top != nil {
				top.Resize(c.Size())
				if m := top.MinSize(); m.Width > smallest.Width || m.Height > smallest.Height {
					problems = append(problems, fmt.Sprintf("the dialog needs %.0fx%.0f", m.Width, m.Height))
				}
				problems = append(problems, clipped(top, smallest)...)
			}
			if len(problems) > 0 {
				t.Errorf("%s (%s): %s", shot.Name, variant, strings.Join(problems, "; "))
			}
		}
	}
	if seen < 30 {
		t.Fatalf("the gallery showed %d screens", seen)
	}
}
