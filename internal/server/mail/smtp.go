package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// SMTPConfig says where and how to deliver mail. RequireTLS refuses servers without STARTTLS;
// STARTTLS is used whenever the server offers it, verified against RootCAs (nil: the system
// roots). Username and Password are sent with PLAIN auth, and only over TLS.
type SMTPConfig struct {
	Addr, Username, Password, From string
	RequireTLS                     bool
	RootCAs                        *x509.CertPool
}

// SMTPOutbox is an Outbox that spools every message into a Maildir (Send returns once the
// message is on disk) and delivers the spool in the background, retrying failures with
// exponential backoff. Delivered messages move to spool/cur. Messages left in the spool by
// an earlier run, or by another process sharing it (magd admin), are delivered too: each is
// claimed by renaming it first, so two senders do not both deliver one message.
type SMTPOutbox struct {
	cfg   SMTPConfig
	host  string
	spool *Maildir
	log   *slog.Logger
	token string // names this outbox's claims

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wake   chan struct{}
	done   chan struct{}

	mu    sync.Mutex // one delivery pass at a time; guards retry
	retry map[string]*retryState

	backoffBase, backoffMax time.Duration
}

type retryState struct {
	attempts int
	next     time.Time
}

var _ Outbox = (*SMTPOutbox)(nil)

const (
	// pollInterval picks up mail spooled by other processes and stale claims.
	pollInterval = time.Minute
	// A claim older than claimTTL belongs to a sender that died mid-delivery.
	claimTTL = 10 * time.Minute
	// ioTimeout bounds each SMTP exchange, so one stuck server cannot hold the spool.
	ioTimeout   = time.Minute
	claimMarker = ",claim-"
)

// NewSMTP opens the spool at spoolDir and starts the sender. logger may be nil.
func NewSMTP(cfg SMTPConfig, spoolDir string, logger *slog.Logger) (*SMTPOutbox, error) {
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" {
		return nil, fmt.Errorf("mail: SMTP address %q must be host:port", cfg.Addr)
	}
	if cfg.Password != "" && cfg.Username == "" {
		return nil, errors.New("mail: an SMTP password needs a user name")
	}
	spool, err := newMaildir(spoolDir, cfg.From)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	tok := make([]byte, 6)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	o := &SMTPOutbox{
		cfg: cfg, host: host, spool: spool, log: logger.With("smtp", cfg.Addr), token: hex.EncodeToString(tok),
		wake: make(chan struct{}, 1), done: make(chan struct{}), retry: map[string]*retryState{},
		backoffBase: 2 * time.Second, backoffMax: 10 * time.Minute,
	}
	o.ctx, o.cancel = context.WithCancel(context.Background())
	go o.run()
	return o, nil
}

// Send spools m and wakes the sender. It works after Close too: the message is then
// delivered by the next SMTPOutbox on this spool.
func (o *SMTPOutbox) Send(ctx context.Context, m Message) error {
	if err := o.spool.Send(ctx, m); err != nil {
		return err
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return nil
}

// Flush tries to deliver every spooled message now, ignoring backoff, and says how many
// are still undelivered.
func (o *SMTPOutbox) Flush(ctx context.Context) error {
	_, err := o.pass(ctx, true)
	return err
}

// Pending is the number of messages not yet delivered.
func (o *SMTPOutbox) Pending() int {
	names, err := listFiles(filepath.Join(o.spool.dir, "new"))
	if err != nil {
		return 0
	}
	return len(names)
}

// Close stops the sender, interrupting a delivery in progress (the message stays spooled).
func (o *SMTPOutbox) Close() error {
	o.cancel()
	<-o.done
	return nil
}

func (o *SMTPOutbox) run() {
	defer close(o.done)
	timer := time.NewTimer(0) // first pass at once: deliver what an earlier run left
	defer timer.Stop()
	for {
		select {
		case <-o.ctx.Done():
			return
		case <-o.wake:
		case <-timer.C:
		}
		next, _ := o.pass(o.ctx, false)
		timer.Reset(next)
	}
}

// pass delivers the due messages (all with force) over one SMTP session, reconnecting after
// a failure, and returns when the next retry is due.
func (o *SMTPOutbox) pass(ctx context.Context, force bool) (time.Duration, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	names, err := o.due(time.Now(), force)
	if err != nil {
		return pollInterval, err
	}
	var (
		sess    *session
		dialErr error
		failed  []error
	)
	defer func() {
		if sess != nil {
			sess.quit()
		}
	}()
	for _, name := range names {
		if ctx.Err() != nil {
			failed = append(failed, ctx.Err())
			break
		}
		if sess == nil && dialErr == nil {
			sess, dialErr = o.dial(ctx)
		}
		err := dialErr
		if err == nil {
			err = o.deliver(sess, name)
		}
		base := baseName(name)
		if errors.Is(err, errGone) {
			delete(o.retry, base)
			continue
		}
		if err != nil {
			if sess != nil {
				sess.close()
				sess = nil
			}
			st := o.retry[base]
			if st == nil {
				st = &retryState{}
				o.retry[base] = st
			}
			st.attempts++
			st.next = time.Now().Add(o.backoff(st.attempts))
			o.log.Warn("mail not delivered yet; will retry", "id", base, "attempt", st.attempts, "retry_at", st.next, "err", err)
			failed = append(failed, err)
			continue
		}
		delete(o.retry, base)
	}
	next := pollInterval
	for _, st := range o.retry {
		next = min(next, max(time.Until(st.next), 0))
	}
	if len(failed) > 0 {
		return next, fmt.Errorf("mail: %d of %d messages not delivered to %s (they stay queued): %w", len(failed), len(names), o.cfg.Addr, failed[0])
	}
	return next, nil
}

// due lists the spooled messages to try now, oldest first: not claimed by a live sender,
// and (unless forced) not waiting for a retry.
func (o *SMTPOutbox) due(now time.Time, force bool) ([]string, error) {
	dir := filepath.Join(o.spool.dir, "new")
	names, err := listFiles(dir)
	if err != nil {
		return nil, err
	}
	live := make(map[string]bool, len(names))
	for _, name := range names {
		live[baseName(name)] = true
	}
	for base := range o.retry { // delivered or removed by someone else
		if !live[base] {
			delete(o.retry, base)
		}
	}
	var out []string
	for _, name := range names {
		if strings.Contains(name, claimMarker) {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil || now.Sub(fi.ModTime()) < claimTTL {
				continue
			}
		}
		if st := o.retry[baseName(name)]; !force && st != nil && now.Before(st.next) {
			continue
		}
		out = append(out, name)
	}
	return out, nil
}

func (o *SMTPOutbox) backoff(attempt int) time.Duration {
	d := o.backoffBase << min(attempt-1, 20)
	return min(d, o.backoffMax)
}

func baseName(name string) string {
	base, _, _ := strings.Cut(name, claimMarker)
	return base
}

// errGone: another sender took or delivered the message first.
var errGone = errors.New("mail: message taken by another sender")

// deliver claims one spooled message, sends it, and files it in cur (or un-claims it).
func (o *SMTPOutbox) deliver(s *session, name string) error {
	dir := o.spool.dir
	base := baseName(name)
	claim := filepath.Join(dir, "new", base+claimMarker+o.token)
	if err := os.Rename(filepath.Join(dir, "new", name), claim); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errGone
		}
		return fmt.Errorf("mail: cannot claim %s: %w", name, err)
	}
	now := time.Now()
	_ = os.Chtimes(claim, now, now) // the claim's age counts from now
	err := o.send(s, claim)
	if err != nil {
		if rerr := os.Rename(claim, filepath.Join(dir, "new", base)); rerr != nil {
			o.log.Error("cannot return a message to the spool; it will be retried after the claim expires", "id", base, "err", rerr)
		}
		return err
	}
	if err := os.Rename(claim, filepath.Join(dir, "cur", base)); err != nil {
		// Delivered but still in new: it would be sent twice. Say so loudly; nothing is lost.
		o.log.Error("delivered message could not be moved to cur", "id", base, "err", err)
		return nil
	}
	syncDir(filepath.Join(dir, "cur"))
	o.log.Info("mail delivered", "id", base)
	return nil
}

func (o *SMTPOutbox) send(s *session, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("mail: spooled file %s is damaged: %w", path, err)
	}
	to, err := netmail.ParseAddress(msg.Header.Get("To"))
	if err != nil {
		return fmt.Errorf("mail: spooled file %s has no valid To: %w", path, err)
	}
	s.extend()
	if err := s.c.Mail(o.spool.from.Address); err != nil {
		return fmt.Errorf("mail: MAIL FROM refused: %w", err)
	}
	if err := s.c.Rcpt(to.Address); err != nil {
		return fmt.Errorf("mail: RCPT TO refused: %w", err)
	}
	w, err := s.c.Data()
	if err != nil {
		return fmt.Errorf("mail: DATA refused: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("mail: sending the message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: message refused: %w", err)
	}
	return nil
}

// session is one SMTP connection; the deadline is pushed forward before each message and a
// cancelled context breaks any blocked read or write.
type session struct {
	c    *smtp.Client
	conn net.Conn
	stop func() bool
}

func (s *session) extend() { _ = s.conn.SetDeadline(time.Now().Add(ioTimeout)) }

func (s *session) quit() {
	_ = s.c.Quit()
	s.close()
}

func (s *session) close() {
	s.stop()
	_ = s.c.Close()
}

func (o *SMTPOutbox) dial(ctx context.Context) (*session, error) {
	d := net.Dialer{Timeout: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", o.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("mail: cannot reach the SMTP server %s: %w", o.cfg.Addr, err)
	}
	s := &session{conn: conn, stop: context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })}
	s.extend()
	fail := func(err error) (*session, error) {
		s.stop()
		conn.Close()
		return nil, err
	}
	if s.c, err = smtp.NewClient(conn, o.host); err != nil {
		return fail(fmt.Errorf("mail: SMTP server %s did not greet: %w", o.cfg.Addr, err))
	}
	if ok, _ := s.c.Extension("STARTTLS"); ok {
		if err := s.c.StartTLS(&tls.Config{ServerName: o.host, RootCAs: o.cfg.RootCAs, MinVersion: tls.VersionTLS12}); err != nil {
			return fail(fmt.Errorf("mail: STARTTLS with %s failed: %w", o.cfg.Addr, err))
		}
	} else if o.cfg.RequireTLS {
		return fail(fmt.Errorf("mail: SMTP server %s does not offer STARTTLS, which is required", o.cfg.Addr))
	}
	if o.cfg.Username != "" {
		if _, isTLS := s.c.TLSConnectionState(); !isTLS {
			return fail(fmt.Errorf("mail: not sending the SMTP password to %s without TLS", o.cfg.Addr))
		}
		if err := s.c.Auth(smtp.PlainAuth("", o.cfg.Username, o.cfg.Password, o.host)); err != nil {
			return fail(fmt.Errorf("mail: SMTP login as %s failed: %w", o.cfg.Username, err))
		}
	}
	return s, nil
}
