package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/mag-desktop/magdesk/logging"
)

// openLog opens the app log (the rotating file of package logging, secrets redacted) and
// returns it with the function that closes it: Run is also called in-process, and must leave
// no file open when it returns. A log that cannot be opened is reported and stderr is used.
// (logging.Setup keeps its file open for the life of the process, which suits the GUI.)
func openLog(home, level string, stderr io.Writer) (*slog.Logger, func()) {
	lvl, err := logging.ParseLevel(level)
	if err != nil {
		fmt.Fprintln(stderr, "magdesk: warning: log:", err)
	}
	dir := logging.Dir(home)
	err = os.MkdirAll(dir, 0o700)
	if err == nil {
		var rf *logging.RotatingFile
		if rf, err = logging.OpenRotating(filepath.Join(dir, logging.FileName), logging.MaxSize, logging.Keep); err == nil {
			return logging.New(rf, lvl), func() { _ = rf.Close() }
		}
	}
	fmt.Fprintf(stderr, "magdesk: warning: log: cannot write logs in %s (%v); logging to standard error\n", dir, err)
	return logging.New(stderr, lvl), func() {}
}
