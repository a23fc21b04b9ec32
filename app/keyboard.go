package app

import (
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// Keyboard use beyond Tab, Enter, Space and Esc: Alt+1..9 select the logged-in tabs (Fyne's
// tabs take no keyboard focus), and the link entry submits on Enter.

// addTabShortcuts registers Alt+1..9 on the window.
func (u *UI) addTabShortcuts() {
	for i := 1; i <= 9; i++ {
		u.Win.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyName(strconv.Itoa(i)), Modifier: fyne.KeyModifierAlt},
			func(fyne.Shortcut) { u.selectTabAt(i - 1) })
	}
}

// selectTabAt selects the i-th tab (from 0) of the logged-in window, if there is one.
func (u *UI) selectTabAt(i int) {
	if u.tabs == nil || i >= len(u.tabs.Items) {
		return
	}
	u.showTab(u.tabs.Items[i].Text)
}

// focusIfNone gives f the focus unless something already has it (a user typing is not
// interrupted by a screen filling in).
func (u *UI) focusIfNone(f fyne.Focusable) {
	if u.Win.Canvas().Focused() == nil && u.pendingFocus == nil {
		u.Win.Canvas().Focus(f)
	}
}

// submitEntry is a multi-line entry (a long link stays readable, wrapped) where Enter submits
// instead of starting a new line; a pasted link has no line breaks to keep.
type submitEntry struct {
	widget.Entry
}

func newSubmitEntry() *submitEntry {
	e := &submitEntry{}
	e.MultiLine = true
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey implements fyne.Focusable.
func (e *submitEntry) TypedKey(k *fyne.KeyEvent) {
	if (k.Name == fyne.KeyReturn || k.Name == fyne.KeyEnter) && e.OnSubmitted != nil {
		e.OnSubmitted(e.Text)
		return
	}
	e.Entry.TypedKey(k)
}

// focus gives f the keyboard focus once the events being handled are done. A button pressed
// with Space often moves the focus into a field (Remove → backup password, Log in now →
// password); focused at once, that field would also get the Space's character, which the
// toolkit delivers after the key press. Headless tests have no such character and focus at
// once.
func (u *UI) focus(f fyne.Focusable) {
	if u.inbox != nil {
		u.Win.Canvas().Focus(f)
		return
	}
	// The last request wins, as if each had been done at once.
	first := u.pendingFocus == nil
	u.pendingFocus = f
	if first {
		go fyne.Do(func() {
			if f := u.pendingFocus; f != nil {
				u.pendingFocus = nil
				u.Win.Canvas().Focus(f)
			}
		})
	}
}
