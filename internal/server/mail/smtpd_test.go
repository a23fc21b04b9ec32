package mail

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Real SMTP servers for the tests: Debian's aiosmtpd (python3-aiosmtpd), on loopback.
const python = "/usr/bin/python3"

func requireAiosmtpd(t *testing.T) {
	t.Helper()
	if err := exec.Command(python, "-c", "import aiosmtpd").Run(); err != nil {
		t.Skipf("%s with aiosmtpd is not installed (apt-get install python3-aiosmtpd): %v", python, err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// smtpd is one running aiosmtpd that delivers into maildir.
type smtpd struct {
	cmd     *exec.Cmd
	maildir string
	addr    string
	out     *lockedBuffer
}

// startPlainSMTPD runs `python3 -m aiosmtpd` without TLS or auth.
func startPlainSMTPD(t *testing.T, port int) *smtpd {
	maildir := filepath.Join(t.TempDir(), "received")
	return startSMTPD(t, port, maildir, "-m", "aiosmtpd", "-n", "-l", fmt.Sprintf("127.0.0.1:%d", port),
		"-c", "aiosmtpd.handlers.Mailbox", maildir)
}

// startTLSSMTPD runs testdata/smtpd.py: STARTTLS required with the given certificate, and
// PLAIN auth required for user and password.
func startTLSSMTPD(t *testing.T, port int, certFile, keyFile, user, password string) *smtpd {
	maildir := filepath.Join(t.TempDir(), "received")
	return startSMTPD(t, port, maildir, "testdata/smtpd.py", "--port", fmt.Sprint(port), "--maildir", maildir,
		"--cert", certFile, "--key", keyFile, "--user", user, "--password", password)
}

func startSMTPD(t *testing.T, port int, maildir string, args ...string) *smtpd {
	t.Helper()
	requireAiosmtpd(t)
	s := &smtpd{maildir: maildir, addr: fmt.Sprintf("127.0.0.1:%d", port), out: &lockedBuffer{}}
	s.cmd = exec.Command(python, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if conn, err := net.DialTimeout("tcp", s.addr, time.Second); err == nil {
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			line, _ := bufio.NewReader(conn).ReadString('\n')
			conn.Close()
			if strings.HasPrefix(line, "220") {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("aiosmtpd on %s did not start: %s", s.addr, s.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *smtpd) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// received reads what the server delivered, with the raw files for envelope headers.
func (s *smtpd) received(t *testing.T) ([]Message, string) {
	t.Helper()
	msgs, err := ReadMaildir(s.maildir)
	if err != nil {
		t.Fatal(err)
	}
	var raw strings.Builder
	names, _ := listFiles(filepath.Join(s.maildir, "new"))
	for _, n := range names {
		b, _ := os.ReadFile(filepath.Join(s.maildir, "new", n))
		raw.Write(b)
	}
	return msgs, raw.String()
}

// lockedBuffer collects output written from several goroutines (logs, a child process).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// eventually polls cond until it holds or 20 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}
