package app

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/service"
	"github.com/mag-desktop/magdesk/internal/setup"
)

// setupScreen is the first-time-setup wizard: link, password, security questions, summary.
type setupScreen struct {
	u *UI
	// st is the setup's state as the service last kept it; token the link's token.
	st    setup.State
	token string
	body  *fyne.Container // the current page, laid out again when feedback changes size
	info  api.ActivationInfo
	err   *widget.Label

	// Step 1.
	link *submitEntry
	next *widget.Button
	// Step 2: the password stays in these entries only (never saved).
	password, confirm *widget.Entry
	feedback          *widget.Label
	meter             *strengthMeter
	pwNext            *widget.Button
	// Step 3.
	catalogue []api.SecurityQuestion
	selects   []*widget.Select
	answers   []*widget.Entry
	qHint     *widget.Label // what is still to do, in plain words (not an error)
	qNext     *widget.Button
	// Step 4.
	activate    *widget.Button
	summaryBack *widget.Button // disabled while the activation runs (it changes the same state)
	loginNow    *widget.Button
}

// ShowSetup opens the wizard; link, when given (a magdesk://activate link from the command
// line or a second start), is checked right away.
func (u *UI) ShowSetup(link string) {
	s := &setupScreen{u: u, err: errorLabel()}
	u.wizard = s
	s.showLink(link)
	if link != "" {
		s.submitLink()
	}
}

// offerResume asks whether to continue an interrupted setup.
func (u *UI) offerResume() {
	// The progress file is read off the UI goroutine, like every setup call.
	run(u, nil, func(ctx context.Context) (setup.State, error) { return u.be.SetupProgress(ctx) }, func(st setup.State, err error) {
		if err != nil {
			u.info("Setup progress", u.explain(err).Message)
			return
		}
		if st.Resumable() {
			u.askResume(st)
		}
	})
}

func (u *UI) askResume(st setup.State) {
	d := dialog.NewConfirm("Continue setting up your account?",
		fmt.Sprintf("You started setting up %s (%s) and stopped at the %s step.\n"+
			"Nothing secret was saved, so you will type your password and answers again.", st.UserID, st.OrgName, st.Step),
		func(ok bool) {
			if !ok {
				// The keyring may be slow (or ask to be unlocked): not on the UI goroutine.
				runErr(u, nil, func(ctx context.Context) error { return u.be.SetupAbandon(ctx) }, func(error) {})
				return
			}
			u.resumeSetup(st)
		}, u.Win)
	d.SetConfirmText("Continue")
	d.SetDismissText("Start over later")
	u.showDialog(d)
}

func (u *UI) resumeSetup(st setup.State) {
	s := &setupScreen{u: u, st: st, err: errorLabel()}
	u.wizard = s
	s.showLink("")
	type resumed struct {
		token string
		st    setup.State
	}
	run(u, s.next, func(ctx context.Context) (resumed, error) {
		// The token comes back from the keyring, which may block.
		tok, err := u.be.SetupResume(ctx)
		if err != nil {
			return resumed{}, err
		}
		// The password is never saved, so a resumed setup always asks for it again; the
		// question choices are kept.
		st, err := u.be.SetupStep(ctx, setup.BackTo(setup.StepPassword))
		return resumed{tok, st}, err
	}, func(r resumed, err error) {
		if err != nil {
			setError(s.err, u.explain(err).Message)
			return
		}
		s.st, s.token = r.st, r.token
		s.inspect(r.token, true)
	})
}

func (s *setupScreen) page(step int, title, explain string, body ...fyne.CanvasObject) fyne.CanvasObject {
	total := 4
	if s.info.UserID != "" && s.info.SecurityQuestionsRequired == 0 {
		total = 3 // the server has security questions switched off
	}
	// The step count sits beside the title: at 800x600 every line counts.
	crumbs := widget.NewLabel(fmt.Sprintf("Step %d of %d", min(step, total), total))
	t := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	t.SizeName = theme.SizeNameSubHeadingText
	e := wrapped(explain)
	objs := append([]fyne.CanvasObject{container.NewBorder(nil, nil, nil, crumbs, t), e}, body...)
	s.body = container.NewVBox(append(objs, s.err)...)
	return s.body
}

func (s *setupScreen) showLink(link string) {
	u := s.u
	s.link = newSubmitEntry()
	s.link.OnSubmitted = func(string) { s.submitLink() }
	s.link.Wrapping = fyne.TextWrapBreak
	s.link.SetMinRowsVisible(3)
	s.link.SetPlaceHolder("magdesk://activate?token=…  or  https://…/activate#token=…  or the token alone")
	s.link.SetText(link)
	s.next = widget.NewButton("Continue", s.submitLink)
	s.next.Importance = widget.HighImportance
	help := widget.NewButton("Link doesn't work?", u.ShowRecoverActivation)
	back := widget.NewButton("Back to login", func() { u.ShowLogin("") })
	u.show("Setup: link", s.page(1, "First-time setup",
		"Open the activation email from your organisation and copy either link in it (or just the token). "+
			"Paste it here. Don't use the browser's Back button during setup — this app keeps your place.",
		s.link, container.NewHBox(s.next, help, back)), s.link)
}

func (s *setupScreen) submitLink() {
	token, err := s.u.be.ParseActivationLink(s.link.Text)
	if err != nil {
		setError(s.err, s.u.explain(err).Message)
		return
	}
	s.inspect(token, false)
}

func (s *setupScreen) inspect(token string, resumed bool) {
	u := s.u
	setError(s.err, "")
	type result struct {
		info     api.ActivationInfo
		qs       []api.SecurityQuestion
		st       setup.State
		beginErr error
	}
	keep := !resumed
	run(u, s.next, func(ctx context.Context) (result, error) {
		info, err := u.be.InspectActivation(ctx, token)
		if err != nil {
			return result{}, err
		}
		var qs []api.SecurityQuestion
		if info.SecurityQuestionsRequired > 0 {
			if qs, err = u.be.SecurityQuestions(ctx); err != nil {
				return result{}, err
			}
		}
		r := result{info: info, qs: qs, st: s.st}
		if keep || s.st.UserID != info.UserID {
			// Recorded for a resume: the token goes to the keyring, off the UI goroutine.
			r.st, r.beginErr = u.be.SetupBegin(ctx, token, setup.Info{ServerURL: u.be.Settings().ServerURL, UserID: info.UserID,
				DisplayName: info.DisplayName, OrgName: info.OrgName,
				NeedsQuestions: info.SecurityQuestionsRequired > 0, ExpiresAt: info.ExpiresAt})
		}
		return r, nil
	}, func(r result, err error) {
		if err != nil {
			e := u.explain(err)
			msg := e.Message
			if e.Kind == service.KindActivationLink {
				msg += " Use \"Link doesn't work?\" to get a new email."
			}
			setError(s.err, msg)
			return
		}
		s.info, s.catalogue, s.st, s.token = r.info, r.qs, r.st, token
		if r.beginErr != nil {
			u.info("Setup can't be resumed later", r.beginErr.Error())
		}
		s.showPassword()
	})
}

func (s *setupScreen) who() string {
	name := s.info.DisplayName
	if name == "" {
		name = s.info.UserID
	}
	return fmt.Sprintf("Account: %s — user ID %s, organisation %s", name, s.info.UserID, s.info.OrgName)
}

func (s *setupScreen) showPassword() {
	u := s.u
	s.password, s.confirm = widget.NewPasswordEntry(), widget.NewPasswordEntry()
	s.feedback = widget.NewLabel("")
	s.feedback.Wrapping = fyne.TextWrapWord
	s.meter = newStrengthMeter()
	s.pwNext = widget.NewButton("Next", s.passwordDone)
	s.pwNext.Importance = widget.HighImportance
	s.password.OnChanged = func(string) { s.checkPassword() }
	s.confirm.OnChanged = func(string) { s.checkPassword() }
	s.password.OnSubmitted = func(string) { u.focus(s.confirm) }
	s.confirm.OnSubmitted = func(string) { s.passwordDone() }
	pol := s.info.PasswordPolicy
	rules := fmt.Sprintf("Choose a password of at least %d characters. A few unrelated words make a long password that is easy to remember. "+
		"There are no rules about symbols or capitals; very common passwords are refused.", pol.MinLength)
	form := widget.NewForm(widget.NewFormItem("New password", s.password), widget.NewFormItem("Type it again", s.confirm))
	u.show("Setup: password", s.page(2, "Choose your password", rules,
		widget.NewLabel(s.who()), form, s.meter.box, s.feedback,
		container.NewHBox(s.pwNext, widget.NewButton("Cancel", func() { u.ShowLogin("") }))), s.password)
	s.checkPassword()
}

func (s *setupScreen) checkPassword() {
	fb := setup.CheckPassword(s.password.Text, s.confirm.Text, s.info.PasswordPolicy, s.info.UserID, s.info.DisplayName, s.info.OrgName)
	s.meter.set(fb.Strength, s.password.Text == "")
	if fb.OK {
		s.feedback.SetText("✓ This password meets the rules.")
		s.pwNext.Enable()
	} else {
		s.feedback.SetText(strings.Join(fb.Problems, "\n"))
		s.pwNext.Disable()
	}
	s.body.Refresh()
}

func (s *setupScreen) passwordDone() {
	if s.pwNext.Disabled() {
		return
	}
	s.step(s.pwNext, setup.PasswordChosen, func() {
		if s.info.SecurityQuestionsRequired > 0 {
			s.showQuestions()
		} else {
			s.showSummary()
		}
	})
}

// step applies a transition through the service (the file and keyring are not touched on the
// UI goroutine), then shows what follows.
func (s *setupScreen) step(b *widget.Button, t setup.Transition, then func()) {
	run(s.u, b, func(ctx context.Context) (setup.State, error) { return s.u.be.SetupStep(ctx, t) }, func(st setup.State, err error) {
		if err != nil {
			setError(s.err, s.u.explain(err).Message)
			return
		}
		setError(s.err, "")
		s.st = st
		then()
	})
}

func (s *setupScreen) showQuestions() {
	u := s.u
	texts := make([]string, len(s.catalogue))
	for i, q := range s.catalogue {
		texts[i] = q.Text
	}
	saved := s.st.QuestionIDs
	// Answers typed before (going back and forth) are kept in memory, never saved.
	var typed []string
	for _, a := range s.answers {
		typed = append(typed, a.Text)
	}
	s.selects, s.answers, s.qNext = nil, nil, nil
	form := widget.NewForm()
	for i := 0; i < setup.QuestionsRequired; i++ {
		sel := widget.NewSelect(texts, func(string) { s.offerUnchosen(); s.checkQuestions() })
		sel.PlaceHolder = "Choose a question"
		ans := widget.NewEntry()
		ans.SetPlaceHolder("Your answer")
		if i < len(typed) {
			ans.SetText(typed[i])
		}
		ans.OnChanged = func(string) { s.checkQuestions() }
		// Enter moves on to the next question (the last one submits, below).
		ans.OnSubmitted = func(string) {
			if i+1 < setup.QuestionsRequired {
				u.focus(s.selects[i+1])
			}
		}
		s.selects, s.answers = append(s.selects, sel), append(s.answers, ans)
		form.Append(fmt.Sprintf("Question %d", i+1), sel)
		form.Append("Answer", ans)
	}
	for i, sel := range s.selects {
		if i < len(saved) {
			sel.SetSelected(s.questionText(saved[i]))
		}
	}
	s.offerUnchosen()
	s.qHint = wrapped("")
	s.answers[len(s.answers)-1].OnSubmitted = func(string) { s.questionsDone() }
	s.qNext = widget.NewButton("Next", s.questionsDone)
	s.qNext.Importance = widget.HighImportance
	var back *widget.Button
	back = widget.NewButton("Back", func() { s.step(back, setup.Back, s.showPassword) })
	u.show("Setup: questions", s.page(3, "Security questions",
		"Pick four different questions and answer them. They are only used, with a code sent to your email, if you ever forget your password. "+
			"Answers are not case sensitive.",
		form, s.qHint, container.NewHBox(s.qNext, back)), s.selects[0])
	s.checkQuestions()
}

func (s *setupScreen) questionText(id string) string {
	for _, q := range s.catalogue {
		if q.ID == id {
			return q.Text
		}
	}
	return ""
}

func (s *setupScreen) questionIDs() []string {
	ids := make([]string, len(s.selects))
	for i, sel := range s.selects {
		for _, q := range s.catalogue {
			if sel.Selected != "" && q.Text == sel.Selected {
				ids[i] = q.ID
			}
		}
	}
	return ids
}

// offerUnchosen offers in each list only the questions not chosen in another list.
func (s *setupScreen) offerUnchosen() {
	for i, sel := range s.selects {
		taken := map[string]bool{}
		for j, other := range s.selects {
			if j != i && other.Selected != "" {
				taken[other.Selected] = true
			}
		}
		var opts []string
		for _, q := range s.catalogue {
			if !taken[q.Text] {
				opts = append(opts, q.Text)
			}
		}
		sel.SetOptions(opts)
	}
}

// checkQuestions enables Next only with four different questions, each answered. What is
// left to do is a plain hint, not an error: nothing is wrong before the user has chosen.
func (s *setupScreen) checkQuestions() {
	if s.qNext == nil {
		return
	}
	var todo []string
	for i, sel := range s.selects {
		switch {
		case sel.Selected == "":
			todo = append(todo, fmt.Sprintf("choose question %d", i+1))
		case strings.TrimSpace(s.answers[i].Text) == "":
			todo = append(todo, fmt.Sprintf("answer question %d", i+1))
		}
	}
	msg := ""
	if setup.CheckDistinct(s.questionIDs()) != nil && len(todo) == 0 {
		// Only a restored choice can repeat a question: the lists offer each one once.
		msg = "Choose four different questions."
	}
	setError(s.err, msg)
	if len(todo) > 0 {
		s.qHint.SetText("Still to do: " + strings.Join(todo, ", ") + ".")
		s.qHint.Show()
	} else {
		s.qHint.Hide()
	}
	if msg == "" && len(todo) == 0 {
		s.qNext.Enable()
	} else {
		s.qNext.Disable()
	}
}

func (s *setupScreen) questionsDone() {
	if s.qNext.Disabled() {
		return
	}
	s.step(s.qNext, setup.QuestionsChosen(s.questionIDs()), s.showSummary)
}

func (s *setupScreen) showSummary() {
	u := s.u
	lines := []string{s.who(), "Password: chosen (it is not shown or saved anywhere)"}
	for i, id := range s.st.QuestionIDs {
		lines = append(lines, fmt.Sprintf("Question %d: %s", i+1, s.questionText(id)))
	}
	summary := widget.NewLabel(strings.Join(lines, "\n"))
	summary.Wrapping = fyne.TextWrapWord
	s.activate = widget.NewButton("Activate my account", s.complete)
	s.activate.Importance = widget.HighImportance
	s.loginNow = widget.NewButton("Log in now", func() { u.showLogin(s.info.UserID, true) })
	s.loginNow.Importance = widget.HighImportance
	s.loginNow.Hide()
	var back *widget.Button
	back = widget.NewButton("Back", func() {
		s.step(back, setup.Back, func() {
			if s.st.Step == setup.StepQuestions {
				s.showQuestions()
			} else {
				s.showPassword()
			}
		})
	})
	s.summaryBack = back
	u.show("Setup: summary", s.page(4, "Check and activate", "Check the details, then activate your account.",
		summary, container.NewHBox(s.activate, back), s.loginNow), s.activate)
}

func (s *setupScreen) complete() {
	u := s.u
	req := api.ActivationCompleteRequest{Token: s.token, Password: s.password.Text, PasswordConfirm: s.confirm.Text}
	for i, id := range s.questionIDs() {
		req.SecurityAnswers = append(req.SecurityAnswers, api.SecurityAnswer{QuestionID: id, Answer: s.answers[i].Text})
	}
	s.summaryBack.Disable()
	run(u, s.activate, func(ctx context.Context) (api.ActivationCompleteResponse, error) {
		resp, err := u.be.CompleteActivation(ctx, req)
		if err == nil {
			// Forget the progress and the token (keyring): off the UI goroutine.
			_ = u.be.SetupDone(ctx)
		}
		return resp, err
	}, func(_ api.ActivationCompleteResponse, err error) {
		s.summaryBack.Enable()
		if err != nil {
			e := u.explain(err)
			say := func() { setError(s.err, e.Message) }
			switch e.Code {
			case api.CodePasswordBlocklisted, api.CodePasswordTooShort, api.CodePasswordTooLong, api.CodePasswordMismatch:
				// Back to the password step, with the server's reason; the answers are kept.
				s.step(nil, setup.BackTo(setup.StepPassword), func() { s.showPassword(); say() })
			case api.CodeSecurityQuestionsInvalid:
				s.step(nil, setup.BackTo(setup.StepQuestions), func() { s.showQuestions(); say() })
			default:
				say()
			}
			return
		}
		setError(s.err, "")
		s.activate.Hide()
		s.summaryBack.Hide()
		s.loginNow.Show()
		u.focus(s.loginNow)
		u.screen = "Setup: done"
		u.screenShown(u.screen)
	})
}
