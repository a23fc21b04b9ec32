package cli

import "fmt"

// runSupportBundle is magdesk support-bundle FILE (placeholder; the PACKAGING owner replaces
// this file).
func runSupportBundle(e *Env, args []string) int {
	fmt.Fprintln(e.IO.Err, "magdesk: support-bundle is not in this build")
	return ExitError
}
