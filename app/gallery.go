package app

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"

	"github.com/mag-desktop/magdesk/api"
)

// The gallery walks the app through every screen and dialog as a new user meets them, for
// `make screens` (screenshots of the real window) and for the layout test at 800x600. It
// needs the demo gateway's accounts.

// GalleryAccounts are the demo accounts the gallery logs in with.
type GalleryAccounts struct {
	UserID, UserPassword   string
	AdminID, AdminPassword string
	ActivationLink         string // of the account waiting for activation
	// Scratch is a folder the gallery may write files to (the support bundle).
	Scratch string
}

// Shot is one step of the gallery: Do runs on the UI goroutine, then the caller waits for the
// work it started (UI.Wait) and, when Name is set, takes the picture.
type Shot struct {
	Name string
	Do   func()
}

// Gallery is the walk through the app. Steps depend on the ones before (the setup activates
// the pending account, the Error 2035 fix removes the demo certificate).
func (u *UI) Gallery(acc GalleryAccounts) []Shot {
	var openErr error
	// No browser or file manager starts during the walk; a failure is shown once on purpose.
	u.OpenURL = func(*url.URL) error { return openErr }
	typeLogin := func(id, pw string) {
		u.ShowLogin("")
		u.login.userID.SetText(id)
		u.login.password.SetText(pw)
		u.login.doLogin()
	}
	shots := []Shot{
		{"login", func() { u.ShowLogin("") }},
		{"login-wrong-password", func() { typeLogin(acc.UserID, "not the password") }},
		{"connect", func() { u.closeDialogs(); u.ShowConnect() }},
		{"help", func() { u.ShowHelp("") }},
		{"settings", u.ShowSettings},
		{"about", func() { u.closeDialogs(); u.ShowAbout() }},
		{"recover-activation", func() { u.closeDialogs(); u.ShowRecoverActivation() }},
		{"recover-user-id", u.ShowRecoverUserID},
		{"recover-password", func() { u.ShowRecoverPassword(acc.UserID) }},
		{"setup-link", func() { u.ShowSetup("") }},
		{"", func() { u.ShowSetup(acc.ActivationLink) }},
		{"setup-password-weak", func() {
			u.wizard.password.SetText("summer2024")
			u.wizard.confirm.SetText("summer2024")
		}},
		{"setup-password-strong", func() {
			u.wizard.password.SetText("plum orbit cactus lantern 42")
			u.wizard.confirm.SetText("plum orbit cactus lantern 42")
		}},
		{"setup-questions", func() { u.wizard.passwordDone() }},
		{"setup-questions-chosen", func() {
			for i, sel := range u.wizard.selects {
				sel.SetSelectedIndex(i)
				u.wizard.answers[i].SetText("answer " + string(rune('a'+i)))
			}
		}},
		{"setup-summary", func() { u.wizard.questionsDone() }},
		{"setup-done", func() { u.wizard.complete() }},
		{"login-first-time", func() { u.showLogin(u.wizard.info.UserID, true) }},
		{"home", func() { typeLogin(acc.UserID, acc.UserPassword) }},
		{"home-opened-in-browser", func() { u.home.openFirst() }},
		{"browser-failed", func() {
			openErr = errors.New("xdg-open failed (exit status 3): no method available for opening '<link>'")
			u.home.openFirst()
		}},
		{"account", func() { openErr = nil; u.closeDialogs(); u.showTab(TabAccount) }},
		// The demo user's computer holds the certificate of their second account: Error 2035.
		{"certificates", func() { u.showTab(TabCerts) }},
		{"fix2035", func() { u.certs.fixFirst() }},
		{"fix2035-connect", func() { u.fix.showConnect() }},
		{"fix2035-remove", func() {
			u.fix.showRemove()
			u.fix.backupPath.entry.SetText(filepath.Join(acc.Scratch, "certificate-backup.p12"))
			u.fix.backupPW.SetText("backup password 1")
			u.fix.backupPW2.SetText("backup password 1")
		}},
		{"fix2035-fixed", func() { u.fix.doRemove() }},
		{"certificates-fixed", func() { u.closeDialogs(); u.certs.refresh() }},
		{"certificate-issued", func() { u.certs.doRequest() }},
		{"certificate-details", func() {
			u.closeDialogs()
			if len(u.certs.ids) > 0 {
				u.certs.details(u.certs.ids[0])
			}
		}},
		{"certificate-export", func() {
			u.closeTopDialog()
			if len(u.certs.ids) > 0 {
				u.certs.askExport(u.certs.ids[0])
			}
		}},
		{"file-dialog", func() { u.certs.path.choose() }},
		{"certificate-import", func() { u.closeDialogs(); u.certs.askImport() }},
		{"security-codes", func() { u.closeDialogs(); u.showTab(TabOTP) }},
		{"security-codes-register", func() { u.otp.begin() }},
		{"help-tab", func() { u.showTab(TabHelp) }},
		{"connection-check", u.ShowDoctor},
		{"support-bundle", u.ShowSupportBundle},
		{"support-bundle-written", func() {
			u.closeDialogs()
			u.writeSupportBundle(filepath.Join(acc.Scratch, "magdesk-support.zip"))
		}},
		{"clear-sessions", func() { u.closeDialogs(); u.ConfirmClearSessions() }},
		{"", func() { u.closeDialogs(); u.Logout() }},
		{"admin-home", func() { typeLogin(acc.AdminID, acc.AdminPassword) }},
		{"administration", func() { u.showTab(TabAdmin) }},
		{"terms", func() { u.admin.showTermsOfFirstPending(u.home.apps) }},
		{"", func() { u.closeDialogs(); u.Logout() }},
	}
	// Last: lock the admin account with wrong passwords.
	for range 8 {
		shots = append(shots, Shot{"", func() { typeLogin(acc.AdminID, "wrong password") }})
	}
	shots = append(shots, Shot{"login-locked", func() {}})
	_ = os.MkdirAll(acc.Scratch, 0o700)
	return shots
}

// closeDialogs closes every dialog.
func (u *UI) closeDialogs() {
	for u.TopDialog() != nil {
		u.closeTopDialog()
	}
}

// openFirst presses the first Open Application button.
func (s *homeScreen) openFirst() {
	for _, a := range s.apps {
		if b := s.buttons[a.AppID+"/"+api.ActionOpen]; b != nil {
			b.OnTapped()
			return
		}
	}
}

// fixFirst starts the Error 2035 fix of the first certificate of another account.
func (s *certsScreen) fixFirst() {
	for _, id := range s.ids {
		if b := s.fixFor[id.SHA256]; b != nil {
			b.OnTapped()
			return
		}
	}
}

// showTermsOfFirstPending shows the terms of the first application waiting for them.
func (s *adminScreen) showTermsOfFirstPending(apps []api.Application) {
	for _, a := range apps {
		if a.Status == api.StatusPendingTerms {
			s.showTerms(a)
			return
		}
	}
}

// RecordGallery walks the gallery in the real window and calls snap with a file name for
// every named shot, once in the light and once in the dark theme (nn-name-light ...), when the
// window shows it. It runs on its own goroutine and calls done (with the first error) at the
// end. The picture is taken by snap from outside (the X server): Fyne's Capture reads the GL
// front buffer, which Mesa under Xvfb returns blank.
func (u *UI) RecordGallery(acc GalleryAccounts, snap func(name string) error, done func(error)) {
	go func() { done(u.recordGallery(acc, snap)) }()
}

// settle is how long a screen is given to draw before its picture is taken.
const settle = 500 * time.Millisecond

func (u *UI) recordGallery(acc GalleryAccounts, snap func(name string) error) error {
	var shots []Shot
	fyne.DoAndWait(func() { shots = u.Gallery(acc) })
	n := 0
	for _, shot := range shots {
		fyne.DoAndWait(shot.Do)
		u.Wait()
		if shot.Name == "" {
			continue
		}
		n++
		for _, variant := range []string{"light", "dark"} {
			fyne.DoAndWait(func() { applyTheme(u.App, variant) })
			time.Sleep(settle)
			if err := snap(fmt.Sprintf("%02d-%s-%s", n, shot.Name, variant)); err != nil {
				return err
			}
		}
	}
	return nil
}
