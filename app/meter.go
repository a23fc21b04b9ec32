package app

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/internal/setup"
)

// strengthMeter is a password strength meter: a short bar that fills and changes colour with
// the strength, and the strength in words beside it (the words carry the meaning, not the
// colour alone).
type strengthMeter struct {
	bar   *strengthBar
	words *widget.Label
	box   fyne.CanvasObject
}

func newStrengthMeter() *strengthMeter {
	m := &strengthMeter{bar: &strengthBar{}, words: widget.NewLabel("")}
	m.bar.ExtendBaseWidget(m.bar)
	m.words.TextStyle.Bold = true
	m.box = container.NewHBox(widget.NewLabel("Strength:"), container.NewCenter(m.bar), m.words)
	m.set(setup.VeryWeak, true)
	return m
}

// set shows strength; empty (nothing typed yet) shows an empty bar and no words.
func (m *strengthMeter) set(s setup.Strength, empty bool) {
	m.bar.level, m.bar.empty = s, empty
	m.bar.Refresh()
	if empty {
		m.words.SetText("—")
		m.words.Importance = widget.LowImportance
	} else {
		m.words.SetText(s.String())
		m.words.Importance = strengthImportance(s)
	}
	m.words.Refresh()
}

// strengthImportance is the colour of a strength: red, orange, then green.
func strengthImportance(s setup.Strength) widget.Importance {
	switch {
	case s <= setup.Weak:
		return widget.DangerImportance
	case s == setup.Fair:
		return widget.WarningImportance
	}
	return widget.SuccessImportance
}

// strengthBar is the bar of the meter.
type strengthBar struct {
	widget.BaseWidget
	level setup.Strength
	empty bool
}

// barSize is the bar's size: a gauge, not a full-width control.
var barSize = fyne.NewSize(160, 8)

// fraction is how much of the bar is filled: a fifth per level, nothing while empty.
func (b *strengthBar) fraction() float32 {
	if b.empty {
		return 0
	}
	return float32(b.level+1) / float32(setup.VeryStrong+1)
}

func (b *strengthBar) colorName() fyne.ThemeColorName {
	switch strengthImportance(b.level) {
	case widget.DangerImportance:
		return theme.ColorNameError
	case widget.WarningImportance:
		return theme.ColorNameWarning
	}
	return theme.ColorNameSuccess
}

func (b *strengthBar) CreateRenderer() fyne.WidgetRenderer {
	r := &barRenderer{b: b, track: canvas.NewRectangle(color.Transparent), fill: canvas.NewRectangle(color.Transparent)}
	r.track.CornerRadius, r.fill.CornerRadius = 4, 4
	r.Refresh()
	return r
}

type barRenderer struct {
	b           *strengthBar
	track, fill *canvas.Rectangle
}

func (r *barRenderer) Layout(s fyne.Size) {
	r.track.Resize(s)
	r.fill.Resize(fyne.NewSize(s.Width*r.b.fraction(), s.Height))
}

func (r *barRenderer) MinSize() fyne.Size { return barSize }

func (r *barRenderer) Refresh() {
	th := r.b.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.track.FillColor = th.Color(theme.ColorNameInputBorder, v)
	r.fill.FillColor = th.Color(r.b.colorName(), v)
	r.Layout(r.b.Size())
	r.track.Refresh()
	r.fill.Refresh()
}

func (r *barRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.track, r.fill} }

func (r *barRenderer) Destroy() {}
