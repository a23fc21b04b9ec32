package cli

import (
	"fmt"
	"net/url"
	"os/exec"
)

// openBrowser hands an https URL to the desktop's default browser (browserCommand is per OS).
// Only https links from the gateway are opened, never anything a server could turn into a
// local command.
func openBrowser(link string) error {
	u, err := url.Parse(link)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("refusing to open %q: not an https link", link)
	}
	name, args := browserCommand(u.String())
	path, err := exec.LookPath(name)
	if err != nil {
		return fmt.Errorf("%s not found", name)
	}
	// Not tied to the command's context: the browser must outlive magdesk.
	cmd := exec.Command(path, args...)
	if err := cmd.Start(); err != nil {
		return err
	}
	// The opener returns quickly (it hands the link to a running browser); reap it without waiting.
	go func() { _ = cmd.Wait() }()
	return nil
}
