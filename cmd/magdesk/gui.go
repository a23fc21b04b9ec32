package main

import (
	"fmt"
	"os"
)

// runGUI starts the Fyne app. The APP owner replaces this file.
func runGUI(args []string) int {
	fmt.Fprintln(os.Stderr, "magdesk: the desktop window is not part of this build yet; run 'magdesk help' for the command line")
	return 1
}
