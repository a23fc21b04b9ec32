package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/mag-desktop/magdesk/internal/service"
)

// runSessions is sessions list | sessions clear | sessions use USER (switch between the
// accounts cached for the server without logging in again).
func runSessions(e *Env, args []string) int {
	return subcommand(e, "sessions", args, map[string]func(*Env, []string) int{
		"list": sessionsList, "clear": sessionsClear, "use": sessionsUse,
	}, "list")
}

func sessionsList(e *Env, args []string) int {
	if _, err := parseArgs(e.Flags("sessions list"), args); err != nil {
		return e.Fail(err)
	}
	rows, err := e.service().CachedSessions(e.Context())
	if err != nil {
		return e.Fail(err)
	}
	return e.Output(rows, func(w io.Writer) {
		if writeTable(w, rows, "No cached sessions.", "\tUSER\tNAME\tSERVER\tSAVED\tEXPIRES", func(r service.CachedSession) []string {
			mark, saved, exp := "", r.SavedAt.Local().Format(time.DateTime), r.ExpiresAt.Local().Format(time.DateTime)
			switch {
			case r.Current:
				mark = "*"
			case r.RevokePending:
				mark, saved = "-", "logged out"
			}
			if r.Expired {
				exp += " (expired)"
			}
			return []string{mark, r.UserID, r.DisplayName, r.Server, saved, exp}
		}) {
			fmt.Fprintln(w, "* current account for its server")
			for _, r := range rows {
				if r.RevokePending {
					fmt.Fprintln(w, "- logged out here, to be ended on the server at the next contact (or with magdesk sessions clear)")
					break
				}
			}
		}
	})
}

func sessionsClear(e *Env, args []string) int {
	if _, err := parseArgs(e.Flags("sessions clear"), args); err != nil {
		return e.Fail(err)
	}
	report, err := e.service().ClearSessions(e.Context())
	// Whatever happened to the secrets, no enrolment is pending any more.
	if st, serr := loadState(e.Home); serr == nil {
		st.Enrollments = map[string]string{}
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
	if err == nil {
		err = e.needServer()
	}
	if err != nil {
		return e.Fail(err)
	}
	me, err := e.service().SwitchSession(e.Context(), pos[0])
	if err != nil {
		return e.Fail(err)
	}
	if err := e.rememberServer(); err != nil {
		return e.Fail(err)
	}
	return e.Output(me.Account, func(w io.Writer) {
		fmt.Fprintf(w, "Now acting as %s (%s, %s).\n", me.Account.UserID, me.Account.DisplayName, me.Account.Org.Name)
	})
}
