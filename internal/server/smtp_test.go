package server_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server"
	"github.com/mag-desktop/magdesk/internal/server/mail"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// TestActivationOverSMTP configures magd with a real SMTP server (Debian's aiosmtpd on loopback)
// and activates an account with the link from the email that server received.
func TestActivationOverSMTP(t *testing.T) {
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import aiosmtpd").Run(); err != nil {
		t.Skip("python3-aiosmtpd is not installed (apt-get install python3-aiosmtpd)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	received := filepath.Join(t.TempDir(), "received")
	smtpd := exec.Command(python, "-u", "-m", "aiosmtpd", "-n", "-d", "-l", addr, "-c", "aiosmtpd.handlers.Mailbox", received)
	var smtpLog bytes.Buffer
	smtpd.Stderr = &smtpLog
	if err := smtpd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = smtpd.Process.Kill(); _ = smtpd.Wait() })
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if i > 100 {
			t.Fatal("aiosmtpd did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}

	var magdLog bytes.Buffer
	env := servertest.Start(t, servertest.WithSecurityQuestions(false), servertest.WithConfig(func(c *server.Config) {
		c.SMTP = &mail.SMTPConfig{Addr: addr, From: "magd@magd.test"}
		c.Logger = slog.New(slog.NewTextHandler(&magdLog, nil))
	}))
	org := env.CreateOrg(t, "Mail Org")
	uid := env.CreateUser(t, org, "mo@mail.example", "Mo", "Mail", false)
	var msgs []mail.Message
	for i := 0; len(msgs) == 0; i++ {
		if i > 200 {
			t.Fatalf("the activation email never reached the SMTP server\nmagd: %s\nsmtpd: %s", magdLog.String(), smtpLog.String())
		}
		time.Sleep(50 * time.Millisecond)
		msgs, _ = mail.ReadMaildir(received)
	}
	m := regexp.MustCompile(`magdesk://activate\?token=([A-Za-z0-9_-]{43})`).FindStringSubmatch(msgs[0].Body)
	if m == nil || msgs[0].To != "mo@mail.example" {
		t.Fatalf("delivered message: %+v", msgs[0])
	}
	c := env.Client(t, nil)
	pw := goodPW
	if st, p := env.Do(t, c, "POST", api.PathActivationComplete, "", api.ActivationCompleteRequest{Token: m[1], Password: pw, PasswordConfirm: pw}, nil); st != 200 {
		t.Fatalf("activate with the delivered link: %v", p)
	}
	if _, p := env.Login(t, c, uid, pw); p != nil {
		t.Fatal(fmt.Sprint(p))
	}
}
