package client

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
)

// FuzzInterpretAnswer feeds arbitrary answers (status, content type, Retry-After, body) to the
// decoder of every call: it never panics, every failure is a classified *Error with a message,
// and waits stay bounded.
func FuzzInterpretAnswer(f *testing.F) {
	f.Add(200, "application/json", "", []byte(`{"account":{"user_id":"u"}}`))
	f.Add(403, api.ProblemContentType, "", []byte(`{"status":403,"code":"CERT_WRONG_ACCOUNT","mag_code":2035,"title":"Wrong certificate","detail":"x"}`))
	f.Add(423, api.ProblemContentType, "", []byte(`{"code":"ACCOUNT_LOCKED","retry_after":99999999999999}`))
	f.Add(503, "text/html", "99999999999999999999", []byte(`<html>busy</html>`))
	f.Add(429, "application/json; charset=utf-8", "Wed, 21 Oct 2015 07:28:00 GMT", []byte(`{"code":"RATE_LIMITED"}`))
	f.Add(401, api.ProblemContentType, "", []byte(`{"code":"MFA_REQUIRED","mfa_ticket":"t","methods":["totp"]}`))
	f.Add(409, api.ProblemContentType, "", []byte(`{"code":"SESSION_ACCOUNT_MISMATCH"}`))
	f.Add(200, "text/plain", "", []byte("hello"))
	f.Add(500, "", "", []byte{})
	f.Add(400, api.ProblemContentType, "-5", []byte(`{"code":"VALIDATION_FAILED","errors":[{"field":"a","message":"b"},null]}`))
	c, err := New(Options{ServerURL: "https://gw.example"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status int, ct, retry string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", ct)
		h.Set("Retry-After", retry)
		var me api.Me
		e := c.interpret("fuzz", "u", status, h, body, &me)
		if e == nil {
			if status < 200 || status >= 300 {
				t.Fatalf("status %d accepted", status)
			}
			return
		}
		if e.Kind == 0 || e.Kind.String() == "unknown" {
			t.Fatalf("unclassified error %#v", e)
		}
		if msg := e.Error(); msg == "" || strings.Contains(msg, "%!") {
			t.Fatalf("bad message %q for %#v", msg, e)
		}
		if d := retryAfter(e); d < 0 || d > seconds(1<<40) {
			t.Fatalf("wait %v out of bounds", d)
		}
		if w, ok := IsLocked(e); ok && (w < 0 || w > seconds(1<<40)) {
			t.Fatalf("lock wait %v out of bounds", w)
		}
	})
}

func TestServerWaitsBounded(t *testing.T) {
	for _, tc := range []struct {
		body string
		want time.Duration
	}{
		{`{"code":"ACCOUNT_LOCKED","retry_after":-5}`, 0},
		{`{"code":"ACCOUNT_LOCKED","retry_after":300}`, 5 * time.Minute},
		{`{"code":"ACCOUNT_LOCKED","retry_after":99999999999999}`, 24 * time.Hour},
	} {
		c, _ := New(Options{ServerURL: "gw.example"})
		h := http.Header{"Content-Type": {api.ProblemContentType}}
		e := c.interpret("login", "", http.StatusLocked, h, []byte(tc.body), nil)
		if w, ok := IsLocked(e); !ok || w != tc.want {
			t.Errorf("%s: wait %v, %v; want %v", tc.body, w, ok, tc.want)
		}
	}
}
