package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// ShowSupportBundle asks where to save the help desk's zip and writes it.
func (u *UI) ShowSupportBundle() {
	path := u.dialogEntry(false)
	home, _ := os.UserHomeDir()
	path.SetText(filepath.Join(home, "magdesk-support-"+u.now().Format("20060102-150405")+".zip"))
	path.Validator = func(t string) error {
		if strings.TrimSpace(t) == "" {
			return fmt.Errorf("enter where to save the file")
		}
		return nil
	}
	choose := widget.NewButton("Choose folder…", func() {
		u.showDialog(dialog.NewFolderOpen(func(l fyne.ListableURI, err error) {
			if err == nil && l != nil {
				path.SetText(filepath.Join(l.Path(), filepath.Base(path.Text)))
			}
		}, u.Win))
	})
	note := wrapped("The file holds versions, settings, the last log lines and the list of certificates on this computer. " +
		"It holds no password, session, one-time code or private key. Send it to your help desk.")
	d := dialog.NewForm("Export support bundle", "Save", "Cancel", []*widget.FormItem{
		widget.NewFormItem("Save as", container.NewBorder(nil, nil, nil, choose, path)),
		widget.NewFormItem("", note),
	}, func(ok bool) {
		if ok {
			u.writeSupportBundle(strings.TrimSpace(path.Text))
		}
	}, u.Win)
	d.Resize(fyne.NewSize(640, 300))
	u.supportPath = path
	u.showDialog(d)
}

func (u *UI) writeSupportBundle(path string) {
	runErr(u, nil, func(ctx context.Context) error { return u.be.SupportBundle(ctx, path) }, func(err error) {
		if err != nil {
			u.info("Support bundle not written", u.explain(err).Message)
			return
		}
		u.info("Support bundle written", "Saved to "+path+". It contains no password, token or private key.")
	})
}
