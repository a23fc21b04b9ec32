package cli

import (
	"fmt"
	"io"
)

// runSupportBundle is magdesk support-bundle FILE: a zip for the help desk with versions, the
// settings and their sources, the last log lines and the certificate inventory — no secrets.
func runSupportBundle(e *Env, args []string) int {
	fs := e.Flags("support-bundle")
	pos, err := parseArgs(fs, args)
	if err == nil {
		err = wantArgs(pos, 1, "FILE (the zip to write)")
	}
	if err != nil {
		return e.Fail(err)
	}
	svc, _ := e.sessionService()
	res, err := svc.WriteSupportBundle(e.Context(), pos[0])
	if err != nil {
		return e.Fail(err)
	}
	return e.Output(res, func(w io.Writer) {
		fmt.Fprintf(w, "Support bundle written to %s (%d certificates listed", res.File, res.Certificates)
		if len(res.StoreProblems) > 0 {
			fmt.Fprintf(w, "; %d stores could not be read", len(res.StoreProblems))
		}
		fmt.Fprintln(w, "). It contains no password, token or private key.")
	})
}
