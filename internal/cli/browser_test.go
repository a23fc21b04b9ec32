package cli

import (
	"context"
	"strings"
	"testing"
)

// Only https links reach the opener: anything else a server might send could start a local
// program or open a local file.
func TestOpenBrowserRefusesAllButHTTPS(t *testing.T) {
	for _, link := range []string{"http://gw.example/launch", "file:///etc/passwd", "javascript:alert(1)",
		"https:///no-host", "/usr/bin/xterm", "magdesk://activate?token=secret"} {
		err := openBrowser(context.Background(), link)
		if err == nil {
			t.Errorf("%q was handed to the opener", link)
			continue
		}
		if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "passwd") {
			t.Errorf("%q: the error repeats the link: %v", link, err)
		}
	}
}
