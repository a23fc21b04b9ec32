package cli

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mag-desktop/magdesk/client"
)

// runSessions is sessions list | sessions clear | sessions use USER (switch between the
// accounts cached for the server without logging in again).
func runSessions(e *Env, args []string) int {
	return subcommand(e, "sessions", args, map[string]func(*Env, []string) int{
		"list": sessionsList, "clear": sessionsClear, "use": sessionsUse,
	}, "list")
}

type sessionRow struct {
	client.SessionRef
	Current bool `json:"current"`
	Expired bool `json:"expired"`
}

func sessionsList(e *Env, args []string) int {
	if _, err := parseArgs(e.Flags("sessions list"), args); err != nil {
		return e.Fail(err)
	}
	refs, err := e.Sessions().List()
	if err != nil {
		return e.Fail(err)
	}
	st, _ := loadState(e.Home)
	now := time.Now()
	rows := make([]sessionRow, 0, len(refs))
	for _, r := range refs {
		rows = append(rows, sessionRow{SessionRef: r, Current: st.Current[r.Server] == r.UserID, Expired: r.Expired(now)})
	}
	return e.Output(rows, func(w io.Writer) {
		if writeTable(w, rows, "No cached sessions.", "\tUSER\tNAME\tSERVER\tSAVED\tEXPIRES", func(r sessionRow) []string {
			mark, exp := "", r.ExpiresAt.Local().Format(time.DateTime)
			if r.Current {
				mark = "*"
			}
			if r.Expired {
				exp += " (expired)"
			}
			return []string{mark, r.UserID, r.DisplayName, r.Server, r.SavedAt.Local().Format(time.DateTime), exp}
		}) {
			fmt.Fprintln(w, "* current account for its server")
		}
	})
}

func sessionsClear(e *Env, args []string) int {
	if _, err := parseArgs(e.Flags("sessions clear"), args); err != nil {
		return e.Fail(err)
	}
	report, err := e.Sessions().ClearSessions(e.Context(), e.Connect)
	// Whatever happened to the secrets, no account is current any more.
	if st, serr := loadState(e.Home); serr == nil {
		st.Current, st.Enrollments = map[string]string{}, map[string]string{}
		if serr := saveState(e.Home, st); serr != nil && err == nil {
			err = serr
		}
	}
	status := e.Output(report, func(w io.Writer) {
		if len(report.Sessions) == 0 {
			fmt.Fprintln(w, "No cached sessions; nothing to clear.")
			return
		}
		for _, s := range report.Sessions {
			what := "ended on the server and deleted from this computer"
			switch {
			case !s.Deleted:
				what = "NOT deleted"
			case !s.Revoked:
				what = "deleted from this computer only"
			}
			line := fmt.Sprintf("%s at %s: %s", s.UserID, s.Server, what)
			if s.Note != "" {
				line += " (" + s.Note + ")"
			}
			fmt.Fprintln(w, line)
		}
		fmt.Fprintf(w, "%d session(s) ended on the server, %d deleted locally only, %d left.\n",
			report.Revoked(), report.LocalOnly(), report.Failed())
		fmt.Fprintln(w, "Close every browser window too: browsers keep their own memory of the account and certificate.")
	})
	if err != nil {
		return e.Fail(err)
	}
	return status
}

func sessionsUse(e *Env, args []string) int {
	pos, err := parseArgs(e.Flags("sessions use"), args)
	if err == nil {
		err = wantArgs(pos, 1, "the user ID of a cached session (see magdesk sessions list)")
	}
	if err != nil {
		return e.Fail(err)
	}
	c, err := e.Client()
	if err != nil {
		return e.Fail(err)
	}
	sess, err := e.Sessions().Load(c.Server(), pos[0])
	if errors.Is(err, client.ErrNoSession) {
		return e.Fail(fmt.Errorf("no saved session for %s at %s: log in with 'magdesk login --user %s'", pos[0], c.Server(), pos[0]))
	}
	if err != nil {
		return e.Fail(err)
	}
	me, err := c.Resume(e.Context(), sess.UserID, sess.Token)
	if err != nil {
		if client.IsUnauthenticated(err) {
			// The server ended it: forget it here as well.
			if derr := e.Sessions().Delete(c.Server(), sess.UserID); derr != nil {
				e.Log.Warn("could not forget the ended session", "err", derr)
			}
		}
		return e.Fail(err)
	}
	if err := e.setCurrent(c.Server(), sess.UserID); err != nil {
		return e.Fail(err)
	}
	return e.Output(me.Account, func(w io.Writer) {
		fmt.Fprintf(w, "Now acting as %s (%s, %s).\n", me.Account.UserID, me.Account.DisplayName, me.Account.Org.Name)
	})
}
