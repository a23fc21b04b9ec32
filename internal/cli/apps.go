package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/service"
)

// runApps is apps | apps request APP | apps open APP [--print].
func runApps(e *Env, args []string) int {
	return subcommand(e, "apps", args, map[string]func(*Env, []string) int{
		"list": appsList, "request": appsRequest, "open": appsOpen,
	}, "list")
}

func appsList(e *Env, args []string) int {
	_, c, err := e.withSession(e.Flags("apps"), args, 0, "no arguments")
	if err != nil {
		return e.Fail(err)
	}
	apps, err := c.Applications(e.Context())
	if err != nil {
		return e.failSession(c, err)
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
	pos, c, err := e.withSession(e.Flags("apps request"), args, 1, "the application id (see magdesk apps)")
	if err != nil {
		return e.Fail(err)
	}
	req, err := c.RequestAccess(e.Context(), pos[0])
	if err != nil {
		return e.failSession(c, err)
	}
	return e.Output(req, func(w io.Writer) {
		fmt.Fprintf(w, "Access to %s requested (request %s); the application administrator decides next.\n", pos[0], req.ID)
	})
}

func appsOpen(e *Env, args []string) int {
	fs := e.Flags("apps open")
	printOnly := fs.Bool("print", false, "print the single-use link instead of opening the browser")
	pos, c, err := e.withSession(fs, args, 1, "the application id (see magdesk apps)")
	if err != nil {
		return e.Fail(err)
	}
	l, err := c.Launch(e.Context(), pos[0])
	if err != nil {
		return e.failSession(c, err)
	}
	if *printOnly || e.JSON {
		return e.Output(l, func(w io.Writer) { fmt.Fprintln(w, l.LaunchURL) })
	}
	if err := openBrowser(l.LaunchURL); err != nil {
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

// adminContext parses an admin command's arguments and returns a client of the current user
// and the user's organisation id; on failure c is nil and status is the exit status.
func (e *Env) adminContext(name string, args []string, n int, what string) (pos []string, c *client.Client, org string, status int) {
	return e.adminContextFlags(e.Flags("admin "+name), args, n, what)
}

func (e *Env) adminContextFlags(fs *flag.FlagSet, args []string, n int, what string) (pos []string, c *client.Client, org string, status int) {
	pos, c, err := e.withSession(fs, args, n, what)
	if err != nil {
		return nil, nil, "", e.Fail(err)
	}
	me, err := c.Me(e.Context())
	if err != nil {
		return nil, nil, "", e.failSession(c, err)
	}
	return pos, c, me.Account.Org.ID, ExitOK
}

func adminTerms(e *Env, args []string) int {
	pos, c, org, status := e.adminContext("terms", args, 1, "the application id")
	if c == nil {
		return status
	}
	t, err := c.Terms(e.Context(), org, pos[0])
	if err != nil {
		return e.failSession(c, err)
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
	pos, c, org, status := e.adminContext("accept-terms", args, 1, "the application id")
	if c == nil {
		return status
	}
	ctx := e.Context()
	t, err := c.Terms(ctx, org, pos[0])
	if err != nil {
		return e.failSession(c, err)
	}
	acc, err := c.AcceptTerms(ctx, org, pos[0], t.TermsVersionID)
	if err != nil {
		return e.failSession(c, err)
	}
	return e.Output(acc, func(w io.Writer) {
		fmt.Fprintf(w, "You agreed to %q (version %s) for %s on behalf of your organisation.\nUsers of your organisation can now request access to it.\n",
			t.Title, t.Version, t.AppName)
	})
}

func adminRequests(e *Env, args []string) int {
	_, c, org, status := e.adminContext("requests", args, 0, "no arguments")
	if c == nil {
		return status
	}
	reqs, err := c.AccessRequests(e.Context(), org)
	if err != nil {
		return e.failSession(c, err)
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
	pos, c, org, status := e.adminContextFlags(fs, args, 2, "REQUEST approve|deny")
	if c == nil {
		return status
	}
	decision := strings.ToLower(pos[1])
	if decision != api.DecisionApprove && decision != api.DecisionDeny {
		return e.Usagef("the decision must be approve or deny, not %q", pos[1])
	}
	r, err := c.Decide(e.Context(), org, pos[0], decision, *reason)
	if err != nil {
		return e.failSession(c, err)
	}
	return e.Output(r, func(w io.Writer) {
		verb := "approved"
		if decision == api.DecisionDeny {
			verb = "denied"
		}
		fmt.Fprintf(w, "Request %s %s.\n", pos[0], verb)
	})
}
