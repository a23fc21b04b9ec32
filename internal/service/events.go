package service

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
)

// Screens a notice can open.
const (
	ScreenHome     = "home"
	ScreenCerts    = "certificates"
	ScreenSessions = "sessions"
	ScreenLogin    = "login"
)

// Notice is something to tell the user through the OS (a notification) and where clicking it
// leads. Key is the same for the same news, so that it is told once.
type Notice struct {
	Key, Title, Body, Screen string
	// RefreshHome: what Home shows has changed.
	RefreshHome bool
	// SessionEnded: the watcher stopped because the session is over.
	SessionEnded bool
}

// NoticeFor is the notice of an event of the feed; ok is false for news that is not worth a
// notification (this app's own login).
func NoticeFor(e api.Event, ownSession string) (n Notice, ok bool) {
	n.Key = "event:" + e.ID
	switch e.Type {
	case api.EventAccessDecided:
		n.Screen, n.RefreshHome = ScreenHome, true
		if e.Status == "approved" {
			n.Title, n.Body = "Access approved", "You can now open "+e.AppName+"."
		} else {
			n.Title, n.Body = "Access denied", "Your request for "+e.AppName+" was denied."
			if e.Reason != "" {
				n.Body += " Reason: " + e.Reason
			}
		}
	case api.EventAppRequestable:
		n.Screen, n.RefreshHome = ScreenHome, true
		n.Title, n.Body = "New application available", "Your organisation accepted the terms of "+e.AppName+": you can now request access to it."
	case api.EventLogin:
		if e.SessionID == ownSession {
			return n, false
		}
		n.Screen = ScreenSessions
		n.Title = "New login to your account"
		n.Body = "Your account was just logged in to from " + or(e.IP, "another computer")
		if e.ClientName != "" {
			n.Body += " (" + e.ClientName + ")"
		}
		n.Body += ". If this was not you, change your password and tell your administrator."
	case api.EventCertExpiring:
		n.Screen, n.Key = ScreenCerts, "expiring:"+e.CertSHA256
		n.Title = "Certificate expires soon"
		n.Body = "A certificate of your account expires"
		if e.NotAfter != nil {
			n.Body += " on " + e.NotAfter.Local().Format("2 January 2006")
		}
		n.Body += ". Renew it now in MAG Desktop, before it expires."
	case api.EventCertRenewed:
		n.Screen, n.Title, n.Body = ScreenCerts, "Certificate renewed", "A renewed certificate was used and the one it replaces was revoked."
	case api.EventCertRevoked:
		n.Screen, n.Title, n.Body = ScreenCerts, "Certificate revoked", "A certificate of your account was revoked; it no longer works for logins."
	default:
		return n, false
	}
	return n, true
}

func or(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// ExpiryNotice is the notice for a certificate that needs attention, if it does.
func ExpiryNotice(c CertAttention) (Notice, bool) {
	if !c.Mine() || c.Expiry.Level != ExpirySoon {
		return Notice{}, false
	}
	return Notice{Key: "expiring:" + c.SHA256, Title: "Certificate expires soon", Screen: ScreenCerts,
		Body: c.Subject + ": " + c.Expiry.Sentence + "."}, true
}

// WatchOptions tune the events watcher; zero values are the defaults.
type WatchOptions struct {
	// Wait is how long the server holds each poll (default api.EventsDefaultWait seconds).
	Wait time.Duration
	// OwnSession is this app's session id: its own login is not news.
	OwnSession string
	// Backoff bounds the pause after a failed poll (default 2 s, doubling up to 2 minutes).
	MinBackoff, MaxBackoff time.Duration
	// Polled, when set, is called after every successful poll (tests, benchmarks).
	Polled func(api.EventPage)
}

// WatchEvents implements Daily: it long-polls the feed of the logged-in account and calls
// notify for each event worth telling, from its own goroutine. After a network or server
// failure it waits (with jitter, growing to MaxBackoff) and goes on; it returns nil when ctx
// ends, and an error after a final SessionEnded notice when the session is over.
func (s *Service) WatchEvents(ctx context.Context, o WatchOptions, notify func(Notice)) error {
	if o.Wait <= 0 {
		o.Wait = api.EventsDefaultWait * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 2 * time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(o.MinBackoff, 2*time.Minute)
	}
	cursor, wait, pause := "", time.Duration(0), o.MinBackoff
	for ctx.Err() == nil {
		c, err := s.current()
		if err != nil {
			return err
		}
		page, err := c.Events(ctx, cursor, wait)
		switch {
		case ctx.Err() != nil:
			return nil
		case client.IsUnauthenticated(err) || client.IsAccountMismatch(err):
			notify(Notice{Key: "session-ended", Title: "Your session has ended", Screen: ScreenLogin, SessionEnded: true,
				Body: "Log in to MAG Desktop again to keep being told about your applications and certificates."})
			return err
		case err != nil:
			s.o.Log.Debug("events poll failed", "err", err, "retry_in", pause)
			if !sleep(ctx, pause/2+rand.N(pause/2+1)) {
				return nil
			}
			pause = min(2*pause, o.MaxBackoff)
			continue
		}
		pause = o.MinBackoff
		if o.Polled != nil {
			o.Polled(*page)
		}
		for _, e := range page.Events {
			if n, ok := NoticeFor(e, o.OwnSession); ok {
				notify(n)
			}
		}
		cursor, wait = page.Cursor, o.Wait
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
