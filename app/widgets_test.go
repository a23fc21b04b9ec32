package app

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/mag-desktop/magdesk/internal/setup"
)

func TestStrengthMeterFillsAndColoursByStrength(t *testing.T) {
	test.NewTempApp(t)
	m := newStrengthMeter()
	w := test.NewWindow(m.box)
	defer w.Close()
	cases := []struct {
		s     setup.Strength
		empty bool
		fill  float32
		color fyne.ThemeColorName
		words string
	}{
		{setup.VeryWeak, true, 0, "", "—"},
		{setup.VeryWeak, false, 0.2, theme.ColorNameError, "Very weak"},
		{setup.Weak, false, 0.4, theme.ColorNameError, "Weak"},
		{setup.Fair, false, 0.6, theme.ColorNameWarning, "Fair"},
		{setup.Strong, false, 0.8, theme.ColorNameSuccess, "Strong"},
		{setup.VeryStrong, false, 1, theme.ColorNameSuccess, "Very strong"},
	}
	for _, c := range cases {
		m.set(c.s, c.empty)
		r := test.WidgetRenderer(m.bar).(*barRenderer)
		got := r.fill.Size().Width / r.track.Size().Width
		if d := got - c.fill; d > 0.01 || d < -0.01 {
			t.Errorf("%v: bar filled %.2f, want %.2f", c.words, got, c.fill)
		}
		if m.words.Text != c.words {
			t.Errorf("words %q, want %q", m.words.Text, c.words)
		}
		if c.color != "" && r.fill.FillColor != theme.Color(c.color) {
			t.Errorf("%v: colour %v, want %s", c.words, r.fill.FillColor, c.color)
		}
	}
	// A gauge beside its words, not a full-width bar.
	if m.bar.Size().Width != barSize.Width {
		t.Fatalf("bar width %v, want %v", m.bar.Size().Width, barSize.Width)
	}
}

func TestDialogPasswordEntriesHaveAShowToggle(t *testing.T) {
	test.NewTempApp(t)
	u := &UI{}
	e := u.dialogEntry(true)
	rv, ok := e.ActionItem.(*revealer)
	if !ok || !e.Password {
		t.Fatalf("no show-password toggle (%T) or not hidden", e.ActionItem)
	}
	test.Tap(rv)
	if e.Password {
		t.Fatal("tapping the eye did not show the password")
	}
	test.Tap(rv)
	if !e.Password {
		t.Fatal("tapping again did not hide it")
	}
	if plain := u.dialogEntry(false); plain.ActionItem != nil {
		t.Fatal("a plain entry has a toggle")
	}
}
