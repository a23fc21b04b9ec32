package app

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/internal/service"
)

// ConfirmClearSessions says which cached sessions will be cleared and clears them when the
// user agrees. It is a menu action and is offered when an account mismatch is detected.
func (u *UI) ConfirmClearSessions() {
	run(u, nil, func(ctx context.Context) ([]service.CachedSession, error) { return u.be.CachedSessions(ctx) },
		func(list []service.CachedSession, err error) {
			var lines []string
			for _, s := range list {
				line := fmt.Sprintf("• %s on %s", s.UserID, s.Server)
				if s.RevokePending {
					line += " (logged out, still to be ended on the server)"
				}
				lines = append(lines, line)
			}
			msg := "This logs out every account this app remembers on this computer, on the server too when it can be reached:\n" +
				strings.Join(lines, "\n")
			if len(list) == 0 {
				msg = "No sessions are cached on this computer. Clearing anyway makes sure nothing is left in the keyring."
			}
			if err != nil {
				msg = "The list of cached sessions could not be read (" + u.explain(err).Message + "). Clearing still removes them all."
			}
			msg += "\n\nUse this when the wrong account keeps appearing. Also close your browser windows: browsers keep their own sessions."
			d := dialog.NewConfirm("Clear cached sessions?", msg, func(ok bool) {
				if ok {
					u.clearSessions()
				}
			}, u.Win)
			d.SetConfirmText("Clear sessions")
			d.SetConfirmImportance(widget.DangerImportance)
			u.showDialog(d)
		})
}

func (u *UI) clearSessions() {
	run(u, nil, func(ctx context.Context) (service.ClearReport, error) { return u.be.ClearSessions(ctx) },
		func(r service.ClearReport, err error) {
			if err != nil {
				u.info("Sessions not cleared", u.explain(err).Message)
				return
			}
			u.backToLogin()
			u.info("Cached sessions cleared", r.Message)
		})
}

// sessionError shows err in l; an ended session goes back to Login, an account mismatch
// offers to clear cached sessions.
func (u *UI) sessionError(err error, l *widget.Label) {
	e := u.explain(err)
	switch e.Kind {
	case service.KindUnauthenticated:
		u.backToLogin()
		setError(u.login.err, e.Message)
	case service.KindAccountMismatch:
		setError(l, e.Message)
		u.ConfirmClearSessions()
	default:
		setError(l, e.Message)
	}
}

// backToLogin forgets the account shown (the title names it) and opens Login for its user ID.
func (u *UI) backToLogin() {
	userID := ""
	if u.me != nil {
		userID = u.me.Account.UserID
	}
	u.stopDaily()
	u.me = nil
	u.Win.SetTitle(Title)
	u.ShowLogin(userID)
}
