package cli

import (
	"fmt"
	"io"

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
	rep := e.doctor(*app)
	code := e.Output(rep, func(w io.Writer) { writeDoctor(w, rep) })
	if code == ExitOK && rep.Worst() == service.CheckProblem {
		return ExitProblem
	}
	return code
}

// doctor runs the check as the current user (when a session is cached) or as nobody.
func (e *Env) doctor(app string) service.DoctorReport {
	svc, _ := e.sessionService()
	return svc.Doctor(e.Context(), app)
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
