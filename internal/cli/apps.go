package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/service"
)

// runApps is apps | apps request APP | apps open APP [--print].
func runApps(e *Env, args []string) int {
	return subcommand(e, "apps", args, map[string]func(*Env, []string) int{
		"list": appsList, "request": appsRequest, "open": appsOpen,
	}, "list")
}

func appsList(e *Env, args []string) int {
	_, svc, _, err := e.withService(e.Flags("apps"), args, 0, "no arguments")
	if err != nil {
		return e.Fail(err)
	}
	apps, err := svc.Applications(e.Context())
	if err != nil {
		return e.failSession(err)
	}
	if apps == nil {
		apps = []api.Application{}
	}
	return e.Output(apps, func(w io.Writer) {
		writeTable(w, apps, "Your organisation has no applications yet.", "APP\tSTATUS\tNAME\tWHAT IT MEANS",
			func(a api.Application) []string { return []string{a.AppID, a.Status, a.Name, statusText(a)} })
	})
}

// statusText is the catalogue's words for a status, then the command that acts on it.
func statusText(a api.Application) string {
	if cmd, ok := statusCommand[a.Status]; ok {
		return service.StatusText(a) + " (" + cmd + " " + a.AppID + ")"
	}
	return service.StatusText(a)
}

// statusCommand is the command that does what a status's words suggest.
var statusCommand = map[string]string{
	api.StatusAvailable:     "magdesk apps request",
	api.StatusAccessGranted: "magdesk apps open",
}

func appsRequest(e *Env, args []string) int {
	pos, svc, _, err := e.withService(e.Flags("apps request"), args, 1, "the application id (see magdesk apps)")
	if err != nil {
		return e.Fail(err)
	}
	req, err := svc.RequestAccess(e.Context(), pos[0])
	if err != nil {
		return e.failSession(err)
	}
	return e.Output(req, func(w io.Writer) {
		fmt.Fprintf(w, "Access to %s requested (request %s); the application administrator decides next.\n", pos[0], req.ID)
	})
}

func appsOpen(e *Env, args []string) int {
	fs := e.Flags("apps open")
	printOnly := fs.Bool("print", false, "print the single-use link instead of opening the browser")
	pos, svc, _, err := e.withService(fs, args, 1, "the application id (see magdesk apps)")
	if err != nil {
		return e.Fail(err)
	}
	l, err := svc.Launch(e.Context(), pos[0])
	if err != nil {
		return e.failSession(err)
	}
	if *printOnly || e.JSON {
		return e.Output(l, func(w io.Writer) { fmt.Fprintln(w, l.LaunchURL) })
	}
	if err := openBrowser(e.Context(), l.LaunchURL); err != nil {
		fmt.Fprintf(e.IO.Err, "magdesk: could not start a browser (%v); open this single-use link yourself before %s:\n",
			err, l.ExpiresAt.Local().Format(time.TimeOnly))
		fmt.Fprintln(e.IO.Out, l.LaunchURL)
		return ExitError
	}
	fmt.Fprintf(e.IO.Out, "Opened %s in your browser.\n", pos[0])
	return ExitOK
}

// runAdmin is the org administrator's commands.
func runAdmin(e *Env, args []string) int {
	return subcommand(e, "admin", args, map[string]func(*Env, []string) int{
		"terms": adminTerms, "accept-terms": adminAcceptTerms, "requests": adminRequests, "decide": adminDecide,
	}, "")
}

// adminCall is an admin command's arguments, the service acting as the current user with the
// session's client, and the user's organisation id.
type adminCall struct {
	pos []string
	svc *service.Service
	org string
}

// adminContext parses an admin command's arguments; on failure svc is nil and status is the
// exit status.
func (e *Env) adminContext(name string, args []string, n int, what string) (adminCall, int) {
	return e.adminContextFlags(e.Flags("admin "+name), args, n, what)
}

func (e *Env) adminContextFlags(fs *flag.FlagSet, args []string, n int, what string) (adminCall, int) {
	pos, svc, _, err := e.withService(fs, args, n, what)
	if err != nil {
		return adminCall{}, e.Fail(err)
	}
	me, err := svc.Me(e.Context())
	if err != nil {
		return adminCall{}, e.failSession(err)
	}
	return adminCall{pos, svc, me.Account.Org.ID}, ExitOK
}

func adminTerms(e *Env, args []string) int {
	a, status := e.adminContext("terms", args, 1, "the application id")
	if a.svc == nil {
		return status
	}
	t, err := a.svc.Terms(e.Context(), a.org, a.pos[0])
	if err != nil {
		return e.failSession(err)
	}
	return e.Output(t, func(w io.Writer) {
		fmt.Fprintf(w, "%s — %s, version %s (published %s)\n\n%s\n\n", t.AppName, t.Title, t.Version,
			t.PublishedAt.Local().Format(time.DateOnly), strings.TrimSpace(t.Body))
		if t.Accepted {
			fmt.Fprintf(w, "Accepted by %s on %s.\n", t.AcceptedBy, fmtTime(t.AcceptedAt))
		} else {
			fmt.Fprintf(w, "Not accepted yet. To agree on behalf of your organisation: magdesk admin accept-terms %s\n", t.AppID)
		}
	})
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "an unknown date"
	}
	return t.Local().Format(time.DateTime)
}

func adminAcceptTerms(e *Env, args []string) int {
	a, status := e.adminContext("accept-terms", args, 1, "the application id")
	if a.svc == nil {
		return status
	}
	ctx := e.Context()
	t, err := a.svc.Terms(ctx, a.org, a.pos[0])
	if err != nil {
		return e.failSession(err)
	}
	acc, err := a.svc.AcceptTerms(ctx, a.org, a.pos[0], t.TermsVersionID)
	if err != nil {
		return e.failSession(err)
	}
	return e.Output(acc, func(w io.Writer) {
		fmt.Fprintf(w, "You agreed to %q (version %s) for %s on behalf of your organisation.\nUsers of your organisation can now request access to it.\n",
			t.Title, t.Version, t.AppName)
	})
}

func adminRequests(e *Env, args []string) int {
	a, status := e.adminContext("requests", args, 0, "no arguments")
	if a.svc == nil {
		return status
	}
	reqs, err := a.svc.AccessRequests(e.Context(), a.org)
	if err != nil {
		return e.failSession(err)
	}
	if reqs == nil {
		reqs = []api.AccessRequest{}
	}
	return e.Output(reqs, func(w io.Writer) {
		if writeTable(w, reqs, "No pending access requests.", "REQUEST\tUSER\tNAME\tAPP\tREQUESTED", func(r api.AccessRequest) []string {
			return []string{r.ID, r.UserID, r.DisplayName, r.AppID, r.CreatedAt.Local().Format(time.DateTime)}
		}) {
			fmt.Fprintln(w, "Decide with: magdesk admin decide REQUEST approve|deny [--reason R]")
		}
	})
}

func adminDecide(e *Env, args []string) int {
	fs := e.Flags("admin decide")
	reason := fs.String("reason", "", "reason shown to the user (for a denial)")
	a, status := e.adminContextFlags(fs, args, 2, "REQUEST approve|deny")
	if a.svc == nil {
		return status
	}
	decision := strings.ToLower(a.pos[1])
	if decision != api.DecisionApprove && decision != api.DecisionDeny {
		return e.Usagef("the decision must be approve or deny, not %q", a.pos[1])
	}
	r, err := a.svc.DecideAccess(e.Context(), a.org, a.pos[0], decision, *reason)
	if err != nil {
		return e.failSession(err)
	}
	return e.Output(r, func(w io.Writer) {
		verb := "approved"
		if decision == api.DecisionDeny {
			verb = "denied"
		}
		fmt.Fprintf(w, "Request %s %s.\n", a.pos[0], verb)
	})
}
