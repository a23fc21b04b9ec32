// Package mail is magd's outgoing mail: every email is first written durably to a Maildir,
// which is the whole outbox by default (tests and demos read it) and the spool of a
// background SMTP sender when SMTP is configured.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Message is one email. Template names the kind of email ("activation", "login_success", ...)
// and travels in the X-MAG-Template header so that tests and tools can find it.
type Message struct {
	To, Subject, Body string
	Template          string
	Date              time.Time
}

// Outbox sends emails. Send returns once the message is stored durably.
type Outbox interface {
	Send(ctx context.Context, m Message) error
	Close() error
}

// The sender of Maildir-only mail; SMTP uses SMTPConfig.From.
const defaultFrom = "MAG Desktop <no-reply@localhost>"

const maxLine = 998 // RFC 5322 §2.1.1

// render writes m as an RFC 5322 message with LF line ends (the Maildir convention; the SMTP
// sender's DATA writer turns them into CRLF). Header values are checked for line breaks so
// that no caller can inject headers.
func render(m Message, from *netmail.Address) ([]byte, error) {
	to, err := netmail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("mail: recipient %q is not an email address: %w", m.To, err)
	}
	for name, v := range map[string]string{"Subject": m.Subject, "X-MAG-Template": m.Template} {
		if strings.ContainsAny(v, "\r\n") || !utf8.ValidString(v) {
			return nil, fmt.Errorf("mail: the %s must be one line of UTF-8", name)
		}
	}
	if !utf8.ValidString(m.Body) {
		return nil, errors.New("mail: the body is not UTF-8")
	}
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	_, domain, _ := strings.Cut(from.Address, "@")

	var b bytes.Buffer
	header := func(name, value string) { fmt.Fprintf(&b, "%s: %s\n", name, value) }
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(id)+"@"+domain+">")
	if m.Template != "" {
		header("X-MAG-Template", m.Template)
	}
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	body := strings.ReplaceAll(m.Body, "\r\n", "\n")
	if !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	if plainASCII(body) {
		// Readable as it is, so that people and tests can copy links out of the file.
		header("Content-Transfer-Encoding", "7bit")
		b.WriteString("\n" + body)
		return b.Bytes(), nil
	}
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\n")
	var qp bytes.Buffer
	w := quotedprintable.NewWriter(&qp)
	if _, err := io.WriteString(w, body); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	b.Write(bytes.ReplaceAll(qp.Bytes(), []byte("\r\n"), []byte("\n")))
	return b.Bytes(), nil
}

// plainASCII reports whether body can go as 7bit: ASCII only, no line over 998 octets.
func plainASCII(body string) bool {
	for _, line := range strings.Split(body, "\n") {
		if len(line) > maxLine {
			return false
		}
	}
	for i := 0; i < len(body); i++ {
		if body[i] >= utf8.RuneSelf || body[i] == '\r' {
			return false
		}
	}
	return true
}

// parse reads a message written by render (or received by any SMTP server) back into a
// Message: To is the bare address, Subject and Body decoded, line ends LF.
func parse(data []byte) (Message, error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return Message{}, err
	}
	h := msg.Header
	m := Message{Template: h.Get("X-MAG-Template")}
	to, err := netmail.ParseAddress(h.Get("To"))
	if err != nil {
		return Message{}, fmt.Errorf("header To: %w", err)
	}
	m.To = to.Address
	if m.Subject, err = new(mime.WordDecoder).DecodeHeader(h.Get("Subject")); err != nil {
		return Message{}, fmt.Errorf("header Subject: %w", err)
	}
	if m.Date, err = h.Date(); err != nil {
		return Message{}, fmt.Errorf("header Date: %w", err)
	}
	body := msg.Body
	if strings.EqualFold(h.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return Message{}, fmt.Errorf("body: %w", err)
	}
	m.Body = strings.ReplaceAll(string(raw), "\r\n", "\n")
	return m, nil
}
