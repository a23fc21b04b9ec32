// Package opener hands a link or a folder to the desktop: the default browser, the file
// manager. Unlike a fire-and-forget start, it reports when the system's opener fails (no
// browser installed, none configured), and it never lets the opener print the link, which may
// be a single-use secret, to the app's output or log.
package opener

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// grace is how long Open waits for the opener to fail. An opener that is still running then
// has started the browser (xdg-open waits for a browser it had to start until it closes).
const grace = 3 * time.Second

// ErrNoOpener means the system has no program to open links with.
var ErrNoOpener = errors.New("no program to open links or folders is installed")

// Open opens target (a URL or a folder path) with the desktop's default program.
func Open(ctx context.Context, target string) error {
	name, args := command(target)
	return run(ctx, target, name, args...)
}

// run starts name with args and waits up to grace for it to fail; its output is kept only to
// explain a failure, with target cut out of it.
func run(ctx context.Context, target, name string, args ...string) error {
	path, err := exec.LookPath(name)
	if err != nil {
		return fmt.Errorf("%w (%s was not found)", ErrNoOpener, name)
	}
	var out bytes.Buffer
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s could not be started: %w", name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-done:
		if err == nil {
			return nil
		}
		return fmt.Errorf("%s failed (%v)%s", name, err, reason(out.String(), target))
	case <-t.C:
		return nil // still running: it started the program and waits for it
	case <-ctx.Done():
		return nil
	}
}

// reason is the opener's last output line, without the target, for the user to read.
func reason(out, target string) string {
	out = strings.ReplaceAll(out, target, "<link>")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if last == "" {
		return ""
	}
	if len(last) > 200 {
		last = last[:200] + "…"
	}
	return ": " + last
}
