package app

import (
	"context"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
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
	// attention lists what needs doing soon (certificates to renew, the session's end).
	attention *fyne.Container
	renewOf   map[string]*widget.Button
	// needs is each application's "What does this application need?" line, by app id.
	needs  map[string]*widget.Label
	stepUp *stepUpForm
}

// stepUpForm is the open "log in again with a second factor" dialog (tests fill and submit it).
type stepUpForm struct {
	dialog        *dialog.FormDialog
	password, otp *escEntry
	err           *widget.Label
}

func newHomeScreen(u *UI) *homeScreen {
	s := &homeScreen{u: u, list: container.NewVBox(), err: errorLabel(), status: wrapped(""), buttons: map[string]*widget.Button{},
		attention: container.NewVBox(), renewOf: map[string]*widget.Button{}, needs: map[string]*widget.Label{}}
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
	top.Add(s.attention)
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
	s.needs = map[string]*widget.Label{}
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
		need := wrapped("What does this application need? " + appNeeds(a, u.me.Session))
		if a.RequiredAAL > u.me.Session.AAL {
			need.Importance = widget.WarningImportance
		}
		s.needs[a.AppID] = need
		s.list.Add(container.NewVBox(container.NewHBox(name, badge), desc, text, need, actions, widget.NewSeparator()))
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
			runErr(u, b, func(ctx context.Context) error { _, err := u.be.RequestAccess(ctx, a.AppID); return err }, func(err error) {
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

// open asks for a single-use launch link and hands it to the default browser. An application
// that needs a stronger login than this session's offers the step-up instead of failing.
func (s *homeScreen) open(a api.Application, b *widget.Button) {
	u := s.u
	if a.RequiredAAL > u.me.Session.AAL {
		s.askStepUp(a)
		return
	}
	run(u, b, func(ctx context.Context) (api.LaunchResponse, error) { return u.be.Launch(ctx, a.AppID) },
		func(l api.LaunchResponse, err error) {
			if client.HasCode(err, api.CodeStepUpRequired) {
				s.askStepUp(a)
				return
			}
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

// appNeeds says what strength of login an application needs and whether this session has it.
func appNeeds(a api.Application, sess api.SessionInfo) string {
	if a.RequiredAAL <= 1 {
		return "Your password. This session has it."
	}
	if sess.AAL >= a.RequiredAAL {
		return "A second factor besides your password (a one-time code or a certificate). This session has it."
	}
	return "A second factor besides your password (a one-time code or a certificate). This session has only your password: " +
		"Open Application asks you to log in again with your one-time code or certificate."
}

// renderAttention shows what needs doing soon: certificates to renew and the session's end.
func (s *homeScreen) renderAttention() {
	u := s.u
	s.attention.RemoveAll()
	s.renewOf = map[string]*widget.Button{}
	for _, c := range u.needsAttention() {
		l := wrapped("Your certificate " + c.Subject + " (in " + c.Store + "): " + c.Expiry.Sentence + ".")
		l.Importance = widget.WarningImportance
		row := container.NewVBox(l)
		if c.Expiry.Renewable {
			b := widget.NewButton("Renew now…", func() { u.showRenew(c) })
			b.Importance = widget.HighImportance
			s.renewOf[c.SHA256] = b
			row.Add(container.NewHBox(b))
		}
		s.attention.Add(row)
	}
	if u.me != nil {
		if e := service.SessionExpiry(u.me.Session, u.now()); e.Sentence != "" {
			l := wrapped(e.Sentence + ".")
			l.Importance = widget.WarningImportance
			s.attention.Add(l)
		}
	}
	s.content.Refresh()
}

// askStepUp offers to log in again with a second factor, then opens the application.
func (s *homeScreen) askStepUp(a api.Application) {
	u := s.u
	f := &stepUpForm{password: u.dialogEntry(true), otp: u.dialogEntry(false), err: errorLabel()}
	f.otp.SetPlaceHolder("6-digit code")
	intro := wrapped(a.Name + " needs a login with a second factor, and this session has only your password. Log in again: " +
		"your certificate on this computer is used if you have one; otherwise type the code from your authenticator app.")
	items := []*widget.FormItem{{Widget: intro}, {Text: "Password", Widget: f.password}}
	if u.me.Account.TOTPEnabled {
		items = append(items, &widget.FormItem{Text: "One-time code", Widget: f.otp})
	}
	items = append(items, &widget.FormItem{Widget: f.err})
	f.dialog = dialog.NewForm("Log in again for "+a.Name, "Log in and open", "Cancel", items, func(ok bool) {
		s.stepUp = nil
		if ok {
			s.stepUpLogin(a, f.password.Text, f.otp.Text)
		}
	}, u.Win)
	f.dialog.Resize(fyne.NewSize(560, 320))
	s.stepUp = f
	u.showDialog(f.dialog)
}

func (s *homeScreen) stepUpLogin(a api.Application, password, otp string) {
	u := s.u
	req := service.LoginRequest{UserID: u.me.Account.UserID, Password: password, OTP: strings.TrimSpace(otp)}
	run(u, nil, func(ctx context.Context) (api.Me, error) { return u.be.Login(ctx, req) }, func(me api.Me, err error) {
		switch {
		case err != nil:
			e := u.explain(err)
			if _, mfa := client.IsMFARequired(err); mfa {
				e.Message = "This account needs the one-time code from your authenticator app: type it too."
			}
			setError(s.err, a.Name+" was not opened: "+e.Message)
		case me.Session.AAL < a.RequiredAAL:
			setError(s.err, a.Name+" was not opened: that login used only your password. Register an authenticator app or request a certificate first (Security codes, Certificates).")
		default:
			u.setMe(me)
			u.startDaily()
			u.home.open(a, nil)
		}
	})
}
