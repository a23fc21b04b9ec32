package client

import (
	"context"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
)

// brokenServer is a TLS server answering every request with h; it counts requests.
func brokenServer(t *testing.T, h http.HandlerFunc) (*Client, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	c, err := New(Options{ServerURL: srv.URL, CAPEM: caPEM, Timeout: 15 * time.Second}) // no case waits for it; a 4 MiB body under -race on a loaded machine can take seconds
	if err != nil {
		t.Fatal(err)
	}
	c.SetSession("jdoe", "mst_token")
	return c, &n
}

func TestBrokenServers(t *testing.T) {
	html := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("<!DOCTYPE html><html><body>Please log in to the Wi-Fi</body></html>"))
	}
	cases := []struct {
		name     string
		h        http.HandlerFunc
		kind     Kind
		cause    string
		requests int32 // for GET /v1/me with retries
	}{
		{"html 200", html, KindServer, "expected JSON, got an HTML page", 1},
		{"bare 500", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "panic: runtime error", http.StatusInternalServerError)
		}, KindServer, "HTTP 500 with", 1},
		{"html 502 from a proxy", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>Bad Gateway</html>"))
		}, KindServer, "HTTP 502", 1},
		{"garbage json", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"account": [1,2`))
		}, KindServer, "not valid JSON", 1},
		{"problem without code", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", api.ProblemContentType)
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"title":"x"}`))
		}, KindServer, "HTTP 400 with", 1},
		{"huge body", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"x":"` + strings.Repeat("a", maxResponseBody+10) + `"}`))
		}, KindServer, "too large", 1},
		{"busy without retry-after is retried", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", api.ProblemContentType)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":503,"code":"SERVER_BUSY","title":"busy","detail":"queue full"}`))
		}, KindProblem, "busy: queue full", 1 + DefaultRetries},
		{"hang up mid-answer", func(w http.ResponseWriter, _ *http.Request) {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			_ = conn.Close()
		}, KindOffline, "EOF", 1 + DefaultRetries},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, n := brokenServer(t, tc.h)
			_, err := c.Me(context.Background())
			ce, ok := AsError(err)
			if !ok || ce.Kind != tc.kind {
				t.Fatalf("Me error = %#v, want kind %v", err, tc.kind)
			}
			if !strings.Contains(err.Error(), tc.cause) {
				t.Fatalf("error %q does not contain %q", err, tc.cause)
			}
			if got := n.Load(); got != tc.requests {
				t.Fatalf("GET sent %d times, want %d", got, tc.requests)
			}
			// POSTs are never retried, whatever the failure.
			n.Store(0)
			if _, err := c.Launch(context.Background(), "app"); err == nil {
				t.Fatal("launch succeeded against a broken server")
			}
			if got := n.Load(); got != 1 {
				t.Fatalf("POST sent %d times, want exactly 1", got)
			}
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	// The handler's goroutines are ordered only through the network, which the race detector
	// does not see: guard the shared time.
	var (
		mu    sync.Mutex
		first time.Time
	)
	c, n := brokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if first.IsZero() {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", api.ProblemContentType)
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"status":429,"code":"RATE_LIMITED","title":"slow down","detail":"later"}`))
			return
		}
		if time.Since(first) < 900*time.Millisecond {
			t.Errorf("retried after %v, before Retry-After", time.Since(first))
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[]`))
	})
	apps, err := c.Applications(context.Background())
	if err != nil || len(apps) != 0 {
		t.Fatalf("Applications = %v, %v", apps, err)
	}
	if n.Load() != 2 {
		t.Fatalf("%d requests, want 2", n.Load())
	}
}

func TestLongRetryAfterIsReportedNotWaited(t *testing.T) {
	c, n := brokenServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", api.ProblemContentType)
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"status":429,"code":"RATE_LIMITED","title":"slow down","detail":"later","retry_after":300}`))
	})
	start := time.Now()
	_, err := c.Me(context.Background())
	if time.Since(start) > 2*time.Second || n.Load() != 1 {
		t.Fatalf("waited %v and sent %d requests for a 5-minute Retry-After", time.Since(start), n.Load())
	}
	if p := ProblemOf(err); p == nil || ProblemRetry(p) != 5*time.Minute {
		t.Fatalf("error %v does not carry the 5-minute wait", err)
	}
}

// A server that accepts the connection and never answers: each attempt times out, and the
// user hears "did not answer in time" rather than waiting forever.
func TestStalledServerTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = conn.Close() })
		}
	}()
	c, err := New(Options{ServerURL: "https://" + ln.Addr().String(), Timeout: 300 * time.Millisecond, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.Meta(context.Background())
	if !IsTimeout(err) || !IsOffline(err) {
		t.Fatalf("error %v is not a timeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v with a 300ms timeout", d)
	}
}

func TestUnreachableAndUntrusted(t *testing.T) {
	// Refused: nothing listens on port 1.
	c, err := New(Options{ServerURL: "https://127.0.0.1:1", Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Meta(context.Background())
	if !IsOffline(err) || OfflineCauseOf(err) != OfflineRefused {
		t.Fatalf("refused: %v / %q", err, OfflineCauseOf(err))
	}
	// Untrusted: a TLS server whose CA we were not given.
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	c, err = New(Options{ServerURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Meta(context.Background())
	if !IsUntrustedServer(err) {
		t.Fatalf("untrusted: %v", err)
	}
	// Cancelled by the caller.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Meta(ctx)
	if !isKind(err, KindCanceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestOptionsRefused(t *testing.T) {
	cases := []struct {
		o    Options
		want string
	}{
		{Options{}, "no server is set"},
		{Options{ServerURL: "http://gw.example"}, "must start with https://"},
		{Options{ServerURL: "https://gw.example/portal"}, "must not contain a path"},
		{Options{ServerURL: "https://"}, "has no host"},
		{Options{ServerURL: "gw.example", CAPEM: []byte("not a cert")}, "contains no pem certificate"},
		{Options{ServerURL: "gw.example", CAFile: "/nonexistent/ca.pem"}, "cannot read the ca bundle"},
		{Options{ServerURL: "gw.example", ProxyURL: "socks://x"}, "proxy address"},
	}
	for _, tc := range cases {
		_, err := New(tc.o)
		if !isKind(err, KindConfig) || !strings.Contains(strings.ToLower(err.Error()), tc.want) {
			t.Errorf("New(%+v) = %v, want %q", tc.o, err, tc.want)
		}
	}
	if s, err := NormalizeServerURL(" GW.Example:8443/ "); err != nil || s != "https://gw.example:8443" {
		t.Fatalf("NormalizeServerURL = %q, %v", s, err)
	}
}

func TestNoSessionNoRequest(t *testing.T) {
	c, n := brokenServer(t, func(http.ResponseWriter, *http.Request) {})
	c.ClearSession()
	_, err := c.Applications(context.Background())
	if !IsUnauthenticated(err) || n.Load() != 0 {
		t.Fatalf("without a session: %v after %d requests", err, n.Load())
	}
	if !errors.Is(err, &api.Problem{Code: api.CodeUnauthenticated}) {
		t.Fatal("errors.Is by problem code does not work")
	}
}

// A server (or a proxy cache) answering GET /v1/me with another account: the client does not
// act as that account, whatever the server checked.
func TestMeNamingAnotherAccount(t *testing.T) {
	c, _ := brokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(api.HeaderExpectedUserID) != "jdoe" {
			t.Errorf("Expected-User-Id = %q", r.Header.Get(api.HeaderExpectedUserID))
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"account":{"user_id":"someone_else"}}`))
	})
	_, err := c.Me(context.Background())
	if !IsAccountMismatch(err) {
		t.Fatalf("Me naming another account: %v", err)
	}
	if ce, _ := AsError(err); ce == nil || ce.ExpectedUser != "jdoe" || ce.ActualUser != "someone_else" {
		t.Fatalf("the mismatch does not name both accounts: %#v", ce)
	}
}
