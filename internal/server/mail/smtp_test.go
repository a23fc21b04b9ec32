package mail

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/internal/server/ca"
)

const token = "tok_Zq3xW9secretLINK"

func newTestSMTP(t *testing.T, cfg SMTPConfig, spool string) (*SMTPOutbox, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	if cfg.From == "" {
		cfg.From = "MAG Desktop <magd@example.test>"
	}
	o, err := NewSMTP(cfg, spool, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	o.backoffBase = 50 * time.Millisecond // quick retries; the schedule itself is tested apart
	t.Cleanup(func() { o.Close() })
	return o, logs
}

func activation(to string, n int) Message {
	return Message{To: to, Subject: fmt.Sprintf("Aktivierung Nr. %d für Jürgen", n), Template: "activation",
		Body: "Your user ID: jdoe_8421\nmagdesk://activate?token=" + token + "\n"}
}

func TestSMTPDeliversInBackground(t *testing.T) {
	srv := startPlainSMTPD(t, freePort(t))
	spool := filepath.Join(t.TempDir(), "spool")
	o, logs := newTestSMTP(t, SMTPConfig{Addr: srv.addr}, spool)
	for i := range 3 {
		if err := o.Send(context.Background(), activation(fmt.Sprintf("user%d@example.com", i), i)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the worker delivered all", func() bool { return o.Pending() == 0 })
	got, raw := srv.received(t)
	if len(got) != 3 {
		t.Fatalf("server received %d messages, want 3", len(got))
	}
	byTo := map[string]Message{}
	for _, m := range got {
		byTo[m.To] = m
	}
	for i := range 3 {
		want := activation(fmt.Sprintf("user%d@example.com", i), i)
		if m := byTo[want.To]; m.Subject != want.Subject || m.Body != want.Body || m.Template != "activation" {
			t.Errorf("received %+v\nwant     %+v", m, want)
		}
	}
	if !strings.Contains(raw, "X-MailFrom: magd@example.test") || !strings.Contains(raw, "X-RcptTo: user2@example.com") {
		t.Errorf("envelope headers missing from what the server stored:\n%s", raw)
	}
	if sent, _ := ReadMaildir(spool); len(sent) != 3 {
		t.Errorf("spool keeps %d delivered messages in cur, want 3", len(sent))
	}
	if strings.Contains(logs.String(), token) {
		t.Error("the log contains a message body")
	}
}

func TestSMTPQueuesWhileServerIsDown(t *testing.T) {
	port := freePort(t)
	spool := filepath.Join(t.TempDir(), "spool")
	o, _ := newTestSMTP(t, SMTPConfig{Addr: fmt.Sprintf("127.0.0.1:%d", port)}, spool)
	for i := range 2 {
		if err := o.Send(context.Background(), activation("a@example.com", i)); err != nil {
			t.Fatal(err)
		}
	}
	err := o.Flush(context.Background())
	if err == nil || !strings.Contains(err.Error(), "2 of 2") || !strings.Contains(err.Error(), "cannot reach") {
		t.Fatalf("Flush with the server down: %v", err)
	}
	if o.Pending() != 2 {
		t.Fatalf("Pending = %d, want 2", o.Pending())
	}

	srv := startPlainSMTPD(t, port)
	if err := o.Flush(context.Background()); err != nil {
		t.Fatalf("Flush with the server up: %v", err)
	}
	if got, _ := srv.received(t); len(got) != 2 || o.Pending() != 0 {
		t.Fatalf("received %d, pending %d; want 2 and 0", len(got), o.Pending())
	}

	// Down again: the worker's own retries deliver once it is back, without a Flush.
	srv.stop()
	if err := o.Send(context.Background(), activation("b@example.com", 3)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let the worker fail at least once
	if o.Pending() != 1 {
		t.Fatalf("Pending = %d while the server is down, want 1", o.Pending())
	}
	srv = startPlainSMTPD(t, port)
	eventually(t, "the worker retried", func() bool { return o.Pending() == 0 })
	if got, _ := srv.received(t); len(got) != 1 || got[0].To != "b@example.com" {
		t.Fatalf("received %v after the retry", got)
	}
}

func TestSMTPSpoolSurvivesRestart(t *testing.T) {
	port := freePort(t)
	spool := filepath.Join(t.TempDir(), "spool")
	cfg := SMTPConfig{Addr: fmt.Sprintf("127.0.0.1:%d", port)}
	first, _ := newTestSMTP(t, cfg, spool)
	if err := first.Send(context.Background(), activation("a@example.com", 1)); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if first.Pending() != 1 {
		t.Fatalf("Pending after Close = %d, want 1", first.Pending())
	}

	srv := startPlainSMTPD(t, port)
	second, _ := newTestSMTP(t, cfg, spool)
	eventually(t, "the restarted outbox delivered the spool", func() bool { return second.Pending() == 0 })
	if got, _ := srv.received(t); len(got) != 1 || got[0].Subject != activation("", 1).Subject {
		t.Fatalf("received %v", got)
	}
}

func TestSMTPTwoSendersShareASpool(t *testing.T) {
	srv := startPlainSMTPD(t, freePort(t))
	spool := filepath.Join(t.TempDir(), "spool")
	a, _ := newTestSMTP(t, SMTPConfig{Addr: srv.addr}, spool)
	b, _ := newTestSMTP(t, SMTPConfig{Addr: srv.addr}, spool)
	const n = 20
	for i := range n {
		if err := []*SMTPOutbox{a, b}[i%2].Send(context.Background(), activation("u@example.com", i)); err != nil {
			t.Fatal(err)
		}
	}
	_ = a.Flush(context.Background())
	_ = b.Flush(context.Background())
	eventually(t, "both delivered", func() bool { return a.Pending() == 0 })
	got, _ := srv.received(t)
	seen := map[string]int{}
	for _, m := range got {
		seen[m.Subject]++
	}
	if len(got) != n || len(seen) != n {
		t.Fatalf("server received %d messages (%d distinct), want %d exactly once each", len(got), len(seen), n)
	}
}

func TestSMTPStaleClaims(t *testing.T) {
	srv := startPlainSMTPD(t, freePort(t))
	spool := filepath.Join(t.TempDir(), "spool")
	md, err := newMaildir(spool, "magd@example.test")
	if err != nil {
		t.Fatal(err)
	}
	// Two messages claimed by senders that are gone: one a moment ago, one long ago.
	for i, age := range []time.Duration{time.Minute, time.Hour} {
		if err := md.Send(context.Background(), activation("u@example.com", i)); err != nil {
			t.Fatal(err)
		}
		names, _ := listFiles(filepath.Join(spool, "new"))
		for _, name := range names {
			if strings.Contains(name, claimMarker) {
				continue
			}
			claimed := filepath.Join(spool, "new", name+claimMarker+"dead")
			if err := os.Rename(filepath.Join(spool, "new", name), claimed); err != nil {
				t.Fatal(err)
			}
			old := time.Now().Add(-age)
			if err := os.Chtimes(claimed, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	o, _ := newTestSMTP(t, SMTPConfig{Addr: srv.addr}, spool)
	if err := o.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := srv.received(t)
	if len(got) != 1 || got[0].Subject != activation("", 1).Subject || o.Pending() != 1 {
		t.Fatalf("received %v, pending %d; want only the message with the expired claim", got, o.Pending())
	}
}

func TestSMTPStartTLSAndAuth(t *testing.T) {
	// A throwaway CA and its server certificate for 127.0.0.1, from magd's own CA package.
	now := time.Now()
	caDir := filepath.Join(t.TempDir(), "smtp-ca")
	authority, err := ca.LoadOrCreate(caDir, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ca.LoadOrCreate(filepath.Join(t.TempDir(), "other-ca"), nil, now)
	if err != nil {
		t.Fatal(err)
	}
	const user, password = "magd", "s3cret-Smtp-Pa55"
	tlsSrv := startTLSSMTPD(t, freePort(t), filepath.Join(caDir, "server.pem"), filepath.Join(caDir, "server-key.pem"), user, password)
	plainSrv := startPlainSMTPD(t, freePort(t))

	tests := []struct {
		name    string
		srv     *smtpd
		cfg     SMTPConfig
		wantErr string // "" = delivered
	}{
		{"starttls and login", tlsSrv, SMTPConfig{Username: user, Password: password, RequireTLS: true, RootCAs: authority.Pool()}, ""},
		{"wrong password", tlsSrv, SMTPConfig{Username: user, Password: "wrong-password", RequireTLS: true, RootCAs: authority.Pool()}, "login as magd failed"},
		{"untrusted server certificate", tlsSrv, SMTPConfig{Username: user, Password: password, RequireTLS: true, RootCAs: other.Pool()}, "STARTTLS with"},
		{"no login where the server requires it", tlsSrv, SMTPConfig{RootCAs: authority.Pool()}, "MAIL FROM refused"},
		{"TLS required, not offered", plainSrv, SMTPConfig{RequireTLS: true}, "does not offer STARTTLS"},
		{"password never sent in clear", plainSrv, SMTPConfig{Username: user, Password: password}, "without TLS"},
		{"plain server, no TLS asked", plainSrv, SMTPConfig{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := tc.srv.received(t)
			tc.cfg.Addr = tc.srv.addr
			o, logs := newTestSMTP(t, tc.cfg, filepath.Join(t.TempDir(), "spool"))
			o.backoffBase = time.Hour // only Flush delivers here
			if err := o.Send(context.Background(), activation("u@example.com", 7)); err != nil {
				t.Fatal(err)
			}
			err := o.Flush(context.Background())
			after, _ := tc.srv.received(t)
			if tc.wantErr == "" {
				if err != nil || len(after) != len(before)+1 || o.Pending() != 0 {
					t.Fatalf("err %v, received %d more, pending %d; want delivered", err, len(after)-len(before), o.Pending())
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v; want one containing %q", err, tc.wantErr)
				}
				if len(after) != len(before) || o.Pending() != 1 {
					t.Fatalf("received %d more, pending %d; want nothing delivered and the message queued", len(after)-len(before), o.Pending())
				}
			}
			for _, secret := range []string{password, "wrong-password", token} {
				if strings.Contains(logs.String(), secret) || (err != nil && strings.Contains(err.Error(), secret)) {
					t.Fatalf("a secret (%q) reached the log or the error", secret)
				}
			}
		})
	}
}

func TestNewSMTPRejectsConfig(t *testing.T) {
	spool := filepath.Join(t.TempDir(), "spool")
	for _, cfg := range []SMTPConfig{
		{Addr: "no-port", From: "a@example.com"},
		{Addr: ":25", From: "a@example.com"},
		{Addr: "127.0.0.1:25", From: "not an address"},
		{Addr: "127.0.0.1:25", From: "a@example.com", Password: "p"},
	} {
		if o, err := NewSMTP(cfg, spool, nil); err == nil {
			o.Close()
			t.Errorf("NewSMTP(%+v) accepted", cfg)
		}
	}
}

func TestBackoff(t *testing.T) {
	o := &SMTPOutbox{backoffBase: 2 * time.Second, backoffMax: 10 * time.Minute}
	for attempt, want := range map[int]time.Duration{1: 2 * time.Second, 2: 4 * time.Second, 5: 32 * time.Second, 9: 8*time.Minute + 32*time.Second, 10: 10 * time.Minute, 100: 10 * time.Minute} {
		if got := o.backoff(attempt); got != want {
			t.Errorf("backoff(%d) = %v, want %v", attempt, got, want)
		}
	}
}

// A server that accepts and then says nothing must not hold Close (or shutdown) hostage.
func TestSMTPCloseInterruptsAStuckServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	spool := filepath.Join(t.TempDir(), "spool")
	o, _ := newTestSMTP(t, SMTPConfig{Addr: ln.Addr().String()}, spool)
	if err := o.Send(context.Background(), activation("u@example.com", 1)); err != nil {
		t.Fatal(err)
	}
	conn := <-accepted
	defer conn.Close()
	closed := make(chan struct{})
	go func() { o.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for a server that never answers")
	}
	if o.Pending() != 1 {
		t.Fatalf("Pending = %d after an interrupted delivery, want 1 (the message stays queued)", o.Pending())
	}
}

// Retry state of a message that someone else delivered or removed is dropped.
func TestSMTPForgetsRemovedMessages(t *testing.T) {
	spool := filepath.Join(t.TempDir(), "spool")
	o, _ := newTestSMTP(t, SMTPConfig{Addr: fmt.Sprintf("127.0.0.1:%d", freePort(t))}, spool)
	o.backoffBase = time.Hour
	if err := o.Send(context.Background(), activation("u@example.com", 1)); err != nil {
		t.Fatal(err)
	}
	if err := o.Flush(context.Background()); err == nil {
		t.Fatal("Flush to a closed port succeeded")
	}
	names, _ := listFiles(filepath.Join(spool, "new"))
	for _, n := range names {
		if err := os.Rename(filepath.Join(spool, "new", n), filepath.Join(spool, "cur", baseName(n))); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Flush(context.Background()); err != nil {
		t.Fatalf("Flush with nothing queued: %v", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.retry) != 0 || o.Pending() != 0 {
		t.Fatalf("retry state %v, pending %d after the message left the queue", o.retry, o.Pending())
	}
}
