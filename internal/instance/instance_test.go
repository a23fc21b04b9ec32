package instance

import (
	"errors"
	"net"
	"os"
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
	fi, err := os.Stat(SocketPath(home))
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
	ln, err := net.Listen("unix", SocketPath(home))
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(SocketPath(home)); err != nil {
		t.Fatal("stale socket not present:", err)
	}
	in, err := Acquire(home, nil, nil)
	if err != nil {
		t.Fatalf("Acquire over stale socket: %v", err)
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(SocketPath(home)); !errors.Is(err, os.ErrNotExist) {
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
	c, err := net.Dial("unix", SocketPath(home))
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

func TestLongHomeUsesShortSocketPath(t *testing.T) {
	long := "/" + strings.Repeat("a", 150)
	p := SocketPath(long)
	if len(p) >= 100 || !strings.Contains(p, "magdesk-") {
		t.Fatalf("SocketPath = %q", p)
	}
	if SocketPath(long) != p || SocketPath(long+"b") == p {
		t.Fatal("socket path must be stable per home and differ between homes")
	}
}
