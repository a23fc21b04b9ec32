// Package logging is magdesk's log: structured JSON (log/slog) in a size-rotated file in the
// per-user log folder, behind a handler that removes secrets (passwords, tokens, OTP secrets and
// codes, private keys) before anything is written.
package logging

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Rotation limits: at most (1+Keep) files of MaxSize bytes.
const (
	FileName = "magdesk.log"
	MaxSize  = 1 << 20
	Keep     = 4
)

// Dir is the per-user log folder: <home>/logs when MAGDESK_HOME is set (tests, portable use),
// else os.UserCacheDir()/magdesk/logs — ~/.cache/magdesk/logs on Linux,
// %LocalAppData%\magdesk\logs on Windows, ~/Library/Caches/magdesk/logs on macOS.
func Dir(home string) string {
	if os.Getenv("MAGDESK_HOME") != "" || home == "" {
		return filepath.Join(home, "logs")
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return filepath.Join(home, "logs")
	}
	return filepath.Join(base, "magdesk", "logs")
}

// ParseLevel maps debug, info, warn and error ("" is info) to a slog level.
func ParseLevel(level string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "debug":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return slog.LevelInfo, fmt.Errorf("unknown log level %q: use debug, info, warn or error", level)
}

// Setup opens the rotating log in Dir(home) at level for the life of the process (the GUI):
// see Open.
func Setup(home string, level string) (*slog.Logger, error) {
	log, _, err := Open(home, level)
	return log, err
}

// Open opens the rotating log in Dir(home) at level, and the Closer that closes its file (for
// callers such as a command run in-process, which must leave no file open). It always returns
// a usable logger and Closer: on error (bad level, folder not writable) the logger writes to
// standard error instead, or at info level, and the error says what to fix.
func Open(home string, level string) (*slog.Logger, io.Closer, error) {
	lvl, lerr := ParseLevel(level)
	dir := Dir(home)
	err := os.MkdirAll(dir, 0o700)
	if err == nil {
		var rf *RotatingFile
		if rf, err = OpenRotating(filepath.Join(dir, FileName), MaxSize, Keep); err == nil {
			return New(rf, lvl), rf, lerr
		}
	}
	err = fmt.Errorf("logging to standard error: cannot write logs in %s: %w", dir, err)
	return New(os.Stderr, lvl), nopCloser{}, joinNonNil(lerr, err)
}

// nopCloser stands for the file when the log goes to standard error, which is not ours to close.
type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// New is a redacting JSON logger writing to w.
func New(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(NewRedactingHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
}

func joinNonNil(a, b error) error {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return fmt.Errorf("%w; %w", a, b)
}

// LogFiles lists the log files in dir, newest first (magdesk.log, magdesk.log.1, ...).
func LogFiles(dir string) []string {
	var out []string
	if _, err := os.Stat(filepath.Join(dir, FileName)); err == nil {
		out = append(out, filepath.Join(dir, FileName))
	}
	for i := 1; ; i++ {
		p := filepath.Join(dir, FileName+"."+strconv.Itoa(i))
		if _, err := os.Stat(p); err != nil {
			return out
		}
		out = append(out, p)
	}
}

// Tail returns up to n of the last log lines in dir, oldest first, across rotated files.
func Tail(dir string, n int) ([]string, error) {
	var lines []string
	for _, f := range LogFiles(dir) {
		got, err := fileLines(f)
		if err != nil {
			return nil, err
		}
		lines = append(got, lines...)
		if len(lines) >= n {
			break
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines, nil
}

func fileLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), MaxSize)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}
