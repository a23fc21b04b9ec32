package instance

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSecondStartHandsArgsToFirst(t *testing.T) {
	home := t.TempDir()
	got := make(chan []string, 1)
	first, err := Acquire(home, nil, func(a []string) { got <- a })
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()

	link := "magdesk://activate?token=abc"
	if _, err := Acquire(home, []string{link}, nil); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Acquire err = %v, want ErrRunning", err)
	}
	select {
	case a := <-got:
		if len(a) != 1 || a[0] != link {
			t.Fatalf("first got %q", a)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("first instance never received the link")
	}
	fi, err := os.Stat(socketPath(t, home))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Fatalf("socket is open to other users: %v", fi.Mode().Perm())
	}
}

func TestStaleSocketIsReplaced(t *testing.T) {
	home := t.TempDir()
	// A crashed instance leaves its socket file behind with nobody listening.
	ln, err := net.Listen("unix", socketPath(t, home))
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(socketPath(t, home)); err != nil {
		t.Fatal("stale socket not present:", err)
	}
	in, err := Acquire(home, nil, nil)
	if err != nil {
		t.Fatalf("Acquire over stale socket: %v", err)
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(socketPath(t, home)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("socket left after Close")
	}
	// After a clean close the next start becomes primary again.
	in2, err := Acquire(home, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	in2.Close()
}

func TestGarbageFromPeerIsIgnored(t *testing.T) {
	home := t.TempDir()
	got := make(chan []string, 1)
	in, err := Acquire(home, nil, func(a []string) { got <- a })
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	c, err := net.Dial("unix", socketPath(t, home))
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte(strings.Repeat("x", 1000) + "\n"))
	c.Close()
	// The listener must still serve a proper request afterwards.
	if _, err := Acquire(home, []string{"magdesk://activate?token=t"}, nil); !errors.Is(err, ErrRunning) {
		t.Fatalf("err = %v", err)
	}
	select {
	case a := <-got:
		if a[0] != "magdesk://activate?token=t" {
			t.Fatalf("got %q", a)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("listener died after garbage")
	}
}

func socketPath(t *testing.T, home string) string {
	t.Helper()
	p, err := SocketPath(home)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLongHomeUsesPrivateFolder: a home too long for a socket path gets a socket in this user's
// private runtime folder, never in a folder others can write to; a folder that others could
// have prepared is refused.
func TestLongHomeUsesPrivateFolder(t *testing.T) {
	long := "/" + strings.Repeat("a", 150)
	runtimeDir := t.TempDir()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	cases := []struct {
		name, xdg string
		prepare   func(t *testing.T)
		wantDir   string
		wantErr   bool
	}{
		{"XDG_RUNTIME_DIR", runtimeDir, nil, runtimeDir, false},
		{"no XDG_RUNTIME_DIR", "", nil, filepath.Join(tmp, fmt.Sprintf("magdesk-%d", os.Getuid())), false},
		{"XDG_RUNTIME_DIR open to others", tmp, nil, filepath.Join(tmp, fmt.Sprintf("magdesk-%d", os.Getuid())), false},
		{"a folder in the temp folder open to others", "", func(t *testing.T) {
			if err := os.Chmod(filepath.Join(tmp, fmt.Sprintf("magdesk-%d", os.Getuid())), 0o777); err != nil {
				t.Fatal(err)
			}
		}, "", true},
	}
	if err := os.Chmod(tmp, 0o777); err != nil { // a shared temp folder
		t.Fatal(err)
	}
	if err := os.Chmod(runtimeDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("XDG_RUNTIME_DIR", tc.xdg)
			if tc.prepare != nil {
				tc.prepare(t)
			}
			p, err := SocketPath(long)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("SocketPath = %q, want an error", p)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(p) >= 100 || filepath.Dir(p) != tc.wantDir || !strings.Contains(p, "magdesk-") {
				t.Fatalf("SocketPath = %q, want a short name in %s", p, tc.wantDir)
			}
			if fi, err := os.Stat(filepath.Dir(p)); err != nil || fi.Mode().Perm()&0o077 != 0 {
				t.Fatalf("socket folder %s: %v %v", filepath.Dir(p), fi.Mode(), err)
			}
			if q, _ := SocketPath(long + "b"); q == p {
				t.Fatal("socket path must differ between homes")
			}
		})
	}
}
