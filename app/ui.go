// Package app is the MAG Desktop window: screens, navigation and dialogs, written in Fyne
// against service.Backend. It does no network or store work itself, and touches widgets only on
// the Fyne goroutine (work runs in goroutines that hand results back with fyne.Do).
package app

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/service"
)

// Title is the window title; the logged-in title adds the user id so scripts (and users) can
// tell which account the window is on.
const Title = "MAG Desktop"

// UI is the one window of the app.
type UI struct {
	App fyne.App
	Win fyne.Window
	be  service.Backend
	now func() time.Time

	ctx    context.Context
	cancel context.CancelFunc
	// busy counts work running off the UI goroutine whose result has not reached the UI yet.
	busy  atomic.Int64
	inbox chan func()

	me *api.Me // nil while logged out
	// pendingTab is shown right after the next login (a my-account link came in).
	pendingTab string
	demo       *Demo
	// lastInfo is the last information shown in a dialog (tests read what the user read).
	lastInfo string
	dialogs  []dialog.Dialog

	// OpenURL opens a link in the default browser or a folder in the file manager (the system
	// opener unless a test replaces it); it may block for a moment, so it runs off the UI goroutine.
	OpenURL func(*url.URL) error
	// OnScreen is called with the name of every screen shown (logging, smoke tests).
	OnScreen func(name string)

	// The screens, kept so tests and menu actions can reach them.
	connect  *connectScreen
	login    *loginScreen
	wizard   *setupScreen
	home     *homeScreen
	admin    *adminScreen
	account  *accountScreen
	certs    *certsScreen
	otp      *otpScreen
	settings *settingsScreen
	fix      *fix2035
	recover  *recoverScreen
	// supportPath is the path entry of the support-bundle dialog.
	supportPath *escEntry
	// doctor is the connection check dialog's content, for tests.
	doctor *doctorView
	tabs   *container.AppTabs
	screen string
	// pendingFocus is the widget to focus once the current events are handled (UI.focus).
	pendingFocus fyne.Focusable
	day          daily
}

// New builds the UI for a window. Call Start to show the first screen.
func New(a fyne.App, w fyne.Window, be service.Backend) *UI {
	ctx, cancel := context.WithCancel(context.Background())
	u := &UI{App: a, Win: w, be: be, now: time.Now, ctx: ctx, cancel: cancel, OpenURL: openWithSystem}
	applyTheme(a, be.Settings().Theme)
	w.SetTitle(Title)
	w.Canvas().SetOnTypedKey(u.typedKey)
	u.addTabShortcuts()
	w.SetOnClosed(cancel)
	return u
}

// InstallMenu adds the main menu. The caller does it once the first frame is up: drawing the
// menu bar in the first frame delays that frame noticeably (BenchmarkStartup shows it).
func (u *UI) InstallMenu() { u.Win.SetMainMenu(u.mainMenu()) }

// Start shows the first screen: Connect when no server is known, an offer to resume an
// interrupted setup, the setup wizard for a magdesk://activate link in args, else Login.
func (u *UI) Start(args []string) {
	if link := activationLink(args); link != "" {
		u.ShowSetup(link)
		return
	}
	if credentialsLink(args) {
		u.pendingTab = TabOTP
	}
	if strings.TrimSpace(u.be.Settings().ServerURL) == "" {
		u.ShowConnect()
		return
	}
	u.ShowLogin("")
	u.resumeSession()
}

// resumeSession continues a cached session of the remembered user; a session of another
// account leads to the offer to clear cached sessions.
func (u *UI) resumeSession() {
	run(u, nil, u.be.ResumeSession, func(me api.Me, err error) {
		switch {
		case err == nil:
			u.enter(me)
		case errors.Is(err, service.ErrNoCachedSession):
			u.offerResume()
		default:
			e := u.explain(err)
			setError(u.login.err, e.Message)
			if e.Kind == service.KindAccountMismatch {
				u.ConfirmClearSessions()
			}
		}
	})
}

// Notice tells the user something they should know, in a dialog.
func (u *UI) Notice(title, msg string) { u.info(title, msg) }

// ShowWaiting shows a message while the app gets ready (the demo gateway starting).
func (u *UI) ShowWaiting(msg string) {
	bar := widget.NewProgressBarInfinite()
	u.show("Starting", container.NewVBox(widget.NewLabel(msg), bar), nil)
	u.day.waiting = bar
}

// HandleArgs is called (on any goroutine) with the arguments of a second start of the app.
func (u *UI) HandleArgs(args []string) {
	fyne.Do(func() {
		u.ShowWindow()
		if credentialsLink(args) {
			if u.me != nil {
				u.showTab(TabOTP)
			} else {
				u.pendingTab = TabOTP
			}
			return
		}
		if link := activationLink(args); link != "" {
			if u.me != nil {
				u.info("Activation link", "You are logged in. Log out first to set up another account with this link.")
				return
			}
			u.ShowSetup(link)
		}
	})
}

// Demo is what `magdesk --demo` shows on the Login screen: throwaway accounts and the
// activation link of the pending one.
type Demo struct {
	Lines          []string
	ActivationLink string
}

// SetDemo shows the demo accounts on the Login screen.
func (u *UI) SetDemo(d *Demo) { u.demo = d }

// Close cancels running work.
func (u *UI) Close() { u.cancel() }

// Screen is the name of the screen shown.
func (u *UI) Screen() string { return u.screen }

// credentialsLink reports the "continue registering credentials" link of the Login Success
// email (magdesk://my-account/credentials).
func credentialsLink(args []string) bool {
	for _, a := range args {
		if strings.HasPrefix(strings.ToLower(a), "magdesk://my-account") {
			return true
		}
	}
	return false
}

func activationLink(args []string) string {
	for _, a := range args {
		if strings.HasPrefix(strings.ToLower(a), "magdesk://activate") {
			return a
		}
	}
	return ""
}

// show replaces the window content with a logged-out screen.
func (u *UI) show(name string, content fyne.CanvasObject, focus fyne.Focusable) {
	u.stopWaiting()
	u.screen = name
	u.tabs = nil
	links := container.NewHBox(
		widget.NewButton("Help", func() { u.ShowHelp("") }),
		widget.NewButton("Settings", u.ShowSettings),
		widget.NewButton("About", u.ShowAbout),
	)
	u.setContent(container.NewBorder(nil, container.NewCenter(links), nil, nil,
		container.NewVScroll(container.NewPadded(content))))
	if focus != nil {
		u.focus(focus)
	}
	u.screenShown(name)
}

// setContent replaces the window's content. The focused field is unfocused first: Fyne keeps
// a field that left the window focused, and its cursor animation then redraws the window
// until the toolkit's cache drops the field, about a minute later.
func (u *UI) setContent(c fyne.CanvasObject) {
	u.Win.Canvas().Unfocus()
	u.Win.SetContent(c)
}

func (u *UI) screenShown(name string) {
	if u.OnScreen != nil {
		u.OnScreen(name)
	}
}

// heading is a screen title with a line of plain-words explanation.
func heading(title, explain string) fyne.CanvasObject {
	t := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	t.SizeName = theme.SizeNameSubHeadingText
	if explain == "" {
		return t
	}
	e := widget.NewLabel(explain)
	e.Wrapping = fyne.TextWrapWord
	return container.NewVBox(t, e)
}

// errorLabel is where a form says what went wrong and what to do.
func errorLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	return l
}

func setError(l *widget.Label, msg string) {
	l.SetText(msg)
	if msg == "" {
		l.Hide()
	} else {
		l.Show()
	}
}

// showDialog shows d and remembers it so Esc can close it.
func (u *UI) showDialog(d dialog.Dialog) {
	u.dialogs = append(u.dialogs, d)
	d.SetOnClosed(func() { u.forgetDialog(d) })
	d.Show()
}

func (u *UI) forgetDialog(d dialog.Dialog) {
	for i, x := range u.dialogs {
		if x == d {
			u.dialogs = append(u.dialogs[:i], u.dialogs[i+1:]...)
			return
		}
	}
}

// TopDialog is the dialog Esc would close, if any.
func (u *UI) TopDialog() dialog.Dialog {
	if len(u.dialogs) == 0 {
		return nil
	}
	return u.dialogs[len(u.dialogs)-1]
}

func (u *UI) typedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape {
		if d := u.TopDialog(); d != nil {
			d.Hide()
		}
	}
}

func (u *UI) info(title, msg string) {
	u.lastInfo = title + ": " + msg
	u.showDialog(dialog.NewInformation(title, msg, u.Win))
}

// explain turns an error into what to tell the user.
func (u *UI) explain(err error) service.Explanation { return service.Explain(err) }
