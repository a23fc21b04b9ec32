package app

import (
	"context"
	"net/url"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/internal/opener"
)

// Every action that leaves the app says how it went: the browser or the file manager opened
// (or why not, with a way on), a file written (with where, and a way to see it).

// openWithSystem is UI.OpenURL in the app: the desktop's opener, which reports a missing or
// failing browser (Fyne's own OpenURL on Linux starts xdg-open and never learns the outcome).
func openWithSystem(l *url.URL) error {
	target := l.String()
	if l.Scheme == "file" {
		target = l.Path
	}
	return opener.Open(context.Background(), target)
}

// openLink opens link (secret: a single-use launch link) in the browser, off the UI goroutine
// since the opener may take a moment. opened is told on success; on failure a dialog gives
// the reason, the link and a Copy button. The link is never logged.
func (u *UI) openLink(btn *widget.Button, what, link string, opened func()) {
	l, err := url.Parse(link)
	if err != nil {
		u.browserFailed(what, link, err)
		return
	}
	runErr(u, btn, func(context.Context) error { return u.OpenURL(l) }, func(err error) {
		if err != nil {
			u.browserFailed(what, link, err)
			return
		}
		opened()
	})
}

// browserFailed says the browser could not be started, why, and offers the link to copy.
func (u *UI) browserFailed(what, link string, reason error) {
	linkL := widget.NewLabel(link)
	linkL.Wrapping = fyne.TextWrapBreak
	linkL.Selectable = true
	msg := "MAG Desktop could not start your web browser to open " + what + ". " +
		"Copy the link below and paste it into your browser's address bar. It works once and for about a minute, " +
		"and it opens the application as you: don't send it to anyone."
	why := wrapped("Reason: " + reason.Error())
	var d *dialog.CustomDialog
	var copyB *widget.Button
	copyB = widget.NewButtonWithIcon("Copy link", theme.ContentCopyIcon(), func() {
		u.App.Clipboard().SetContent(link)
		copyB.SetText("Copied")
		copyB.SetIcon(theme.ConfirmIcon())
	})
	copyB.Importance = widget.HighImportance
	closeB := widget.NewButton("Close", func() { d.Hide() })
	d = dialog.NewCustomWithoutButtons("Could not open your browser", container.NewVBox(wrapped(msg), linkL, why), u.Win)
	d.SetButtons([]fyne.CanvasObject{closeB, copyB})
	d.Resize(fyne.NewSize(560, 0))
	u.lastInfo = "Could not open your browser: " + reason.Error()
	u.showDialog(d)
	u.focus(copyB)
}

// fileWritten says a file was saved and where, with "Show in folder" to open its folder in the
// file manager.
func (u *UI) fileWritten(title, msg, path string) {
	pathL := widget.NewLabel(path)
	pathL.Wrapping = fyne.TextWrapBreak
	pathL.Selectable = true
	status := wrapped("")
	status.Hide()
	var d *dialog.CustomDialog
	show := u.showInFolder(path, status)
	closeB := widget.NewButton("Close", func() { d.Hide() })
	closeB.Importance = widget.HighImportance
	d = dialog.NewCustomWithoutButtons(title, container.NewVBox(wrapped(msg), pathL, status), u.Win)
	d.SetButtons([]fyne.CanvasObject{show, closeB})
	d.Resize(fyne.NewSize(560, 0))
	u.lastInfo = title + ": " + msg + " " + path
	u.showDialog(d)
	u.focus(closeB)
}

// showInFolder is a "Show in folder" button that opens path's folder in the file manager; it
// says in status when that fails.
func (u *UI) showInFolder(path string, status *widget.Label) *widget.Button {
	var show *widget.Button
	show = widget.NewButtonWithIcon("Show in folder", theme.FolderOpenIcon(), func() {
		l, _ := url.Parse(storage.NewFileURI(filepath.Dir(path)).String())
		runErr(u, show, func(context.Context) error { return u.OpenURL(l) }, func(err error) {
			if err != nil {
				status.SetText("The folder could not be opened (" + err.Error() + "). The file is in " + filepath.Dir(path) + ".")
				status.Importance = widget.DangerImportance
				status.Show()
			}
		})
	})
	return show
}
