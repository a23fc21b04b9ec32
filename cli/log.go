package cli

import (
	"io"
	"log/slog"
)

// openLog is the command line's logger: debug lines on stderr when asked for, else nothing.
func openLog(_ string, level string, stderr io.Writer) *slog.Logger {
	if level != "debug" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
