package instance

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const nobody = 65534

// TestMain lets the test binary act as another user's process (see asNobody).
func TestMain(m *testing.M) {
	switch os.Getenv("MAGDESK_INSTANCE_HELPER") {
	case "listen": // listen at the path, open to all, and keep whatever arrives in path.got
		syscall.Umask(0)
		path := os.Args[len(os.Args)-1]
		ln, err := net.Listen("unix", path)
		if err != nil {
			os.Exit(3)
		}
		for {
			c, err := ln.Accept()
			if err != nil {
				os.Exit(0)
			}
			b, _ := io.ReadAll(io.LimitReader(c, 4096))
			_ = os.WriteFile(path+".got", b, 0o666)
			_, _ = c.Write([]byte("ok\n"))
			c.Close()
		}
	case "send": // hand a link to the socket at the path; exit 0 only if it was taken
		c, err := net.Dial("unix", os.Args[len(os.Args)-1])
		if err != nil {
			os.Exit(4)
		}
		b, _ := json.Marshal(message{Args: []string{"magdesk://activate?token=from-another-user"}})
		_, _ = c.Write(append(b, '\n'))
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		if ack, _ := bufio.NewReader(c).ReadString('\n'); ack != "ok\n" {
			os.Exit(5)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// asNobody starts this test binary as another user in helper mode on path.
func asNobody(t *testing.T, mode, path string) *exec.Cmd {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root to run a process as another user")
	}
	dir, err := os.MkdirTemp("", "magdesk-helper-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "helper")
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil || os.Chmod(dir, 0o755) != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, path)
	cmd.Env = append(os.Environ(), "MAGDESK_INSTANCE_HELPER="+mode)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	return cmd
}

// sharedHome is a home folder anyone may write to, as the temp folder was.
func sharedHome(t *testing.T) string {
	home, err := os.MkdirTemp("", "magdesk-shared-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	if err := os.Chmod(home, 0o777); err != nil {
		t.Fatal(err)
	}
	return home
}

// TestOtherUsersListenerGetsNothing: another user listening at the socket path gets no link:
// the socket is not this user's, so Acquire does not connect, and becomes the instance itself.
func TestOtherUsersListenerGetsNothing(t *testing.T) {
	home := sharedHome(t)
	path := socketPath(t, home)
	cmd := asNobody(t, "listen", path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for i := 0; ; i++ {
		if _, err := os.Stat(path); err == nil {
			break
		}
		if i > 200 {
			t.Fatal("the other user's listener did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	in, err := Acquire(home, []string{"magdesk://activate?token=secret-token"}, nil)
	if err != nil {
		t.Fatalf("Acquire beside another user's socket: %v", err)
	}
	defer in.Close()
	if got, err := os.ReadFile(path + ".got"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the other user's listener received %q", got)
	}
}

// TestOtherUsersLinkIsRefused: another user who can reach the socket (its mode opened up) is
// refused on its credentials: the link never reaches the window.
func TestOtherUsersLinkIsRefused(t *testing.T) {
	home := sharedHome(t)
	got := make(chan []string, 1)
	in, err := Acquire(home, nil, func(a []string) { got <- a })
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	path := socketPath(t, home)
	if err := os.Chmod(path, 0o777); err != nil {
		t.Fatal(err)
	}
	out, err := asNobody(t, "send", path).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 5 {
		t.Fatalf("the other user's hand-over: %v %s, want it refused without an answer", err, strings.TrimSpace(string(out)))
	}
	select {
	case a := <-got:
		t.Fatalf("the window received another user's arguments %q", a)
	case <-time.After(300 * time.Millisecond):
	}
}
