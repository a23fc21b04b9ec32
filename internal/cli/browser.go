package cli

import (
	"context"
	"fmt"
	"net/url"

	"github.com/mag-desktop/magdesk/internal/opener"
)

// openBrowser hands an https URL to the desktop's default browser, through the same opener as
// the window (it reports a failing opener and never prints the link). Only https links from the
// gateway are opened, never anything a server could turn into a local command.
func openBrowser(ctx context.Context, link string) error {
	u, err := url.Parse(link)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("refusing to open a link that is not https")
	}
	return opener.Open(ctx, u.String())
}
