package app

import (
	"context"
	"fmt"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"

	"github.com/mag-desktop/magdesk/api"
)

// Tab names of the logged-in window.
const (
	TabHome    = "Home"
	TabAdmin   = "Administration"
	TabAccount = "My Account"
	TabCerts   = "Certificates"
	TabOTP     = "Security codes"
	TabHelp    = "Help"
)

func (u *UI) mainMenu() *fyne.MainMenu {
	file := fyne.NewMenu("MAG Desktop",
		fyne.NewMenuItem("Settings…", u.ShowSettings),
		fyne.NewMenuItem("Clear cached sessions…", u.ConfirmClearSessions),
		fyne.NewMenuItem("Export support bundle…", u.ShowSupportBundle),
		fyne.NewMenuItem("Log out", u.Logout),
	)
	account := fyne.NewMenu("Account",
		fyne.NewMenuItem("Home", func() { u.showTab(TabHome) }),
		fyne.NewMenuItem("My Account", func() { u.showTab(TabAccount) }),
		fyne.NewMenuItem("Certificates", func() { u.showTab(TabCerts) }),
		fyne.NewMenuItem("Manage one-time codes", func() { u.showTab(TabOTP) }),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("First-time setup…", func() { u.ShowSetup("") }),
	)
	help := fyne.NewMenu("Help",
		fyne.NewMenuItem("Help", func() { u.ShowHelp("") }),
		fyne.NewMenuItem("Link doesn't work?", u.ShowRecoverActivation),
		fyne.NewMenuItem("Forgot user ID?", u.ShowRecoverUserID),
		fyne.NewMenuItem("Forgot password?", func() { u.ShowRecoverPassword("") }),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Check my connection and setup…", u.ShowDoctor),
		fyne.NewMenuItem("About", u.ShowAbout),
	)
	return fyne.NewMainMenu(file, account, help)
}

// LoggedIn is the account the window is on, nil when logged out.
func (u *UI) LoggedIn() *api.Me { return u.me }

func isOrgAdmin(me *api.Me) bool {
	return me != nil && slices.Contains(me.Account.Roles, api.RoleOrgAdmin)
}

// enter switches to the logged-in window after a login.
func (u *UI) enter(me api.Me) {
	u.me = &me
	u.Win.SetTitle(fmt.Sprintf("%s (%s)", Title, me.Account.UserID))
	u.home = newHomeScreen(u)
	u.account = newAccountScreen(u)
	u.certs = newCertsScreen(u)
	u.otp = newOTPScreen(u)
	items := []*container.TabItem{container.NewTabItemWithIcon(TabHome, theme.HomeIcon(), u.home.content)}
	if isOrgAdmin(u.me) {
		u.admin = newAdminScreen(u)
		items = append(items, container.NewTabItemWithIcon(TabAdmin, theme.SettingsIcon(), u.admin.content))
	} else {
		u.admin = nil
	}
	items = append(items,
		container.NewTabItemWithIcon(TabAccount, theme.AccountIcon(), u.account.content),
		container.NewTabItemWithIcon(TabCerts, theme.DocumentIcon(), u.certs.content),
		container.NewTabItemWithIcon(TabOTP, theme.LoginIcon(), u.otp.content),
		container.NewTabItemWithIcon(TabHelp, theme.HelpIcon(), newHelpView(u, "")),
	)
	u.tabs = container.NewAppTabs(items...)
	u.tabs.OnSelected = func(t *container.TabItem) {
		// A field of the tab left behind would keep its cursor blinking out of sight.
		u.Win.Canvas().Unfocus()
		u.tabSelected(t.Text)
	}
	u.stopWaiting()
	u.setContent(u.tabs)
	u.tabSelected(TabHome)
	if t := u.pendingTab; t != "" {
		u.pendingTab = ""
		u.showTab(t)
	}
	u.startDaily()
}

func (u *UI) tabSelected(name string) {
	u.screen = name
	switch name {
	case TabHome:
		u.home.refresh()
	case TabAdmin:
		u.admin.refresh()
	case TabAccount:
		u.account.refresh()
	case TabCerts:
		u.certs.refresh()
	}
	u.screenShown(name)
}

// showTab selects a tab of the logged-in window; while logged out it shows Login.
func (u *UI) showTab(name string) {
	if u.tabs == nil {
		if u.me == nil {
			u.ShowLogin("")
		}
		return
	}
	for _, it := range u.tabs.Items {
		if it.Text == name {
			if u.tabs.Selected() == it {
				u.tabSelected(name)
			} else {
				u.tabs.Select(it)
			}
			return
		}
	}
}

// Logout logs the account out here at once and shows Login; the service tells the server,
// or ends the session there at the next contact.
func (u *UI) Logout() {
	if u.me == nil {
		return
	}
	userID := u.me.Account.UserID
	u.stopDaily()
	runErr(u, nil, func(ctx context.Context) error { _, err := u.be.Logout(ctx); return err }, func(err error) {
		u.me = nil
		u.Win.SetTitle(Title)
		u.ShowLogin(userID)
		if err != nil {
			u.info("Logged out on this computer", u.explain(err).Message)
		}
	})
}
