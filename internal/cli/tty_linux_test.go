package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/mag-desktop/magdesk/internal/server/servertest"
	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair (Linux /dev/ptmx).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var unlock int32
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, m.Fd(), unix.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); errno != 0 {
		t.Fatalf("unlock pty: %v", errno)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty slave: %v", err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// terminal is a magdesk process on a pseudo-terminal: what it prints, and a way to type.
type terminal struct {
	t      *testing.T
	master *os.File
	mu     sync.Mutex
	screen bytes.Buffer
}

func (tm *terminal) read() {
	buf := make([]byte, 4096)
	for {
		n, err := tm.master.Read(buf)
		tm.mu.Lock()
		tm.screen.Write(buf[:n])
		tm.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (tm *terminal) text() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.screen.String()
}

// waitFor waits until the screen shows s (count times), then returns.
func (tm *terminal) waitFor(s string, count int) {
	tm.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(tm.text(), s) < count {
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out waiting for %q; screen:\n%s", s, tm.text())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitForNoEcho waits until the program has switched echo off, as it does after printing a
// password prompt: typing before that would show the password.
func (tm *terminal) waitForNoEcho() {
	tm.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Termios requests on the master act on its slave, the program's terminal.
		st, err := unix.IoctlGetTermios(int(tm.master.Fd()), unix.TCGETS)
		if err != nil {
			tm.t.Fatal(err)
		}
		if st.Lflag&unix.ECHO == 0 {
			return
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("echo still on 30 s after the prompt; screen:\n%s", tm.text())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (tm *terminal) typeLine(s string) {
	tm.t.Helper()
	if _, err := tm.master.Write([]byte(s + "\r")); err != nil {
		tm.t.Fatal(err)
	}
}

// On a terminal, activation asks for the password twice without echo and for four security
// questions picked from the catalogue; the password never appears on the screen.
func TestInteractiveActivationOnATerminal(t *testing.T) {
	bin := magdeskBinary(t)
	env := servertest.Start(t)
	org := env.CreateOrg(t, "Acme Aerospace")
	userID := env.CreateUser(t, org, "dan@acme.example", "Dan", "Terminal", false)
	token := env.ActivationToken(t, userID)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, env.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	master, slave := openPTY(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--server", env.URL, "--ca", ca, "activate", "magdesk://activate?token="+token)
	cmd.Env = append(os.Environ(), "MAGDESK_HOME="+t.TempDir())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	tm := &terminal{t: t, master: master}
	go tm.read()

	const pw = "tangerine velvet compass harbour"
	for i := 1; i <= 4; i++ {
		tm.waitFor(fmt.Sprintf("Question %d of 4 (number): ", i), 1)
		if i == 2 {
			tm.typeLine("1") // already chosen: asked again
			tm.waitFor("already chose that question", 1)
			tm.waitFor("Question 2 of 4 (number): ", 2)
		}
		tm.typeLine(fmt.Sprint(i))
		tm.waitFor("?", 1)
		time.Sleep(50 * time.Millisecond)
		tm.typeLine(fmt.Sprintf("answer %d", i))
	}
	tm.waitFor("New password: ", 1)
	tm.waitForNoEcho()
	tm.typeLine(pw)
	tm.waitFor("Repeat the new password: ", 1)
	tm.waitForNoEcho()
	tm.typeLine(pw)
	err := cmd.Wait()
	time.Sleep(100 * time.Millisecond)
	screen := tm.text()
	if err != nil {
		t.Fatalf("activate on a terminal: %v\n%s", err, screen)
	}
	if !strings.Contains(screen, "Your account "+userID+" is active") {
		t.Fatalf("no success message:\n%s", screen)
	}
	if strings.Contains(screen, pw) {
		t.Fatalf("the password was echoed:\n%s", screen)
	}
	if !strings.Contains(screen, "answer 3") {
		t.Fatalf("security answers are typed visibly, but none shows:\n%s", screen)
	}
}

// Ctrl-C at a password prompt ends the command at once, says so, and leaves echo on.
func TestInterruptAtPasswordPrompt(t *testing.T) {
	bin := magdeskBinary(t)
	master, slave := openPTY(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--server", "https://127.0.0.1:1", "login", "--user", "dan_1")
	cmd.Env = append(os.Environ(), "MAGDESK_HOME="+t.TempDir())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tm := &terminal{t: t, master: master}
	go tm.read()
	tm.waitFor("Password for dan_1: ", 1)
	tm.waitForNoEcho()
	if _, err := master.Write([]byte{3}); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit after Ctrl-C: %v\n%s", err, tm.text())
	}
	time.Sleep(50 * time.Millisecond)
	if !strings.Contains(tm.text(), "cancelled") {
		t.Fatalf("no word of the cancellation:\n%s", tm.text())
	}
	st, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if st.Lflag&unix.ECHO == 0 {
		t.Fatal("the terminal was left without echo")
	}
}
