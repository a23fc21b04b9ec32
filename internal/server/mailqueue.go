package server

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"log/slog"
	"time"

	"github.com/mag-desktop/magdesk/internal/server/mail"
	"github.com/mag-desktop/magdesk/internal/server/store"
)

// queuedOutbox stores every email in the database's outbox table before anything else, then
// hands it to the transport (the Maildir, or the SMTP spool and its sender). Send delivers its
// own email at once, so that it reaches the Maildir before the request is answered, as with one
// instance; an email whose instance died before handing it over, or whose hand-over failed, is
// taken by whichever instance's sweep claims it first. The claim is a lease: an email goes to the
// transport once unless an instance dies between handing it over and recording that.
type queuedOutbox struct {
	st   *store.Store
	aead cipher.AEAD // seals bodies in the table; from secret.key, the same on every instance
	next mail.Outbox
	now  func() time.Time
	log  *slog.Logger
	stop chan struct{}
	done chan struct{}
}

const (
	mailSweepEvery = 5 * time.Second
	mailLease      = 30 * time.Second
	mailBatch      = 20
)

// newQueuedOutbox wraps next; sweep starts the background sweep (not for `magd admin`).
func newQueuedOutbox(st *store.Store, aead cipher.AEAD, next mail.Outbox, now func() time.Time, log *slog.Logger, sweep bool) *queuedOutbox {
	o := &queuedOutbox{st: st, aead: aead, next: next, now: now, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	if !sweep {
		close(o.done)
		return o
	}
	go o.run()
	return o
}

// Send queues m durably, then tries to hand it over now; a failed hand-over is retried by the
// sweep, so only a failure to queue is an error.
func (o *queuedOutbox) Send(ctx context.Context, m mail.Message) error {
	id := newID("mail")
	date := m.Date
	if date.IsZero() {
		date = o.now()
	}
	nonce := make([]byte, o.aead.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := o.aead.Seal(nonce, nonce, []byte(m.Body), []byte(id))
	if err := o.st.EnqueueMail(ctx, store.OutboxMail{ID: id, To: m.To, Subject: m.Subject, BodyEnc: sealed, Template: m.Template,
		Date: date}, time.Now()); err != nil {
		return err
	}
	o.deliver(ctx, id)
	return nil
}

// deliver claims due emails (only id, if not "") and hands them over; it returns how many it claimed.
func (o *queuedOutbox) deliver(ctx context.Context, id string) int {
	now := time.Now()
	ms, err := o.st.ClaimMail(ctx, id, mailBatch, now, mailLease)
	if err != nil {
		o.log.Error("mail outbox: claim", "err", err)
		return 0
	}
	for _, m := range ms {
		body, err := o.open(m)
		if err != nil { // nothing to retry: only the right secret.key would open it
			o.log.Error("mail outbox: cannot decrypt (is secret.key the same on every instance?)", "mail", m.ID, "err", err)
			continue
		}
		err = o.next.Send(ctx, mail.Message{To: m.To, Subject: m.Subject, Body: body, Template: m.Template, Date: m.Date})
		if err == nil {
			err = o.st.MailSent(ctx, m.ID, time.Now())
			if err != nil {
				o.log.Error("mail outbox: handed over but not marked sent", "mail", m.ID, "err", err)
			}
			continue
		}
		retry := min(time.Duration(1<<min(m.Attempts, 10))*time.Second, 10*time.Minute)
		o.log.Warn("mail outbox: hand-over failed, will retry", "mail", m.ID, "attempt", m.Attempts, "retry_in", retry, "err", err)
		if err := o.st.MailFailed(ctx, m.ID, time.Now().Add(retry), err.Error()); err != nil {
			o.log.Error("mail outbox: record failure", "mail", m.ID, "err", err)
		}
	}
	return len(ms)
}

func (o *queuedOutbox) open(m store.OutboxMail) (string, error) {
	n := o.aead.NonceSize()
	if len(m.BodyEnc) < n {
		return "", errors.New("damaged body")
	}
	pt, err := o.aead.Open(nil, m.BodyEnc[:n], m.BodyEnc[n:], []byte(m.ID))
	return string(pt), err
}

func (o *queuedOutbox) run() {
	defer close(o.done)
	t := time.NewTicker(mailSweepEvery)
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			for o.deliver(ctx, "") == mailBatch {
			}
			cancel()
		}
	}
}

// Close ends the sweep, then the transport.
func (o *queuedOutbox) Close() error {
	select {
	case <-o.stop:
	default:
		close(o.stop)
	}
	<-o.done
	return o.next.Close()
}
