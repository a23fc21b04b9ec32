package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/assets/help"
)

// helpView is the offline help: topics on the left, the page with a button to the screen
// that fixes the problem on the right.
type helpView struct {
	u      *UI
	topics []help.Topic
	list   *widget.List
	page   *widget.RichText
	action *widget.Button
	cur    help.Topic
}

func newHelpView(u *UI, topicID string) fyne.CanvasObject {
	h := &helpView{u: u, topics: help.Topics(), page: widget.NewRichText()}
	h.page.Wrapping = fyne.TextWrapWord
	h.action = widget.NewButton("", func() { u.goTo(h.cur.Screen) })
	h.action.Importance = widget.HighImportance
	h.list = widget.NewList(func() int { return len(h.topics) },
		func() fyne.CanvasObject { return widget.NewLabel("Returning to credentialing") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(h.topics[i].Title) })
	h.list.OnSelected = func(i widget.ListItemID) { h.showTopic(h.topics[i]) }
	start := 0
	for i, t := range h.topics {
		if t.ID == topicID {
			start = i
		}
	}
	h.list.Select(start)
	split := container.NewHSplit(h.list, container.NewBorder(nil, container.NewHBox(h.action), nil, nil, container.NewVScroll(h.page)))
	// Wide enough at 800 pixels for the longest title.
	split.Offset = 0.32
	return split
}

func (h *helpView) showTopic(t help.Topic) {
	h.cur = t
	h.page.ParseMarkdown(t.Body)
	h.action.SetText(t.Action)
}

// ShowHelp shows help (topicID empty: the first page). Logged in, it is a tab.
func (u *UI) ShowHelp(topicID string) {
	if u.tabs != nil {
		u.showTab(TabHelp)
		return
	}
	back := widget.NewButton("Back", func() { u.ShowLogin("") })
	u.show("Help", container.NewBorder(heading("Help", ""), back, nil, nil, newHelpView(u, topicID)), nil)
}

// goTo opens the screen a help page points at.
func (u *UI) goTo(screen string) {
	switch screen {
	case help.ScreenSetup:
		if u.me == nil {
			u.ShowSetup("")
		} else {
			u.info("Already set up", "You are logged in, so your account is set up. Log out to set up another account.")
		}
	case help.ScreenLogin:
		if u.me == nil {
			u.ShowLogin("")
		}
	case help.ScreenCerts:
		u.showTab(TabCerts)
	case help.ScreenOTP:
		u.showTab(TabOTP)
	case help.ScreenHome:
		u.showTab(TabHome)
	case help.ScreenSessions:
		u.ConfirmClearSessions()
	case help.ScreenRecover:
		u.ShowRecoverActivation()
	case help.ScreenForgotPwd:
		u.ShowRecoverPassword("")
	}
}
