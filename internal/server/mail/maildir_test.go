package mail

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func newTestMaildir(t *testing.T) (*Maildir, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mail")
	d, err := NewMaildir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d, dir
}

// onlyFile returns the contents of the single file in dir/new.
func onlyFile(t *testing.T, dir string) (string, os.FileInfo) {
	t.Helper()
	names, err := listFiles(filepath.Join(dir, "new"))
	if err != nil || len(names) != 1 {
		t.Fatalf("new/ holds %v (%v), want one file", names, err)
	}
	path := filepath.Join(dir, "new", names[0])
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	return string(data), fi
}

func TestMaildirSendAndRead(t *testing.T) {
	date := time.Date(2026, 11, 27, 15, 4, 5, 0, time.FixedZone("", 3600))
	link := "magdesk://activate?token=AbC-123_x=="
	tests := []struct {
		name      string
		m         Message
		wantBody  string
		wantInRaw []string
	}{
		{"ascii with a link",
			Message{To: "jane@example.com", Subject: "Action Required: Account Activation", Body: "Your user ID: jdoe_8421\n" + link, Template: "activation", Date: date},
			"Your user ID: jdoe_8421\n" + link + "\n",
			[]string{"Subject: Action Required: Account Activation\n", "Content-Transfer-Encoding: 7bit\n", "X-MAG-Template: activation\n", link + "\n",
				"Date: Fri, 27 Nov 2026 15:04:05 +0100\n", "To: <jane@example.com>\n", "From: \"MAG Desktop\" <no-reply@localhost>\n"}},
		{"non-ascii subject and body",
			Message{To: "Jürgen Groß <jg@example.com>", Subject: "Zugang für Jürgen ✓", Body: "Grüße, l'équipe", Template: "access", Date: date},
			"Grüße, l'équipe\n",
			[]string{"Subject: =?utf-8?q?Zugang_f=C3=BCr_J=C3=BCrgen_=E2=9C=93?=\n", "To: =?utf-8?q?J=C3=BCrgen_Gro=C3=9F?= <jg@example.com>\n", "Content-Transfer-Encoding: quoted-printable\n"}},
		{"crlf body and a line over 998 octets",
			Message{To: "a@example.com", Subject: "long", Body: "one\r\ntwo\r\n" + strings.Repeat("x", 1200), Date: date},
			"one\ntwo\n" + strings.Repeat("x", 1200) + "\n",
			[]string{"Content-Transfer-Encoding: quoted-printable\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, dir := newTestMaildir(t)
			if err := d.Send(context.Background(), tc.m); err != nil {
				t.Fatal(err)
			}
			raw, fi := onlyFile(t, dir)
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("message file mode %v, want 0600 (it carries tokens)", fi.Mode().Perm())
			}
			for _, want := range append(tc.wantInRaw, "Message-ID: <", "MIME-Version: 1.0\n", "Content-Type: text/plain; charset=utf-8\n") {
				if !strings.Contains(raw, want) {
					t.Errorf("raw message lacks %q:\n%s", want, raw)
				}
			}
			header, _, _ := strings.Cut(raw, "\n\n")
			for i := 0; i < len(header); i++ {
				if header[i] >= 0x80 {
					t.Fatalf("header has a raw non-ASCII byte: %q", header)
				}
			}
			for _, line := range strings.Split(raw, "\n") {
				if len(line) > maxLine {
					t.Fatalf("line of %d octets", len(line))
				}
			}
			got, err := ReadMaildir(dir)
			if err != nil || len(got) != 1 {
				t.Fatalf("ReadMaildir = %v, %v", got, err)
			}
			m := got[0]
			if m.Subject != tc.m.Subject || m.Body != tc.wantBody || m.Template != tc.m.Template || !m.Date.Equal(tc.m.Date) || !strings.Contains(tc.m.To, m.To) {
				t.Errorf("read back %+v\nsent      %+v", m, tc.m)
			}
		})
	}
}

func TestMaildirRefusesBadMessages(t *testing.T) {
	d, dir := newTestMaildir(t)
	for _, m := range []Message{
		{To: "not an address", Subject: "s"},
		{To: "a@example.com, b@example.com", Subject: "two recipients"},
		{To: "a@example.com", Subject: "hi\nBcc: all@example.com"},
		{To: "a@example.com", Subject: "s", Template: "x\r\nX-Evil: 1"},
		{To: "a@example.com", Subject: "s", Body: "\xff\xfe"},
	} {
		if err := d.Send(context.Background(), m); err == nil {
			t.Errorf("Send(%+v) accepted", m)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Send(ctx, Message{To: "a@example.com"}); err == nil {
		t.Error("Send with a cancelled context stored a message")
	}
	if got, _ := ReadMaildir(dir); len(got) != 0 {
		t.Errorf("refused messages were stored: %v", got)
	}
}

func TestMaildirConcurrentSend(t *testing.T) {
	d, dir := newTestMaildir(t)
	const workers, each = 32, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				errs <- d.Send(context.Background(), Message{To: "u@example.com", Subject: fmt.Sprintf("%d/%d", w, i), Body: "b"})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadMaildir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range got {
		seen[m.Subject] = true
	}
	if len(got) != workers*each || len(seen) != workers*each {
		t.Fatalf("read %d messages, %d distinct; want %d", len(got), len(seen), workers*each)
	}
	if tmp, _ := listFiles(filepath.Join(dir, "tmp")); len(tmp) != 0 {
		t.Errorf("tmp/ still holds %v", tmp)
	}
}

func TestReadMaildirOrder(t *testing.T) {
	d, dir := newTestMaildir(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, s := range []struct {
		subject string
		at      time.Time
	}{{"third", t0.Add(2 * time.Second)}, {"first", t0}, {"second", t0.Add(time.Second)}, {"first, sent later", t0}} {
		if err := d.Send(context.Background(), Message{To: "u@example.com", Subject: s.subject, Date: s.at}); err != nil {
			t.Fatal(err)
		}
	}
	// A message already seen by a reader sits in cur/; one from another MTA has CRLF lines.
	crlf := "From: x@example.com\r\nTo: u@example.com\r\nSubject: from cur\r\nDate: Fri, 02 Jan 2026 03:04:04 +0000\r\n\r\nhello\r\n"
	if err := os.WriteFile(filepath.Join(dir, "cur", "1.other:2,S"), []byte(crlf), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "new", ".hidden"), []byte("not mail"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadMaildir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, m := range got {
		order = append(order, m.Subject)
	}
	if want := "from cur|first|first, sent later|second|third"; strings.Join(order, "|") != want {
		t.Fatalf("order %q, want %q", strings.Join(order, "|"), want)
	}
	if got[0].Body != "hello\n" {
		t.Errorf("CRLF body read as %q", got[0].Body)
	}

	if err := os.WriteFile(filepath.Join(dir, "new", "broken"), []byte("no header at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadMaildir(dir); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("an unreadable message: err = %v; want one naming the file", err)
	}
}

func TestMaildirUnwritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewMaildir(filepath.Join(file, "mail")); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("NewMaildir under a file: err = %v; want one naming the folder", err)
	}

	d, dir := newTestMaildir(t)
	tmp := filepath.Join(dir, "tmp")
	if err := os.Remove(tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmp, nil, 0o600); err != nil { // tmp is now a file: nothing can be written
		t.Fatal(err)
	}
	err := d.Send(context.Background(), Message{To: "u@example.com", Subject: "s"})
	if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "cannot store") {
		t.Errorf("Send into a broken Maildir: err = %v; want a clear error naming it", err)
	}
	if names, _ := listFiles(filepath.Join(dir, "new")); len(names) != 0 {
		t.Errorf("new/ holds %v after a failed Send", names)
	}
}

func TestNewMaildirModes(t *testing.T) {
	_, dir := newTestMaildir(t)
	for _, sub := range []string{"", "new", "cur", "tmp"} {
		fi, err := os.Stat(filepath.Join(dir, sub))
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s/%s: %v %v, want a 0700 folder", dir, sub, fi.Mode(), err)
		}
	}
}
