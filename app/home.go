package app

import (
	"context"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/service"
)

// homeScreen lists the applications with their status and what can be done.
type homeScreen struct {
	u       *UI
	content *fyne.Container
	list    *fyne.Container
	err     *widget.Label
	status  *widget.Label // what the last action outside the app did
	reload  *widget.Button
	apps    []api.Application
	// buttons by app id and action, for keyboard users' focus and for tests.
	buttons     map[string]*widget.Button
	registerOTP *widget.Button // shown while the account should register a credential
}

func newHomeScreen(u *UI) *homeScreen {
	s := &homeScreen{u: u, list: container.NewVBox(), err: errorLabel(), status: wrapped(""), buttons: map[string]*widget.Button{}}
	s.status.Importance = widget.SuccessImportance
	s.status.Hide()
	s.reload = widget.NewButton("Refresh", s.refresh)
	who := u.me.Account.DisplayName + " (" + u.me.Account.UserID + "), " + u.me.Account.Org.Name
	top := container.NewVBox(heading("Your applications", "Signed in as "+who+". Open an application, or request access to one."))
	if slices.Contains(u.me.RequiredActions, actionRegisterCredentials) {
		// The "continue registering credentials" step of the portal, offered right here.
		next := wrapped("Next step: register a stronger credential. Some applications need a one-time code or a certificate besides your password.")
		next.Importance = widget.WarningImportance
		s.registerOTP = widget.NewButton("Register an authenticator app", func() { u.showTab(TabOTP) })
		top.Add(container.NewVBox(next, container.NewHBox(s.registerOTP,
			widget.NewButton("Request a certificate", func() { u.showTab(TabCerts) }))))
	}
	top.Add(s.err)
	top.Add(s.status)
	s.content = container.NewBorder(
		top,
		container.NewHBox(s.reload), nil, nil, container.NewVScroll(s.list))
	return s
}

// actionRegisterCredentials is the required action of an account with only a password.
const actionRegisterCredentials = "register_credentials"

// appBadges are the badges of an application's status.
var appBadges = map[string]badge{
	api.StatusAccessGranted:   {"Ready", widget.SuccessImportance},
	api.StatusAvailable:       {"Available to request", widget.HighImportance},
	api.StatusAccessRequested: {"Requested", widget.WarningImportance},
	api.StatusPendingTerms:    {"Waiting for Terms", widget.WarningImportance},
	api.StatusAccessDenied:    {"Denied", widget.DangerImportance},
	api.StatusSuspended:       {"Suspended", widget.DangerImportance},
}

func (s *homeScreen) refresh() {
	u := s.u
	run(u, s.reload, func(ctx context.Context) ([]api.Application, error) { return u.be.Applications(ctx) },
		func(apps []api.Application, err error) {
			if err != nil {
				s.failed(err)
				return
			}
			setError(s.err, "")
			s.apps = apps
			s.render()
		})
}

// failed shows an error; a lost or mismatched session sends the user back to its fix.
func (s *homeScreen) failed(err error) { s.u.sessionError(err, s.err) }

func (s *homeScreen) render() {
	u := s.u
	s.list.RemoveAll()
	s.buttons = map[string]*widget.Button{}
	if len(s.apps) == 0 {
		s.list.Add(widget.NewLabel("Your organisation has no applications yet."))
	}
	for _, a := range s.apps {
		badge := badgeLabel(appBadges, a.Status)
		text := widget.NewLabel(service.StatusText(a))
		text.Wrapping = fyne.TextWrapWord
		if a.DenyReason != "" {
			text.SetText(text.Text + " Reason: " + a.DenyReason)
		}
		actions := container.NewHBox()
		for _, act := range a.Actions {
			if act == api.ActionViewTerms {
				act = api.ActionAcceptTerms // one "Review" button for both
			}
			if s.buttons[a.AppID+"/"+act] != nil {
				continue
			}
			if b := s.actionButton(a, act); b != nil {
				s.buttons[a.AppID+"/"+act] = b
				actions.Add(b)
			}
		}
		if a.Status == api.StatusPendingTerms && isOrgAdmin(u.me) && s.buttons[a.AppID+"/"+api.ActionAcceptTerms] == nil {
			b := widget.NewButton("Review Terms and Conditions", func() { u.admin.showTerms(a) })
			s.buttons[a.AppID+"/"+api.ActionAcceptTerms] = b
			actions.Add(b)
		}
		name := widget.NewLabelWithStyle(a.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		desc := widget.NewLabel(a.Description)
		desc.Wrapping = fyne.TextWrapWord
		s.list.Add(container.NewVBox(container.NewHBox(name, badge), desc, text, actions, widget.NewSeparator()))
	}
	// A changed list changes sizes: lay the whole screen out again.
	s.content.Refresh()
}

func (s *homeScreen) actionButton(a api.Application, act string) *widget.Button {
	u := s.u
	switch act {
	case api.ActionOpen:
		var b *widget.Button
		b = widget.NewButton("Open Application", func() { s.open(a, b) })
		b.Importance = widget.HighImportance
		return b
	case api.ActionRequestAccess:
		var b *widget.Button
		b = widget.NewButton("Request Access", func() {
			runErr(u, b, func(ctx context.Context) error { return u.be.RequestAccess(ctx, a.AppID) }, func(err error) {
				if err != nil {
					s.failed(err)
					return
				}
				u.info("Access requested", "Your request for "+a.Name+" was sent to your organisation administrator. You will get an email when they decide.")
				s.refresh()
			})
		})
		return b
	case api.ActionAcceptTerms:
		if isOrgAdmin(u.me) && u.admin != nil {
			return widget.NewButton("Review Terms and Conditions", func() { u.admin.showTerms(a) })
		}
	}
	return nil
}

// open asks for a single-use launch link and hands it to the default browser.
func (s *homeScreen) open(a api.Application, b *widget.Button) {
	u := s.u
	run(u, b, func(ctx context.Context) (api.LaunchResponse, error) { return u.be.Launch(ctx, a.AppID) },
		func(l api.LaunchResponse, err error) {
			if err != nil {
				s.failed(err)
				return
			}
			setError(s.err, "")
			u.openLink(b, a.Name, l.LaunchURL, func() {
				u.lastInfo = "Opened " + a.Name + " in your browser."
				s.status.SetText("✓ " + u.lastInfo + " Press Open Application again for a fresh link if you close it.")
				s.status.Show()
			})
		})
}
