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

// certsScreen lists every certificate with a private key found in any store on this computer.
type certsScreen struct {
	u        *UI
	content  *fyne.Container
	list     *fyne.Container
	err      *widget.Label
	reload   *widget.Button
	request  *widget.Button
	importB  *widget.Button
	ids      []service.Identity
	fixFor   map[string]*widget.Button // sha256 -> "Fix…" button of wrong-account certificates
	exportOf map[string]*widget.Button
	path     *pathField                // of the export or import dialog last opened
	renewOf  map[string]*widget.Button // sha256 -> "Renew now…" of certificates in their renewal window
}

func newCertsScreen(u *UI) *certsScreen {
	s := &certsScreen{u: u, list: container.NewVBox(), err: errorLabel()}
	s.reload = widget.NewButton("Refresh", s.refresh)
	s.request = widget.NewButton("Request a new certificate", s.doRequest)
	s.importB = widget.NewButton("Import…", s.askImport)
	s.content = container.NewBorder(
		container.NewVBox(heading("Certificates", "Certificates with their private keys in every store on this computer "+
			"(this app's store, your browsers' stores and the system's). A certificate of another of your accounts causes Error 2035."), s.err),
		container.NewHBox(s.request, s.importB, s.reload), nil, nil, container.NewVScroll(s.list))
	return s
}

func (s *certsScreen) refresh() {
	u := s.u
	run(u, s.reload, func(ctx context.Context) ([]service.Identity, error) { return u.be.Identities(ctx) },
		func(ids []service.Identity, err error) {
			if err != nil {
				u.sessionError(err, s.err)
				return
			}
			setError(s.err, "")
			s.ids = ids
			s.render()
		})
}

// certBadges are the badges of a certificate's status.
var certBadges = map[string]badge{
	service.CertBound:        {"Yours — this account", widget.SuccessImportance},
	service.CertWrongAccount: {"Error 2035: belongs to another account", widget.DangerImportance},
	service.CertExpired:      {"Expired", widget.DangerImportance},
	service.CertRevoked:      {"Revoked", widget.DangerImportance},
	service.CertNotBound:     {"Not connected to an account", widget.WarningImportance},
	service.CertForeign:      {"Not from this gateway", widget.MediumImportance},
}

func (s *certsScreen) render() {
	u := s.u
	s.list.RemoveAll()
	s.fixFor = map[string]*widget.Button{}
	s.exportOf = map[string]*widget.Button{}
	s.renewOf = map[string]*widget.Button{}
	if len(s.ids) == 0 {
		s.list.Add(widget.NewLabel("No certificates found on this computer. Request one if an application needs it."))
	}
	now := u.now()
	for _, id := range s.ids {
		badge := badgeLabel(certBadges, id.Status)
		lines := []string{fmt.Sprintf("%s — in %s", id.Subject, id.Store)}
		if id.StatusText != "" {
			lines = append(lines, id.StatusText)
		}
		exp := service.CertExpiry(id.NotAfter, now, u.warningWindow(), id.Mine())
		if exp.Sentence != "" && id.Status != service.CertExpired {
			lines = append(lines, "⚠ "+exp.Sentence)
		}
		text := widget.NewLabel(strings.Join(lines, "\n"))
		text.Wrapping = fyne.TextWrapWord
		actions := container.NewHBox(widget.NewButton("Details", func() { s.details(id) }))
		if exp.Renewable {
			b := widget.NewButton("Renew now…", func() { u.showRenew(service.CertAttention{Identity: id, Expiry: exp}) })
			b.Importance = widget.HighImportance
			s.renewOf[id.SHA256] = b
			actions.Add(b)
		}
		if id.Exportable {
			b := widget.NewButton("Export…", func() { s.askExport(id) })
			s.exportOf[id.SHA256] = b
			actions.Add(b)
		}
		if id.Status == service.CertWrongAccount {
			b := widget.NewButton("Fix Error 2035…", func() { u.startFix2035(id.SHA256, nil) })
			b.Importance = widget.DangerImportance
			s.fixFor[id.SHA256] = b
			actions.Add(b)
		}
		s.list.Add(container.NewVBox(badge, text, actions, widget.NewSeparator()))
	}
	s.content.Refresh()
	// The fix is what a keyboard user most likely came for: Space starts it.
	for _, id := range s.ids {
		if b := s.fixFor[id.SHA256]; b != nil {
			u.focusIfNone(b)
			break
		}
	}
	u.screenShown("Certificates: listed")
}

func (s *certsScreen) details(id service.Identity) {
	rows := [][2]string{
		{"Subject", id.Subject}, {"Issuer", id.Issuer}, {"Serial", id.Serial},
		{"Valid from", id.NotBefore.Local().Format("2 Jan 2006 15:04")}, {"Valid until", id.NotAfter.Local().Format("2 Jan 2006 15:04")},
		{"Key", id.KeyAlgorithm}, {"Store", id.Store}, {"Location", id.Location}, {"Account", orNone(id.Account)},
		{"SHA-256", id.SHA256},
	}
	f := widget.NewForm()
	for _, r := range rows {
		l := widget.NewLabel(r[1])
		l.Selectable = true
		l.Wrapping = fyne.TextWrapBreak
		f.Append(r[0], l)
	}
	d := dialog.NewCustom("Certificate details", "Close", container.NewVScroll(f), s.u.Win)
	d.Resize(fyne.NewSize(640, 480))
	s.u.showDialog(d)
}

func (s *certsScreen) doRequest() {
	u := s.u
	run(u, s.request, func(ctx context.Context) (service.Identity, error) { return u.be.RequestCertificate(ctx) },
		func(id service.Identity, err error) {
			if err != nil {
				u.sessionError(err, s.err)
				return
			}
			u.info("Certificate issued", fmt.Sprintf("A new certificate for %s is stored in %s. Its private key was made on this computer and never left it.", u.me.Account.UserID, id.Store))
			s.refresh()
			u.homeChanged()
		})
}

// pathAndPassword is a form for a file path and a password, typed twice when confirm is set.
func (s *certsScreen) pathAndPassword(title, action string, path *pathField, confirm bool, done func(path, pw string) error) {
	s.path = path
	pw, pw2 := s.u.dialogEntry(true), s.u.dialogEntry(true)
	path.entry.Validator = func(t string) error {
		if strings.TrimSpace(t) == "" {
			return fmt.Errorf("enter the full path of the file, or press Browse")
		}
		return nil
	}
	if confirm {
		// The length here, the match on the second entry: each entry shows its own problem.
		pw.Validator = func(t string) error { return service.CheckBackupPassword(t, t) }
		pw2.Validator = func(t string) error {
			if err := service.CheckBackupPassword(pw.Text, t); service.CodeOf(err) == service.CodeBackupPasswordsDiffer {
				return err
			}
			return nil
		}
	}
	items := []*widget.FormItem{widget.NewFormItem("File", path.box), widget.NewFormItem("File password", pw)}
	if confirm {
		items = append(items, widget.NewFormItem("Type it again", pw2))
	}
	var d *dialog.FormDialog
	submit := func(string) { d.Submit() }
	pw.OnSubmitted, pw2.OnSubmitted = submit, submit
	if confirm {
		pw.OnSubmitted = func(string) { s.u.focus(pw2) }
	}
	d = dialog.NewForm(title, action, "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		if err := done(path.Path(), pw.Text); err != nil {
			setError(s.err, err.Error())
		}
	}, s.u.Win)
	d.Resize(fyne.NewSize(560, 0))
	s.u.showDialog(d)
	if path.Path() == "" {
		s.u.focus(path.entry)
	} else {
		s.u.focus(pw)
	}
}

func (s *certsScreen) askExport(id service.Identity) {
	u := s.u
	path := u.savePath(documentsDir(), datedName(id.Subject, "", u.now().Format("2006-01-02"), ".p12"), ".p12", ".pfx")
	s.pathAndPassword("Export certificate and key", "Export", path, true, func(path, pw string) error {
		runErr(u, s.exportOf[id.SHA256], func(ctx context.Context) error { return u.be.ExportIdentity(ctx, id.SHA256, path, pw) },
			func(err error) {
				if err != nil {
					setError(s.err, u.explain(err).Message)
					return
				}
				u.fileWritten("Exported", "The certificate and its key were saved, encrypted with your password, to:", path)
			})
		return nil
	})
}

// fileName makes a certificate's name safe as a file name.
func fileName(name string) string {
	out := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '-'
	}, name)
	if strings.Trim(out, "-.") == "" {
		return "certificate"
	}
	return out
}

func (s *certsScreen) askImport() {
	u := s.u
	path := u.openPath(documentsDir(), "a .p12 or .pfx file (PKCS#12): type its path or press Browse", ".p12", ".pfx")
	s.pathAndPassword("Import a certificate", "Import", path, false, func(path, pw string) error {
		run(u, s.importB, func(ctx context.Context) (service.Identity, error) { return u.be.ImportIdentity(ctx, path, pw) },
			func(id service.Identity, err error) {
				if err != nil {
					setError(s.err, u.explain(err).Message)
					return
				}
				u.info("Imported", id.Subject+" is now in "+id.Store+".")
				s.refresh()
			})
		return nil
	})
}
