package cli

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/mag-desktop/magdesk/internal/logging"
)

// openLog opens the app log (the rotating file of package logging, secrets redacted) and
// returns it with the function that closes it: Run is also called in-process, and must leave
// no file open when it returns. A log that cannot be opened is reported and stderr is used.
func openLog(home, level string, stderr io.Writer) (*slog.Logger, func()) {
	log, closer, err := logging.Open(home, level)
	if err != nil {
		fmt.Fprintln(stderr, "magdesk: warning: log:", err)
	}
	return log, func() { _ = closer.Close() }
}
