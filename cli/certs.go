package cli

import "fmt"

// runCerts is magdesk certs (placeholder; the CERTSTORE owner replaces this file).
func runCerts(e *Env, args []string) int {
	fmt.Fprintln(e.IO.Err, "magdesk: certificate commands are not in this build")
	return ExitError
}
