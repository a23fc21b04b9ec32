package app

import (
	"context"
	"runtime"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/internal/service"
)

// settingsScreen edits the user's settings; settings fixed by IT policy are shown locked.
type settingsScreen struct {
	u        *UI
	server   *escEntry
	ca       *escEntry
	theme    *widget.RadioGroup
	logLevel *widget.Select
	remember *widget.Check
	d        *dialog.ConfirmDialog
	err      *widget.Label
}

var themeChoices = []string{"Follow the system", "Light", "Dark"}

func themeName(choice string) string {
	switch choice {
	case "Light":
		return "light"
	case "Dark":
		return "dark"
	}
	return "system"
}

func themeChoice(name string) string {
	switch name {
	case "light":
		return "Light"
	case "dark":
		return "Dark"
	}
	return themeChoices[0]
}

// ShowSettings opens the Settings dialog.
func (u *UI) ShowSettings() {
	st := u.be.Settings()
	caPath := u.openPath(documentsDir(), "path of a PEM file from IT (optional)", ".pem", ".crt", ".cer")
	s := &settingsScreen{u: u, server: u.dialogEntry(false), ca: caPath.entry, err: errorLabel(),
		theme:    widget.NewRadioGroup(themeChoices, nil),
		logLevel: widget.NewSelect([]string{"debug", "info", "warn", "error"}, nil),
		remember: widget.NewCheck("Remember my user ID on this computer", nil)}
	s.server.SetText(st.ServerURL)
	s.ca.SetText(st.CABundle)
	s.theme.SetSelected(themeChoice(st.Theme))
	s.theme.Horizontal = true
	lvl := st.LogLevel
	if lvl == "" {
		lvl = "info"
	}
	s.logLevel.SetSelected(lvl)
	s.remember.SetChecked(st.RememberUserID)
	lock := lockMark(st.Locked)
	form := widget.NewForm(
		widget.NewFormItem("Server"+lock(service.KeyServerURL, s.server), s.server),
		widget.NewFormItem("Extra trusted CA"+lock(service.KeyCABundle, caPath), caPath.box),
		widget.NewFormItem("Theme"+lock(service.KeyTheme, s.theme), s.theme),
		widget.NewFormItem("Log level"+lock(service.KeyLogLevel, s.logLevel), container.NewHBox(s.logLevel, widget.NewLabel("(from the next start)"))),
		widget.NewFormItem(""+lock(service.KeyRememberUserID, s.remember), s.remember),
	)
	note := ""
	for _, locked := range st.Locked {
		if locked {
			note = "🔒 Set by your organisation (managed policy); ask your IT department to change it."
			break
		}
	}
	if st.Demo {
		note = strings.TrimSpace(note + "\nDemo mode: the server is the built-in demo server; changes last until the app closes.")
	}
	noteL := wrapped(note)
	dailyForm, saveDaily := u.dailySettingsForm()
	s.server.OnSubmitted = func(string) { s.d.Confirm() }
	s.ca.OnSubmitted = s.server.OnSubmitted
	s.d = dialog.NewCustomConfirm("Settings", "Save", "Cancel", container.NewVBox(form, dailyForm, noteL, s.err), func(ok bool) {
		if ok {
			saveDaily()
			s.save(st)
		}
	}, u.Win)
	s.d.Resize(fyne.NewSize(620, 520))
	u.settings = s
	u.showDialog(s.d)
}

func (s *settingsScreen) save(old service.Settings) {
	u := s.u
	st := old
	st.ServerURL = strings.TrimSpace(s.server.Text)
	st.CABundle = strings.TrimSpace(s.ca.Text)
	st.Theme = themeName(s.theme.Selected)
	st.LogLevel = s.logLevel.Selected
	st.RememberUserID = s.remember.Checked
	runErr(u, nil, func(context.Context) error { return u.be.SaveSettings(st) }, func(err error) {
		if err != nil {
			u.info("Settings not saved", u.explain(err).Message)
			return
		}
		applyTheme(u.App, st.Theme)
		if st.ServerURL != old.ServerURL || st.CABundle != old.CABundle {
			// Another gateway: the session of the old one no longer applies.
			u.me = nil
			u.tabs = nil
			u.Win.SetTitle(Title)
			u.ShowConnect()
		}
	})
}

// ShowAbout shows the versions of the app, the toolkit and the server.
func (u *UI) ShowAbout() {
	v := u.be.Versions()
	rows := [][2]string{
		{"MAG Desktop", v.App}, {"Go", v.Go}, {"Fyne", v.Fyne}, {"System", runtime.GOOS + "/" + runtime.GOARCH},
		{"Server", orNone(v.Server)}, {"API", v.API}, {"Connected to", orNone(u.be.Settings().ServerURL)},
	}
	f := widget.NewForm()
	for _, r := range rows {
		l := widget.NewLabel(r[1])
		l.Selectable = true
		f.Append(r[0], l)
	}
	u.showDialog(dialog.NewCustom("About MAG Desktop", "Close",
		container.NewVBox(wrapped("MAG Desktop: your organisation's identity gateway on the desktop."), f,
			wrapped("Screen readers are not supported by this toolkit version; every action works from the keyboard.")), u.Win))
}
