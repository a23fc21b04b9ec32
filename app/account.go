package app

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/service"
)

// accountScreen is "Me": who is logged in, organisation, roles and how strong the session is.
type accountScreen struct {
	u       *UI
	content *fyne.Container
	details *widget.Form
	err     *widget.Label
	reload  *widget.Button
	// others lists the other accounts cached for this server, each with a button to use it.
	others *fyne.Container
	me     api.Me
}

func newAccountScreen(u *UI) *accountScreen {
	s := &accountScreen{u: u, details: widget.NewForm(), err: errorLabel(), others: container.NewVBox()}
	s.reload = widget.NewButton("Refresh", s.refresh)
	s.content = container.NewBorder(
		container.NewVBox(heading("My Account", "Who you are logged in as, and how strongly."), s.err), nil, nil, nil,
		container.NewVScroll(container.NewVBox(s.details, s.others,
			container.NewHBox(
				widget.NewButton("Manage one-time codes", func() { u.showTab(TabOTP) }),
				widget.NewButton("Certificates", func() { u.showTab(TabCerts) }),
				widget.NewButton("Clear cached sessions…", u.ConfirmClearSessions),
				widget.NewButton("Log out", u.Logout),
				s.reload))))
	s.fill(*u.me)
	return s
}

func (s *accountScreen) refresh() {
	u := s.u
	run(u, s.reload, func(ctx context.Context) (api.Me, error) { return u.be.Me(ctx) }, func(me api.Me, err error) {
		if err != nil {
			u.sessionError(err, s.err)
			return
		}
		setError(s.err, "")
		s.fill(me)
		s.listOthers()
	})
}

// listOthers shows the other accounts whose sessions are cached for this server: using one
// switches to it without a password.
func (s *accountScreen) listOthers() {
	u := s.u
	run(u, nil, u.be.CachedSessions, func(list []service.CachedSession, err error) {
		s.others.RemoveAll()
		server, _ := client.NormalizeServerURL(u.be.Settings().ServerURL)
		for _, c := range list {
			if err != nil || c.Server != server || c.RevokePending || c.UserID == s.me.Account.UserID {
				continue
			}
			if len(s.others.Objects) == 0 {
				s.others.Add(widget.NewLabelWithStyle("Other accounts logged in on this computer", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
			}
			var use *widget.Button
			use = widget.NewButton("Use", func() { s.use(use, c.UserID) })
			s.others.Add(container.NewBorder(nil, nil, nil, use, widget.NewLabel(c.UserID+" — "+c.DisplayName)))
		}
		s.others.Refresh()
	})
}

func (s *accountScreen) use(b *widget.Button, userID string) {
	u := s.u
	run(u, b, func(ctx context.Context) (api.Me, error) { return u.be.SwitchSession(ctx, userID) }, func(me api.Me, err error) {
		if err != nil {
			// This window's own session is untouched: say why that account can't be used.
			setError(s.err, u.explain(err).Message)
			s.listOthers()
			return
		}
		u.enter(me)
	})
}

// sessionStrength says in words how the session was authenticated.
func sessionStrength(si api.SessionInfo) string {
	words := map[string]string{"pwd": "password", "otp": "one-time code", "x509": "certificate"}
	var used []string
	for _, m := range si.AMR {
		if w, ok := words[m]; ok {
			used = append(used, w)
		} else {
			used = append(used, m)
		}
	}
	level := "basic (password only)"
	if si.AAL >= 2 {
		level = "strong (two factors)"
	}
	if len(used) == 0 {
		return level
	}
	return fmt.Sprintf("%s — %s", level, strings.Join(used, " + "))
}

func (s *accountScreen) fill(me api.Me) {
	s.me = me
	a := me.Account
	roles := make([]string, 0, len(a.Roles))
	for _, r := range a.Roles {
		if r == api.RoleOrgAdmin {
			roles = append(roles, "organisation administrator")
		} else {
			roles = append(roles, r)
		}
	}
	otp := "not registered"
	if a.TOTPEnabled {
		otp = "registered"
	}
	rows := [][2]string{
		{"Name", a.DisplayName}, {"User ID", a.UserID}, {"Email", a.Email}, {"Organisation", a.Org.Name},
		{"Roles", strings.Join(roles, ", ")}, {"Session", sessionStrength(me.Session)},
		{"Session ends", me.Session.ExpiresAt.Local().Format("2 Jan 2006 15:04")}, {"Authenticator app", otp},
	}
	s.details.Items = nil
	for _, r := range rows {
		l := widget.NewLabel(r[1])
		l.Selectable = true
		s.details.Append(r[0], l)
	}
	s.content.Refresh()
}
