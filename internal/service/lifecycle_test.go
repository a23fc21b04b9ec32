package service

import (
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
)

func TestCertExpiry(t *testing.T) {
	now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	window := 90 * day
	for _, tc := range []struct {
		name      string
		left      time.Duration
		window    time.Duration
		mine      bool
		level     string
		renewable bool
		sentence  string
	}{
		{"a year left", 365 * day, window, true, ExpiryOK, false, ""},
		{"91 days left", 91 * day, window, true, ExpiryOK, false, ""},
		{"89 days left, mine", 89*day + time.Hour, window, true, ExpirySoon, true, "Expires in 89 days — renew now"},
		{"12 days left, mine", 12*day + time.Hour, window, true, ExpirySoon, true, "Expires in 12 days — renew now"},
		{"12 days left, another account's", 12*day + time.Hour, window, false, ExpirySoon, false, "Expires in 12 days"},
		{"an hour left", time.Hour, window, true, ExpirySoon, true, "Expires today — renew now"},
		{"a longer policy window, before renewal opens", 100*day + time.Hour, 120 * day, true, ExpirySoon, false,
			"Expires in 100 days — renewal opens on " + now.Add(10*day+time.Hour).Local().Format("2 January 2006")},
		{"a shorter policy window", 40 * day, 30 * day, true, ExpiryOK, false, ""},
		{"expired, mine", -time.Hour, window, true, ExpiryExpired, false,
			"Expired on " + now.Add(-time.Hour).Local().Format("2 January 2006") + " — it can no longer be renewed: request a new certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := CertExpiry(now.Add(tc.left), now, tc.window, tc.mine)
			if e.Level != tc.level || e.Renewable != tc.renewable || e.Sentence != tc.sentence {
				t.Errorf("got %+v, want %s renewable=%v %q", e, tc.level, tc.renewable, tc.sentence)
			}
		})
	}
}

func TestSessionExpiry(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		left     time.Duration
		level    string
		sentence string
	}{
		{3 * time.Hour, ExpiryOK, ""},
		{12*time.Minute + time.Second, ExpirySoon, "Your session ends in 13 minutes — log in again to keep working"},
		{-time.Second, ExpiryExpired, "Your session has ended — log in again"},
	} {
		e := SessionExpiry(api.SessionInfo{ExpiresAt: now.Add(tc.left)}, now)
		if e.Level != tc.level || e.Sentence != tc.sentence {
			t.Errorf("%v left: %+v", tc.left, e)
		}
	}
}

func TestNoticeFor(t *testing.T) {
	na := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		e      api.Event
		ok     bool
		title  string
		screen string
		home   bool
	}{
		{"approved", api.Event{ID: "1", Type: api.EventAccessDecided, AppName: "Parts", Status: "approved"}, true, "Access approved", ScreenHome, true},
		{"denied", api.Event{ID: "2", Type: api.EventAccessDecided, AppName: "Parts", Status: "denied", Reason: "not your team"}, true, "Access denied", ScreenHome, true},
		{"requestable", api.Event{ID: "3", Type: api.EventAppRequestable, AppName: "Parts"}, true, "New application available", ScreenHome, true},
		{"own login", api.Event{ID: "4", Type: api.EventLogin, SessionID: "ses_me"}, false, "", "", false},
		{"login elsewhere", api.Event{ID: "5", Type: api.EventLogin, SessionID: "ses_other", IP: "10.0.0.9"}, true, "New login to your account", ScreenSessions, false},
		{"expiring", api.Event{ID: "6", Type: api.EventCertExpiring, CertSHA256: "ab", NotAfter: &na}, true, "Certificate expires soon", ScreenCerts, false},
		{"renewed", api.Event{ID: "7", Type: api.EventCertRenewed}, true, "Certificate renewed", ScreenCerts, false},
		{"unknown type", api.Event{ID: "8", Type: "something.new"}, false, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, ok := NoticeFor(tc.e, "ses_me")
			if ok != tc.ok || n.Title != tc.title || n.Screen != tc.screen || n.RefreshHome != tc.home || (ok && n.Body == "") {
				t.Errorf("got %v %+v", ok, n)
			}
		})
	}
	n, _ := NoticeFor(api.Event{ID: "2", Type: api.EventAccessDecided, AppName: "Parts", Status: "denied", Reason: "not your team"}, "")
	if n.Body != "Your request for Parts was denied. Reason: not your team" {
		t.Errorf("denied body %q", n.Body)
	}
	// The feed's expiring event and the app's own expiry check are the same news.
	e, _ := NoticeFor(api.Event{ID: "9", Type: api.EventCertExpiring, CertSHA256: "ab", NotAfter: &na}, "")
	c, _ := ExpiryNotice(CertAttention{Identity: Identity{SHA256: "ab", Status: CertBound}, Expiry: Expiry{Level: ExpirySoon, Sentence: "x"}})
	if e.Key != c.Key {
		t.Errorf("keys %q and %q differ", e.Key, c.Key)
	}
}
