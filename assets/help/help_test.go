package help

import (
	"strings"
	"testing"
)

func TestEveryTopicHasTextAndAScreen(t *testing.T) {
	seen := map[string]bool{}
	for _, tp := range Topics() {
		if !strings.HasPrefix(tp.Body, "## ") || len(tp.Body) < 200 {
			t.Errorf("%s: body too short or without a title", tp.ID)
		}
		if tp.Action == "" || tp.Screen == "" {
			t.Errorf("%s: no link to the screen that fixes it", tp.ID)
		}
		seen[tp.Title] = true
	}
	// The questions of the seed help page.
	for _, q := range []string{"First-time login", "Returning to credentialing", "Regular login", "Error during login", "Error 2035", "Tips"} {
		if !seen[q] {
			t.Errorf("no help page for %q", q)
		}
	}
}
