package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/service"
)

// daily is the window's part in daily use: the events watcher, expiry checks, notifications
// and the system tray. Fyne's notifications cannot tell the app they were clicked, so the
// screen a notification is about opens the next time the window comes to the front.
type daily struct {
	watchCancel context.CancelFunc
	checkTimer  *time.Timer
	told        map[string]bool
	// notices are the notifications sent, oldest first (the tray and tests read them).
	notices []service.Notice
	// pendingScreen is what the last notification was about, opened at the next focus.
	pendingScreen string
	attention     []service.CertAttention
	hidden        bool
	// WatchWait overrides the long-poll wait (tests, benchmarks); zero is the default.
	watchWait time.Duration
	renew     *renewForm
	// waiting is the progress bar of the start-up screen: its animation redraws the window 60
	// times a second until stopped, even after the screen was replaced.
	waiting *widget.ProgressBarInfinite
}

// renewForm is the open renewal dialog (tests fill and submit it).
type renewForm struct {
	dialog                   *dialog.FormDialog
	password, backup, backPW *escEntry
}

// expiryCheckEvery is how often a running app looks at the expiry of the certificates.
const expiryCheckEvery = 6 * time.Hour

func (u *UI) dailyBackend() (service.Daily, bool) {
	d, ok := u.be.(service.Daily)
	return d, ok
}

// InstallDaily wires the tray, close-to-tray and the "open what the notification was about on
// the next focus" behaviour. The caller does it once, with the real app.
func (u *UI) InstallDaily() {
	u.Win.SetCloseIntercept(u.closeWindow)
	u.App.Lifecycle().SetOnEnteredForeground(u.foreground)
	u.updateTray()
}

// TrayAvailable reports whether the app can show a tray menu.
func (u *UI) TrayAvailable() bool {
	_, ok := u.App.(desktop.App)
	return ok
}

// closeWindow hides the window to the tray when the close_to_tray setting says so and a tray
// exists; otherwise it closes (and the app quits).
func (u *UI) closeWindow() {
	d, ok := u.dailyBackend()
	if ok && d.DailySettings().CloseToTray && u.TrayAvailable() {
		u.Win.Hide()
		u.day.hidden = true
		return
	}
	u.Win.Close()
}

// ShowWindow brings the window back (tray menu, second start).
func (u *UI) ShowWindow() {
	u.day.hidden = false
	u.Win.Show()
	u.Win.RequestFocus()
	u.foreground()
}

// foreground opens what the last notification was about and looks at expiry again.
func (u *UI) foreground() {
	if s := u.day.pendingScreen; s != "" {
		u.day.pendingScreen = ""
		u.openScreen(s)
	}
}

// openScreen shows the screen a notice is about.
func (u *UI) openScreen(screen string) {
	switch screen {
	case service.ScreenHome:
		u.showTab(TabHome)
	case service.ScreenCerts:
		u.showTab(TabCerts)
	case service.ScreenSessions:
		u.showTab(TabAccount)
	case service.ScreenLogin:
		if u.me == nil {
			u.ShowLogin("")
		}
	}
}

// startDaily begins the watcher and the expiry checks of a fresh login.
func (u *UI) startDaily() {
	u.stopDaily()
	d, ok := u.dailyBackend()
	if !ok || u.me == nil {
		return
	}
	ctx, cancel := context.WithCancel(u.ctx)
	u.day.watchCancel = cancel
	opts := service.WatchOptions{OwnSession: u.me.Session.ID, Wait: u.day.watchWait}
	go func() {
		_ = d.WatchEvents(ctx, opts, func(n service.Notice) {
			if ctx.Err() != nil {
				return
			}
			u.busy.Add(1)
			u.post(func() {
				defer u.busy.Add(-1)
				if ctx.Err() == nil {
					u.notify(n)
				}
			})
		})
	}()
	u.checkExpiry()
}

// stopDaily ends the watcher and the timer (logout, session over, window closed).
func (u *UI) stopDaily() {
	if u.day.watchCancel != nil {
		u.day.watchCancel()
		u.day.watchCancel = nil
	}
	if u.day.checkTimer != nil {
		u.day.checkTimer.Stop()
		u.day.checkTimer = nil
	}
	u.day.attention = nil
	u.updateTray()
}

// notify tells the user through the OS, once per piece of news, and updates what it concerns.
func (u *UI) notify(n service.Notice) {
	if u.day.told == nil {
		u.day.told = map[string]bool{}
	}
	if u.day.told[n.Key] {
		return
	}
	u.day.told[n.Key] = true
	u.day.notices = append(u.day.notices, n)
	u.day.pendingScreen = n.Screen
	u.App.SendNotification(fyne.NewNotification(n.Title, n.Body))
	switch {
	case n.SessionEnded:
		u.stopDaily()
		if u.me != nil {
			u.backToLogin()
			setError(u.login.err, n.Title+". "+n.Body)
		}
		return
	case n.RefreshHome && u.home != nil:
		u.home.refresh()
	case n.Screen == service.ScreenCerts:
		u.checkExpiry()
	}
	u.updateTray()
}

// checkExpiry lists every identity with its expiry, notifies what needs attention (and the
// session's end), and schedules the next look.
func (u *UI) checkExpiry() {
	d, ok := u.dailyBackend()
	if !ok || u.me == nil {
		return
	}
	me := u.me
	run(u, nil, func(ctx context.Context) ([]service.CertAttention, error) { return d.Attention(ctx, u.now()) },
		func(list []service.CertAttention, err error) {
			if u.me != me {
				return // logged out or in again meanwhile
			}
			if err != nil {
				// The next check (or the certificates screen) says what is wrong; a background
				// look must not pop up errors.
				list = nil
			}
			u.day.attention = list
			for _, c := range list {
				if n, ok := service.ExpiryNotice(c); ok {
					u.notify(n)
				}
			}
			now := u.now()
			if e := service.SessionExpiry(me.Session, now); e.Level == service.ExpirySoon {
				u.notify(service.Notice{Key: "session:" + me.Session.ID, Title: "Your session ends soon", Body: e.Sentence + ".", Screen: service.ScreenLogin})
			}
			next := expiryCheckEvery
			if warn := me.Session.ExpiresAt.Add(-service.SessionWarning).Sub(now); warn > 0 && warn < next {
				next = warn
			}
			if u.day.checkTimer != nil {
				u.day.checkTimer.Stop()
			}
			u.day.checkTimer = time.AfterFunc(next, func() { u.post(u.checkExpiry) })
			if u.home != nil {
				u.home.renderAttention()
			}
			u.updateTray()
		})
}

// needsAttention is the identities of this account that expire within the warning window.
func (u *UI) needsAttention() []service.CertAttention {
	var out []service.CertAttention
	for _, c := range u.day.attention {
		if c.Mine() && c.Expiry.Level == service.ExpirySoon {
			out = append(out, c)
		}
	}
	return out
}

// trayMenu is the system-tray menu: open, the account's status, the certificates needing
// attention, quit.
func (u *UI) trayMenu() *fyne.Menu {
	items := []*fyne.MenuItem{fyne.NewMenuItem("Open MAG Desktop", u.ShowWindow), fyne.NewMenuItemSeparator()}
	status := fyne.NewMenuItem("Not logged in", nil)
	if u.me != nil {
		status.Label = "Logged in as " + u.me.Account.DisplayName + " (" + u.me.Account.UserID + ")"
		if e := service.SessionExpiry(u.me.Session, u.now()); e.Sentence != "" {
			status.Label += " — " + e.Sentence
		}
	}
	status.Disabled = true
	items = append(items, status)
	if u.me != nil {
		att := u.needsAttention()
		if len(att) == 0 {
			ok := fyne.NewMenuItem("Certificates: nothing needs attention", nil)
			ok.Disabled = true
			items = append(items, ok)
		}
		for _, c := range att {
			items = append(items, fyne.NewMenuItem("Certificate "+c.Subject+": "+c.Expiry.Sentence, func() {
				u.ShowWindow()
				u.showTab(TabCerts)
			}))
		}
	}
	quit := fyne.NewMenuItem("Quit", func() { u.App.Quit() })
	quit.IsQuit = true
	items = append(items, fyne.NewMenuItemSeparator(), quit)
	return fyne.NewMenu("MAG Desktop", items...)
}

// updateTray shows the current tray menu, where the app has a tray.
func (u *UI) updateTray() {
	if desk, ok := u.App.(desktop.App); ok {
		desk.SetSystemTrayMenu(u.trayMenu())
	}
}

// homeChanged fetches the account again after something that changes Home (a credential
// registered, a certificate issued or renewed, a new login) and rebuilds Home from it.
func (u *UI) homeChanged() {
	if u.me == nil {
		return
	}
	me := u.me
	run(u, nil, func(ctx context.Context) (api.Me, error) { return u.be.Me(ctx) }, func(fresh api.Me, err error) {
		if err != nil || u.me != me {
			return
		}
		u.setMe(fresh)
	})
}

// setMe replaces the account shown (a fresh Me, or the session of a new login) and rebuilds Home.
func (u *UI) setMe(me api.Me) {
	u.me = &me
	if u.tabs == nil || len(u.tabs.Items) == 0 {
		return
	}
	u.home = newHomeScreen(u)
	u.tabs.Items[0].Content = u.home.content
	u.tabs.Refresh()
	u.home.refresh()
	u.home.renderAttention()
	u.updateTray()
}

// showRenew asks for what renewal needs: the password (to log in with the new certificate)
// and a password for the backup of the old one.
func (u *UI) showRenew(c service.CertAttention) {
	f := &renewForm{password: u.dialogEntry(true), backup: u.dialogEntry(false), backPW: u.dialogEntry(true)}
	home, _ := os.UserHomeDir()
	f.backup.SetText(filepath.Join(home, "MAG Desktop certificate backup "+c.NotAfter.Format("2006-01-02")+".p12"))
	f.backPW.Validator = func(t string) error {
		if len(t) < 8 {
			return fmt.Errorf("use at least 8 characters")
		}
		return nil
	}
	items := []*widget.FormItem{
		{Text: "Your password", Widget: f.password, HintText: "to log in with the new certificate and check it works"},
		{Text: "Backup of the old certificate", Widget: f.backup},
		{Text: "Backup password", Widget: f.backPW, HintText: "protects the backup file"},
	}
	f.dialog = dialog.NewForm("Renew certificate", "Renew", "Cancel", items, func(ok bool) {
		u.day.renew = nil
		if ok {
			u.renewCertificate(service.RenewRequest{SHA256: c.SHA256, Password: f.password.Text, BackupPath: f.backup.Text, BackupPassword: f.backPW.Text})
		}
	}, u.Win)
	f.dialog.Resize(fyne.NewSize(620, 300))
	u.day.renew = f
	u.showDialog(f.dialog)
}

// renewCertificate renews in one step and shows the outcome.
func (u *UI) renewCertificate(req service.RenewRequest) {
	d, ok := u.dailyBackend()
	if !ok {
		return
	}
	run(u, nil, func(ctx context.Context) (service.RenewResult, error) { return d.RenewCertificate(ctx, req) },
		func(res service.RenewResult, err error) {
			if err != nil {
				u.info("Certificate not renewed", u.explain(err).Message)
				return
			}
			u.info("Certificate renewed", res.Message)
			u.setMe(res.Me)
			u.startDaily()
			if u.certs != nil {
				u.certs.refresh()
			}
		})
}

// warningWindow is the policy's warning window for certificates.
func (u *UI) warningWindow() time.Duration {
	if d, ok := u.dailyBackend(); ok {
		return d.WarningWindow()
	}
	return service.RenewalWindow
}

// dailySettingsForm is the start-up, tray and warning part of Settings, and its save.
func (u *UI) dailySettingsForm() (fyne.CanvasObject, func()) {
	d, ok := u.dailyBackend()
	if !ok {
		return widget.NewLabel(""), func() {}
	}
	st := d.DailySettings()
	login := widget.NewCheck("Start MAG Desktop when I log in to this computer", nil)
	minimised := widget.NewCheck("…and start it in the tray, without its window", nil)
	tray := widget.NewCheck("Keep running in the tray when the window is closed", nil)
	choices := []string{"14", "30", "60", "90", "120", "180"}
	if cur := strconv.Itoa(st.CertWarningDays); !slices.Contains(choices, cur) {
		choices = append(choices, cur) // a policy's value
	}
	days := widget.NewSelect(choices, nil)
	login.SetChecked(st.StartAtLogin)
	minimised.SetChecked(st.StartMinimised)
	tray.SetChecked(st.CloseToTray)
	days.SetSelected(strconv.Itoa(st.CertWarningDays))
	lock := lockMark(st.Locked)
	form := widget.NewForm(
		widget.NewFormItem("Start-up"+lock(service.KeyStartAtLogin, login), login),
		widget.NewFormItem(""+lock(service.KeyStartMinimised, minimised), minimised),
		widget.NewFormItem("Tray"+lock(service.KeyCloseToTray, tray), tray),
		widget.NewFormItem("Warn about certificates"+lock(service.KeyCertWarningDays, days),
			container.NewHBox(days, widget.NewLabel("days before they expire"))),
	)
	save := func() {
		next := st
		next.StartAtLogin, next.StartMinimised, next.CloseToTray = login.Checked, minimised.Checked, tray.Checked
		if n, err := strconv.Atoi(days.Selected); err == nil {
			next.CertWarningDays = n
		}
		runErr(u, nil, func(context.Context) error { return d.SaveDailySettings(next) }, func(err error) {
			if err != nil {
				u.info("Start-up settings not saved", u.explain(err).Message)
				return
			}
			u.checkExpiry()
		})
	}
	return form, save
}

// lockMark disables the widget of a setting fixed by policy and returns the mark its label gets.
func lockMark(locked map[string]bool) func(key string, w fyne.Disableable) string {
	return func(key string, w fyne.Disableable) string {
		if locked[key] {
			w.Disable()
			return " 🔒"
		}
		return ""
	}
}

// stopWaiting stops the start-up screen's progress bar once another screen replaces it.
func (u *UI) stopWaiting() {
	if u.day.waiting != nil {
		u.day.waiting.Stop()
		u.day.waiting = nil
	}
}
