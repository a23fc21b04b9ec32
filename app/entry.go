package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// escEntry is an entry inside a dialog. Fyne hands keys to the focused widget only, so Esc
// typed in a plain Entry never reaches the window; this one closes the dialog on top.
type escEntry struct {
	widget.Entry
	esc func()
}

// dialogEntry makes an entry for a dialog; password entries hide what is typed, with an eye
// to show it (as widget.NewPasswordEntry has; a struct-built entry gets none by itself).
func (u *UI) dialogEntry(password bool) *escEntry {
	e := &escEntry{esc: u.closeTopDialog}
	e.Password = password
	e.ExtendBaseWidget(e)
	if password {
		e.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
		e.ActionItem = newRevealer(&e.Entry)
	}
	return e
}

// revealer is the eye at the end of a password entry: a tap shows or hides the password.
type revealer struct {
	widget.BaseWidget
	icon  *canvas.Image
	entry *widget.Entry
}

func newRevealer(e *widget.Entry) *revealer {
	r := &revealer{icon: canvas.NewImageFromResource(theme.VisibilityOffIcon()), entry: e}
	r.icon.SetMinSize(fyne.NewSquareSize(theme.IconInlineSize()))
	r.ExtendBaseWidget(r)
	return r
}

func (r *revealer) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewCenter(r.icon))
}

func (r *revealer) MinSize() fyne.Size {
	s := theme.IconInlineSize()
	return fyne.NewSquareSize(s + theme.Padding()*2)
}

// Tapped shows or hides the password.
func (r *revealer) Tapped(*fyne.PointEvent) {
	r.entry.Password = !r.entry.Password
	if r.entry.Password {
		r.icon.Resource = theme.VisibilityOffIcon()
	} else {
		r.icon.Resource = theme.VisibilityIcon()
	}
	r.icon.Refresh()
	r.entry.Refresh()
}

// Cursor is the pointer over the eye.
func (r *revealer) Cursor() desktop.Cursor { return desktop.PointerCursor }

// TypedKey implements fyne.Focusable.
func (e *escEntry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && e.esc != nil {
		e.esc()
		return
	}
	e.Entry.TypedKey(k)
}

// closeTopDialog closes the dialog on top, as Esc does.
func (u *UI) closeTopDialog() {
	if d := u.TopDialog(); d != nil {
		d.Hide()
	}
}
