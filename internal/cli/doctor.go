package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/internal/service"
)

// runDoctor is magdesk doctor [--app APP]: the connection and setup check, line by line with
// what to do (--json for IT). Exit 3 when a check found a problem.
func runDoctor(e *Env, args []string) int {
	fs := e.Flags("doctor")
	app := fs.String("app", "", "also explain why this application (id or name) can or cannot be opened")
	if _, err := parseArgs(fs, args); err != nil {
		return e.Fail(err)
	}
	rep := service.RunDoctor(e.Context(), e.doctorInput(e.Context(), *app))
	code := e.Output(rep, func(w io.Writer) { writeDoctor(w, rep) })
	if code == ExitOK && rep.Worst() == service.CheckProblem {
		return ExitProblem
	}
	return code
}

// doctorInput gathers what the check looks at from this run's settings, keyring and stores.
func (e *Env) doctorInput(ctx context.Context, app string) service.DoctorInput {
	in := service.DoctorInput{
		Server: e.server(), Network: e.Network(), Anon: e.Client, User: e.CurrentUser(),
		KeyringWarning: e.Sessions().Warning(), CertStores: e.Settings.CertStores, App: app,
	}
	if in.Server == "" {
		return in
	}
	if c, err := e.Current(ctx); err == nil {
		in.Session = c
	}
	certs := service.NewLocalCerts(certstore.InventoryOptions{Home: e.Home, Backends: e.Settings.CertStores}, e.Log)
	in.Identities = func(ctx context.Context) ([]service.Identity, error) {
		li := service.ListInput{ServerURL: in.Server}
		if in.Session != nil {
			li.ServerURL, li.UserID = in.Session.Server(), in.Session.UserID()
			mine, err := in.Session.Certificates(ctx)
			if err != nil {
				return nil, err
			}
			li.Mine = mine
		}
		return certs.List(ctx, li)
	}
	in.Sessions = func(context.Context) ([]service.CachedSession, error) {
		refs, err := e.Sessions().List()
		out := make([]service.CachedSession, 0, len(refs))
		for _, r := range refs {
			out = append(out, service.CachedSession{ServerURL: r.Server, UserID: r.UserID})
		}
		return out, err
	}
	return in
}

var doctorMark = map[string]string{
	service.CheckOK: "ok  ", service.CheckWarning: "WARN", service.CheckProblem: "FAIL", service.CheckSkipped: "skip",
}

func writeDoctor(w io.Writer, rep service.DoctorReport) {
	fmt.Fprintf(w, "Checking %s\n", dash(rep.Server))
	for _, c := range rep.Checks {
		fmt.Fprintf(w, "%s %-12s %s\n", doctorMark[c.Status], c.ID, c.Result)
		if c.Fix != "" {
			fmt.Fprintf(w, "     %-12s what to do: %s\n", "", c.Fix)
		}
	}
	if a := rep.App; a != nil {
		name := a.AppID
		if a.Name != "" {
			name = a.Name + " (" + a.AppID + ")"
		}
		fmt.Fprintf(w, "\n%s: %s\n", name, a.Answer)
	}
	switch rep.Worst() {
	case service.CheckOK:
		fmt.Fprintln(w, "\nEverything checked is fine.")
	default:
		fmt.Fprintln(w, "\nLines marked WARN or FAIL say what to do; `magdesk support-bundle FILE.zip` includes this check for your help desk.")
	}
}
