// Command magdesk is MAG Desktop: the GUI by default, the command line when given a command.
package main

import (
	"os"

	"github.com/mag-desktop/magdesk/internal/cli"
	"github.com/mag-desktop/magdesk/internal/quietlocale"
)

func main() {
	quietlocale.Restore() // Fyne has read the locale by now
	args := os.Args[1:]
	if cli.WantsGUI(args) {
		os.Exit(runGUI(args))
	}
	os.Exit(cli.Run(args, cli.Stdio()))
}
