package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// escEntry is an entry inside a dialog. Fyne hands keys to the focused widget only, so Esc
// typed in a plain Entry never reaches the window; this one closes the dialog on top.
type escEntry struct {
	widget.Entry
	esc func()
}

// dialogEntry makes an entry for a dialog; password entries hide what is typed.
func (u *UI) dialogEntry(password bool) *escEntry {
	e := &escEntry{esc: u.closeTopDialog}
	e.Password = password
	e.ExtendBaseWidget(e)
	return e
}

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
