package app

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/internal/service"
)

// fix2035 is the Error 2035 wizard: a certificate on this computer belongs to another of the
// user's accounts. Either remove it (after a verified backup) or connect it to this account.
type fix2035 struct {
	u     *UI
	id    service.Identity
	d     *dialog.CustomDialog
	body  *fyne.Container
	err   *widget.Label
	retry func(noCert bool) // set when started from Login: log in again afterwards

	// Remove step.
	backupPath          *pathField
	backupPW, backupPW2 *escEntry
	skipBackup          *widget.Check
	remove              *widget.Button
	// Connect step.
	fromUser, fromPW, fromOTP *escEntry
	connect                   *widget.Button
	result                    *widget.Label
}

// startFix2035 opens the wizard for the certificate sha (from the server's problem, or the
// Certificates list). retry is given when the user is at Login.
func (u *UI) startFix2035(sha string, retry func(noCert bool)) {
	f := &fix2035{u: u, body: container.NewVBox(), err: errorLabel(), retry: retry, result: widget.NewLabel("")}
	f.result.Wrapping = fyne.TextWrapWord
	f.d = dialog.NewCustomWithoutButtons("Fix Error 2035: certificate of another account",
		container.NewVBox(f.body, f.err), u.Win)
	f.d.Resize(fyne.NewSize(620, 460))
	u.fix = f
	run(u, nil, func(ctx context.Context) ([]service.Identity, error) { return u.be.Identities(ctx) },
		func(ids []service.Identity, err error) {
			for _, id := range ids {
				if strings.EqualFold(id.SHA256, sha) {
					f.id = id
				}
			}
			if f.id.SHA256 == "" {
				f.id.SHA256 = sha
			}
			u.showDialog(f.d)
			f.choose()
		})
}

func (f *fix2035) set(objs ...fyne.CanvasObject) {
	f.body.RemoveAll()
	for _, o := range objs {
		f.body.Add(o)
	}
	setError(f.err, "")
	f.d.Refresh()
}

func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

func (f *fix2035) what() string {
	if f.id.Subject == "" {
		return "A certificate on this computer (SHA-256 " + short(f.id.SHA256) + ")"
	}
	who := ""
	if f.id.Account != "" {
		who = " (it belongs to " + f.id.Account + ")"
	}
	return fmt.Sprintf("The certificate \"%s\" in %s%s", f.id.Subject, f.id.Store, who)
}

func short(sha string) string {
	if len(sha) > 16 {
		return sha[:16] + "…"
	}
	return sha
}

func (f *fix2035) choose() {
	intro := wrapped(f.what() + " belongs to a different account of yours. Browsers and this app offer it automatically, " +
		"so the gateway refuses it for this account (Error 2035). Choose how to fix it:")
	remove := widget.NewButton("Remove it from this computer (a backup is made first)", f.showRemove)
	remove.Importance = widget.HighImportance
	objs := []fyne.CanvasObject{intro, remove}
	if f.retry == nil {
		objs = append(objs, widget.NewButton("Connect it to this account (needs the other account's password)", f.showConnect))
	} else {
		objs = append(objs, widget.NewButton("Log in without it this time", func() {
			f.d.Hide()
			f.retry(true)
		}), wrapped("To connect the certificate to this account instead, log in without it, then open Certificates."))
	}
	objs = append(objs, widget.NewButton("Cancel", func() { f.d.Hide() }))
	f.set(objs...)
	f.u.focus(remove)
	f.u.screenShown("Fix Error 2035: choose")
}

func (f *fix2035) showRemove() {
	f.backupPath = f.u.savePath(documentsDir(), f.backupName(), ".p12", ".pfx")
	f.backupPW, f.backupPW2 = f.u.dialogEntry(true), f.u.dialogEntry(true)
	f.skipBackup = widget.NewCheck("I don't want a backup (the certificate and key are gone for good)", nil)
	f.remove = widget.NewButton("Back up and remove", f.doRemove)
	f.remove.Importance = widget.DangerImportance
	f.backupPW2.OnSubmitted = func(string) { f.doRemove() }
	form := widget.NewForm(widget.NewFormItem("Backup file", f.backupPath.box),
		widget.NewFormItem("Backup password", f.backupPW), widget.NewFormItem("Type it again", f.backupPW2))
	f.set(wrapped("First a backup is written (encrypted with a password you choose) and read back to check it. "+
		"Then the certificate and its private key are removed, and the store is listed again to prove both are gone."),
		form, f.skipBackup, container.NewHBox(f.remove, widget.NewButton("Back", f.choose)), f.result)
	f.u.focus(f.backupPW)
	f.u.screenShown("Fix Error 2035: remove")
}

// backupName names the backup after the account the certificate belongs to and the day.
func (f *fix2035) backupName() string {
	who := f.id.Account
	if who == "" {
		who = f.id.Subject
	}
	return datedName("certificate-backup", who, f.u.now().Format("2006-01-02"), ".p12")
}

func (f *fix2035) doRemove() {
	u := f.u
	req := service.RemoveRequest{SHA256: f.id.SHA256}
	if !f.skipBackup.Checked {
		req.BackupPath, req.BackupPassword = f.backupPath.Path(), f.backupPW.Text
		if err := service.CheckBackup(req, f.backupPW2.Text); err != nil {
			setError(f.err, u.explain(err).Message)
			return
		}
	}
	run(u, f.remove, func(ctx context.Context) (service.RemoveResult, error) { return u.be.RemoveIdentity(ctx, req) },
		func(r service.RemoveResult, err error) {
			if err != nil {
				setError(f.err, u.explain(err).Message)
				return
			}
			msg := r.Message
			if msg == "" {
				msg = "The certificate and its private key were removed."
			}
			if r.Verified {
				msg += " Checked: the store was listed again and neither the certificate nor its key is there."
			}
			if r.BackupPath != "" {
				msg += " Backup (read back and compared): " + r.BackupPath + "."
			}
			msg += " Close every browser window so the browsers forget the certificate, then log in again."
			done := widget.NewButton("Done", func() {
				f.d.Hide()
				if f.retry != nil {
					f.retry(false)
				} else if u.certs != nil {
					u.certs.refresh()
				}
			})
			done.Importance = widget.HighImportance
			f.result.SetText(msg)
			buttons := container.NewHBox(done)
			status := wrapped("")
			status.Hide()
			if r.BackupPath != "" {
				buttons.Add(u.showInFolder(r.BackupPath, status))
			}
			f.set(wrapped("✓ Fixed."), f.result, status, buttons)
			u.focus(done)
		})
}

func (f *fix2035) showConnect() {
	f.fromUser, f.fromPW, f.fromOTP = f.u.dialogEntry(false), f.u.dialogEntry(true), f.u.dialogEntry(false)
	f.fromUser.SetText(f.id.Account)
	f.fromOTP.SetPlaceHolder("only if that account uses one-time codes")
	f.connect = widget.NewButton("Connect to "+f.u.me.Account.UserID, f.doConnect)
	f.connect.Importance = widget.HighImportance
	f.fromPW.OnSubmitted = func(string) { f.doConnect() }
	f.fromOTP.OnSubmitted = func(string) { f.doConnect() }
	form := widget.NewForm(widget.NewFormItem("Other account's user ID", f.fromUser),
		widget.NewFormItem("Its password", f.fromPW), widget.NewFormItem("Its one-time code", f.fromOTP))
	f.set(wrapped("Account Connections: the certificate will work for both accounts. Prove that the other account is yours."),
		form, container.NewHBox(f.connect, widget.NewButton("Back", f.choose)), f.result)
	if f.fromUser.Text != "" {
		f.u.focus(f.fromPW)
	} else {
		f.u.focus(f.fromUser)
	}
}

func (f *fix2035) doConnect() {
	u := f.u
	from, pw, otp := strings.TrimSpace(f.fromUser.Text), f.fromPW.Text, strings.TrimSpace(f.fromOTP.Text)
	if from == "" || pw == "" {
		setError(f.err, "Enter the user ID and password of the account the certificate belongs to.")
		return
	}
	runErr(u, f.connect, func(ctx context.Context) error { return u.be.ConnectIdentity(ctx, f.id.SHA256, from, pw, otp) },
		func(err error) {
			if err != nil {
				f.fromPW.SetText("")
				setError(f.err, u.explain(err).Message)
				return
			}
			done := widget.NewButton("Done", func() {
				f.d.Hide()
				if u.certs != nil {
					u.certs.refresh()
				}
			})
			done.Importance = widget.HighImportance
			f.result.SetText(fmt.Sprintf("The certificate is now connected to %s as well as %s. You can log in to either with it.", u.me.Account.UserID, from))
			f.set(wrapped("✓ Connected."), f.result, done)
			u.focus(done)
		})
}
