package server_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server"
	"github.com/mag-desktop/magdesk/internal/server/password"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

func opsGet(t *testing.T, env *servertest.Env, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(env.OpsURL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestOpsEndpoints: the operations listener answers liveness and readiness, and its metrics
// count requests by route and code, logins by outcome, and show the hash slots and mail queue.
func TestOpsEndpoints(t *testing.T) {
	_, env, c, uid := oneUser(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		if st, body := opsGet(t, env, p); st != 200 {
			t.Fatalf("%s: %d %s", p, st, body)
		}
	}
	mustLogin(t, env, c, uid)
	if _, p := env.Login(t, c, uid, "not the password at all"); p == nil {
		t.Fatal("wrong password accepted")
	}
	env.Do(t, c, "GET", api.PathMeta, "", nil, nil)
	st, m := opsGet(t, env, "/metrics")
	if st != 200 {
		t.Fatalf("/metrics: %d", st)
	}
	for _, want := range []string{
		`magd_http_requests_total{code="200",route="GET /v1/meta"}`,
		`magd_http_requests_total{code="401",route="POST /v1/auth/login"} 1`,
		`magd_logins_total{outcome="success",step="password"}`,
		`magd_logins_total{outcome="INVALID_CREDENTIALS",step="password"} 1`,
		`magd_http_request_duration_seconds_count{route="POST /v1/auth/login"}`,
		`magd_mail_queue_depth 0`,
		`magd_hash_queue_depth 0`,
		`magd_hash_slots `,
		`go_goroutines `,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if st, _ := opsGet(t, env, "/v1/meta"); st != 404 {
		t.Errorf("the API is served on the operations listener too: %d", st)
	}
}

// TestGracefulShutdown: once Close begins, /readyz says 503 for the drain delay while requests
// still get answers; requests in flight when the listener closes (logins queued for the one
// hashing slot) are answered in full; then new connections are refused.
func TestGracefulShutdown(t *testing.T) {
	const pw = "plum orbit lantern quietly 42"
	for _, c := range []struct {
		name  string
		delay time.Duration
	}{{"drain delay", 600 * time.Millisecond}, {"in flight", 0}} {
		t.Run(c.name, func(t *testing.T) {
			env := servertest.Start(t, servertest.WithSecurityQuestions(false), servertest.WithConfig(func(cfg *server.Config) {
				cfg.DrainDelay, cfg.Argon2, cfg.HashConcurrency = c.delay, password.Default, 1
			}))
			uid := env.CreateActiveUser(t, env.CreateOrg(t, "Acme"), "a@acme.example", "Ann", "Able", pw, false)
			const logins = 4
			done := make(chan *api.Problem, logins)
			for range logins {
				go func() {
					_, p := env.Login(t, env.Client(t, nil), uid, pw)
					done <- p
				}()
			}
			// Close once logins wait in the hash queue behind the one running.
			depth := regexp.MustCompile(`(?m)^magd_hash_queue_depth (\d+)$`)
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(2 * time.Millisecond) {
				_, m := opsGet(t, env, "/metrics")
				if d := depth.FindStringSubmatch(m); d != nil && d[1] >= "2" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the logins never queued")
				}
			}
			closed := make(chan error, 1)
			go func() { closed <- env.Server.Close() }()
			if c.delay > 0 {
				time.Sleep(c.delay / 3)
				if st, body := opsGet(t, env, "/readyz"); st != http.StatusServiceUnavailable || !strings.Contains(body, "shutting down") {
					t.Fatalf("/readyz while draining: %d %q", st, body)
				}
				if st, p := env.Do(t, env.Client(t, nil), "GET", api.PathMeta, "", nil, nil); st != 200 {
					t.Fatalf("a new request during the drain delay: %d %v", st, p)
				}
			}
			for range logins {
				if p := <-done; p != nil {
					t.Fatalf("a login in flight at shutdown: %v", p)
				}
			}
			if err := <-closed; err != nil {
				t.Fatal(err)
			}
			if _, err := (&http.Client{Timeout: 2 * time.Second}).Get(env.URL + api.PathMeta); err == nil {
				t.Fatal("a new connection was accepted after shutdown")
			}
		})
	}
}
