package app

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/api"
)

// adminScreen is for organisation administrators: Terms and Conditions waiting for them and
// the queue of access requests.
type adminScreen struct {
	u        *UI
	content  *fyne.Container
	pending  *fyne.Container
	requests *fyne.Container
	err      *widget.Label
	reload   *widget.Button
	// Terms view.
	terms  api.Terms
	agree  *widget.Button
	queue  []api.AccessRequest
	decide map[string][2]*widget.Button // request id -> approve, deny
	reason *escEntry                    // of the deny dialog
}

func newAdminScreen(u *UI) *adminScreen {
	s := &adminScreen{u: u, pending: container.NewVBox(), requests: container.NewVBox(), err: errorLabel()}
	s.reload = widget.NewButton("Refresh", s.refresh)
	s.content = container.NewBorder(
		container.NewVBox(heading("Administration", "Terms and Conditions to accept for "+u.me.Account.Org.Name+", and access requests to decide."), s.err),
		container.NewHBox(s.reload), nil, nil,
		container.NewVScroll(container.NewVBox(
			widget.NewLabelWithStyle("Terms and Conditions waiting for you", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			s.pending,
			widget.NewSeparator(),
			widget.NewLabelWithStyle("Access requests", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			s.requests)))
	return s
}

func (s *adminScreen) refresh() {
	u := s.u
	org := u.me.Account.Org.ID
	type data struct {
		apps []api.Application
		reqs []api.AccessRequest
	}
	run(u, s.reload, func(ctx context.Context) (data, error) {
		apps, err := u.be.Applications(ctx)
		if err != nil {
			return data{}, err
		}
		reqs, err := u.be.AccessRequests(ctx, org)
		return data{apps, reqs}, err
	}, func(d data, err error) {
		if err != nil {
			u.sessionError(err, s.err)
			return
		}
		setError(s.err, "")
		s.pending.RemoveAll()
		for _, a := range d.apps {
			if a.Status != api.StatusPendingTerms {
				continue
			}
			s.pending.Add(container.NewHBox(widget.NewLabel(a.Name), widget.NewButton("Read and accept…", func() { s.showTerms(a) })))
		}
		if len(s.pending.Objects) == 0 {
			s.pending.Add(widget.NewLabel("Nothing waiting: every application's terms are accepted."))
		}
		s.renderQueue(d.reqs)
		s.content.Refresh()
	})
}

func (s *adminScreen) renderQueue(reqs []api.AccessRequest) {
	s.queue = reqs
	s.decide = map[string][2]*widget.Button{}
	s.requests.RemoveAll()
	for _, r := range reqs {
		if r.Status != "" && r.Status != "pending" {
			continue
		}
		who := r.DisplayName
		if who == "" {
			who = r.UserID
		}
		approve := widget.NewButton("Approve", nil)
		approve.Importance = widget.SuccessImportance
		deny := widget.NewButton("Deny…", nil)
		approve.OnTapped = func() { s.decideRequest(r, api.DecisionApprove, "", approve) }
		deny.OnTapped = func() { s.askDenyReason(r, deny) }
		s.decide[r.ID] = [2]*widget.Button{approve, deny}
		s.requests.Add(container.NewHBox(
			widget.NewLabel(fmt.Sprintf("%s (%s) asks for %s — %s", who, r.UserID, r.AppName, r.CreatedAt.Local().Format("2 Jan 15:04"))),
			approve, deny))
	}
	if len(s.requests.Objects) == 0 {
		s.requests.Add(widget.NewLabel("No requests waiting."))
	}
}

func (s *adminScreen) askDenyReason(r api.AccessRequest, btn *widget.Button) {
	reason := s.u.dialogEntry(false)
	reason.SetPlaceHolder("Tell the user why (they will see this)")
	reason.Validator = func(t string) error {
		if strings.TrimSpace(t) == "" {
			return fmt.Errorf("give a reason")
		}
		return nil
	}
	s.reason = reason
	d := dialog.NewForm("Deny access to "+r.AppName, "Deny", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Reason", reason)}, func(ok bool) {
			if ok {
				s.decideRequest(r, api.DecisionDeny, strings.TrimSpace(reason.Text), btn)
			}
		}, s.u.Win)
	reason.OnSubmitted = func(string) { d.Submit() }
	s.u.showDialog(d)
	s.u.focus(reason)
}

func (s *adminScreen) decideRequest(r api.AccessRequest, decision, reason string, btn *widget.Button) {
	u := s.u
	runErr(u, btn, func(ctx context.Context) error {
		_, err := u.be.DecideAccess(ctx, u.me.Account.Org.ID, r.ID, decision, reason)
		return err
	}, func(err error) {
		if err != nil {
			u.sessionError(err, s.err)
			return
		}
		verb := "approved: they can now open"
		if decision == api.DecisionDeny {
			verb = "denied for"
		}
		u.info("Request decided", fmt.Sprintf("%s's request was %s %s. They get an email.", r.UserID, verb, r.AppName))
		s.refresh()
	})
}

// showTerms shows an application's service agreement in full with "I Agree".
func (s *adminScreen) showTerms(a api.Application) {
	u := s.u
	u.showTab(TabAdmin)
	org := a.OrgID
	if org == "" {
		org = u.me.Account.Org.ID
	}
	run(u, nil, func(ctx context.Context) (api.Terms, error) { return u.be.Terms(ctx, org, a.AppID) },
		func(t api.Terms, err error) {
			if err != nil {
				u.sessionError(err, s.err)
				return
			}
			s.terms = t
			body := widget.NewLabel(t.Body)
			body.Wrapping = fyne.TextWrapWord
			scroll := container.NewVScroll(body)
			scroll.SetMinSize(fyne.NewSize(560, 320))
			s.agree = widget.NewButton("I Agree", nil)
			s.agree.Importance = widget.HighImportance
			var d *dialog.CustomDialog
			status := fmt.Sprintf("Version %s, published %s.", t.Version, t.PublishedAt.Local().Format("2 January 2006"))
			if t.Accepted {
				status += " Already accepted"
				if t.AcceptedBy != "" {
					status += " by " + t.AcceptedBy
				}
				status += "."
			}
			s.agree.OnTapped = func() { s.accept(a, org, t, d) }
			cancel := widget.NewButton("Not now", func() { d.Hide() })
			intro := widget.NewLabel("Read the agreement for " + t.AppName + ". By pressing I Agree you accept it for everyone in " + u.me.Account.Org.Name + ".")
			intro.Wrapping = fyne.TextWrapWord
			d = dialog.NewCustomWithoutButtons(t.Title,
				container.NewBorder(container.NewVBox(intro, widget.NewLabel(status)), container.NewHBox(s.agree, cancel), nil, nil, scroll), u.Win)
			d.Resize(fyne.NewSize(640, 520))
			u.showDialog(d)
		})
}

func (s *adminScreen) accept(a api.Application, org string, t api.Terms, d dialog.Dialog) {
	u := s.u
	runErr(u, s.agree, func(ctx context.Context) error {
		_, err := u.be.AcceptTerms(ctx, org, a.AppID, t.TermsVersionID)
		return err
	},
		func(err error) {
			if err != nil {
				e := u.explain(err)
				u.info("Terms not accepted", e.Message)
				return
			}
			d.Hide()
			u.info("Terms and Conditions accepted",
				fmt.Sprintf("You accepted \"%s\" (version %s) for %s. Users in your organisation can now request access to %s, "+
					"and you decide their requests here under Access requests.", t.Title, t.Version, u.me.Account.Org.Name, t.AppName))
			s.refresh()
			if u.home != nil {
				u.home.refresh()
			}
		})
}
