package app

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// ShowSupportBundle asks where to save the help desk's zip and writes it.
func (u *UI) ShowSupportBundle() {
	path := u.savePath(documentsDir(), "magdesk-support-"+u.now().Format("2006-01-02-150405")+".zip", ".zip")
	path.entry.Validator = func(t string) error {
		if strings.TrimSpace(t) == "" {
			return fmt.Errorf("enter where to save the file, or press Browse")
		}
		return nil
	}
	note := wrapped("The file holds versions, settings, the last log lines and the list of certificates on this computer. " +
		"It holds no password, session, one-time code or private key. Send it to your help desk.")
	var d *dialog.FormDialog
	path.entry.OnSubmitted = func(string) { d.Submit() }
	d = dialog.NewForm("Export support bundle", "Save", "Cancel", []*widget.FormItem{
		widget.NewFormItem("Save as", path.box),
		widget.NewFormItem("", note),
	}, func(ok bool) {
		if ok {
			u.writeSupportBundle(path.Path())
		}
	}, u.Win)
	d.Resize(fyne.NewSize(640, 0))
	u.supportPath = path.entry
	u.showDialog(d)
	u.focus(path.entry)
}

func (u *UI) writeSupportBundle(path string) {
	runErr(u, nil, func(ctx context.Context) error { return u.be.SupportBundle(ctx, path) }, func(err error) {
		if err != nil {
			u.info("Support bundle not written", u.explain(err).Message)
			return
		}
		u.fileWritten("Support bundle written", "It contains no password, token or private key. Send it to your help desk. Saved to:", path)
	})
}
