package app

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/service"
)

// connectScreen asks which gateway to use and checks that it answers and is trusted.
type connectScreen struct {
	u       *UI
	server  *widget.Entry
	ca      *escEntry
	connect *widget.Button
	err     *widget.Label
}

// ShowConnect shows the Connect screen.
func (u *UI) ShowConnect() {
	caPath := u.openPath(documentsDir(), "optional: PEM file from your IT department", ".pem", ".crt", ".cer")
	s := &connectScreen{u: u, server: widget.NewEntry(), ca: caPath.entry, err: errorLabel()}
	st := u.be.Settings()
	s.server.SetPlaceHolder("https://gateway.example.com")
	s.server.SetText(st.ServerURL)
	s.ca.SetText(st.CABundle)
	s.connect = widget.NewButton("Connect", s.submit)
	s.connect.Importance = widget.HighImportance
	s.server.OnSubmitted = func(string) { s.submit() }
	s.ca.OnSubmitted = func(string) { s.submit() }
	form := widget.NewForm()
	if st.Locked[service.KeyServerURL] && st.ServerURL != "" {
		// IT fixed the server: nothing to choose, only the CA can matter.
		form.Append("Server", widget.NewLabel(st.ServerURL+" (set by your organisation)"))
	} else {
		form.Append("Server address", s.server)
	}
	if st.Locked[service.KeyCABundle] {
		form.Append("Extra trusted CA", widget.NewLabel(orNone(st.CABundle)+" (set by your organisation)"))
	} else {
		form.Append("Extra trusted CA", caPath.box)
	}
	u.connect = s
	u.show("Connect", container.NewVBox(
		heading("Connect to your gateway", "Enter the address your organisation gave you (it is in your activation email). "+
			"Only choose a CA file if your IT department gave you one."),
		form, s.err, s.connect,
	), s.server)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func (s *connectScreen) submit() {
	u := s.u
	st := u.be.Settings()
	if !st.Locked[service.KeyServerURL] || st.ServerURL == "" {
		st.ServerURL = strings.TrimSpace(s.server.Text)
	}
	if !st.Locked[service.KeyCABundle] {
		st.CABundle = strings.TrimSpace(s.ca.Text)
	}
	if st.ServerURL == "" {
		setError(s.err, "Enter the server address, for example https://gateway.example.com.")
		return
	}
	setError(s.err, "")
	run(u, s.connect, func(ctx context.Context) (api.Meta, error) {
		if err := u.be.SaveSettings(st); err != nil {
			return api.Meta{}, err
		}
		return u.be.CheckServer(ctx)
	}, func(m api.Meta, err error) {
		if err != nil {
			setError(s.err, u.explain(err).Message)
			return
		}
		if m.APIVersion != "" && m.APIVersion != api.Version {
			setError(s.err, fmt.Sprintf("This server speaks API version %s, but this app needs version %s. "+
				"Ask your IT department which MAG Desktop version to use with it.", m.APIVersion, api.Version))
			return
		}
		u.ShowLogin("")
	})
}
