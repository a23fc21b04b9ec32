// Package cli is magdesk's command line (SPEC §4). The CLIENT owner replaces this file.
package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// IO is where a command reads and writes.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
}

// Stdio is the process's standard streams.
func Stdio() IO { return IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr} }

// WantsGUI reports whether args ask for the window: no command, --demo, or a magdesk:// link.
func WantsGUI(args []string) bool {
	for _, a := range args {
		if a == "--demo" || strings.HasPrefix(a, "magdesk://") {
			return true
		}
	}
	return len(args) == 0
}

// Run runs one command and returns the exit status.
func Run(args []string, stdio IO) int {
	fmt.Fprintln(stdio.Err, "magdesk: unknown command")
	return 2
}
