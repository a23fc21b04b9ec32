package cli

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/mag-desktop/magdesk/logging"
)

// openLog is the app log (rotating file in the per-user log folder, secrets redacted). A log
// that cannot be opened is reported once and the command goes on.
func openLog(home, level string, stderr io.Writer) *slog.Logger {
	log, err := logging.Setup(home, level)
	if err != nil {
		fmt.Fprintln(stderr, "magdesk: warning: log:", err)
	}
	return log
}
