//go:build !windows

package opener

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// script writes an executable shell script standing in for the system's opener.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "opener")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunReportsFailureWithoutTheLink(t *testing.T) {
	const link = "https://gw.example/launch?ticket=secret-single-use"
	cases := []struct {
		name, body string
		wantErr    string // "" means opened
		quick      bool   // must return well before the grace period
	}{
		{"opens and exits", "exit 0", "", true},
		{"no browser", `echo "xdg-open: no method available for opening '$1'" >&2; exit 3`, "no method available for opening '<link>'", true},
		{"still running after grace (the browser it started)", "sleep 10", "", false},
	}
	for _, c := range cases {
		start := time.Now()
		err := run(context.Background(), link, script(t, c.body), link)
		took := time.Since(start)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: error %v, want %q", c.name, err, c.wantErr)
		case err != nil && strings.Contains(err.Error(), "secret-single-use"):
			t.Errorf("%s: the error shows the link: %v", c.name, err)
		case c.quick && took > grace/2:
			t.Errorf("%s: took %v", c.name, took)
		}
	}
}

func TestRunWithoutOpener(t *testing.T) {
	err := run(context.Background(), "https://x", "no-such-opener-program")
	if !errors.Is(err, ErrNoOpener) {
		t.Fatalf("%v, want ErrNoOpener", err)
	}
}
