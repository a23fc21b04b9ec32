package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/mail"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
	"github.com/mag-desktop/magdesk/internal/testenv"
)

var activationRE = regexp.MustCompile(`magdesk://activate\?token=([A-Za-z0-9_-]{43})`)

// TestKillOneOfTwoInstances: two `magd serve` processes on one PostgreSQL database and one data
// folder (`magd init`) behind a real HAProxy. Under load through HAProxy one instance is
// SIGKILLed and restarted: every acknowledged login is still a valid session afterwards, every
// idempotent request the clients retry succeeds, no email goes out twice (and each first login
// acknowledged to its client has its email), and the restarted instance serves again.
func TestKillOneOfTwoInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs magd")
	}
	haproxy := testenv.NeedTool(t, "haproxy")
	dsn := testenv.Postgres(t)
	bin := buildMagd(t)
	data := t.TempDir()
	if out, err := exec.Command(bin, "init", "--data", data).CombinedOutput(); err != nil {
		t.Fatalf("magd init: %v\n%s", err, out)
	}
	front := servertest.FreePort(t)
	public := "https://127.0.0.1:" + strconv.Itoa(front)
	type inst struct{ addr, ops string }
	insts := []inst{}
	backends := ""
	for i := range 2 {
		in := inst{fmt.Sprintf("127.0.0.1:%d", servertest.FreePort(t)), fmt.Sprintf("127.0.0.1:%d", servertest.FreePort(t))}
		insts = append(insts, in)
		_, ops, _ := strings.Cut(in.ops, ":")
		backends += fmt.Sprintf("  server magd%d %s check port %s inter 200ms fall 1 rise 1\n", i+1, in.addr, ops)
	}
	serve := func(i int) *serving {
		return startServe(t, bin, data, "--db", dsn, "--addr", insts[i].addr, "--ops-addr", insts[i].ops, "--public-url", public,
			"--no-security-questions", "--login-rate", "0")
	}
	a, b := serve(0), serve(1)
	// A connection per request, so that HAProxy spreads the requests over both instances.
	a.client.Transport.(*http.Transport).DisableKeepAlives = true
	servertest.StartHAProxy(t, haproxy, front, backends)

	// Accounts, activated through HAProxy.
	org, err := adminCmd(bin, data, "--db", dsn, "org", "add", "--name", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	const users = 10
	const pw = "plum orbit lantern quietly 42"
	ids := make([]string, users)
	for i := range ids {
		if ids[i], err = adminCmd(bin, data, "--db", dsn, "user", "add", "--org", org, "--email", fmt.Sprintf("u%d@acme.example", i),
			"--first", "User", "--last", strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := mail.ReadMaildir(filepath.Join(data, "mail"))
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		token := ""
		for _, m := range msgs {
			if m.Template == "activation" && strings.Contains(m.Body, "Your user ID: "+id+"\n") {
				token = activationRE.FindStringSubmatch(m.Body)[1]
			}
		}
		if st, err := a.post(api.PathActivationComplete, api.ActivationCompleteRequest{Token: token, Password: pw, PasswordConfirm: pw}, nil); err != nil || st != 200 {
			t.Fatalf("activate user %d: %d %v", i, st, err)
		}
	}

	// Load: each client logs in (retrying until it gets an answer) and then reads /v1/me over
	// and over, retrying a failed read: it is idempotent.
	type acked struct {
		token string
		first bool
	}
	var mu sync.Mutex
	var logins []acked
	failedReads, reads := 0, 0
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lr api.LoginResponse
			for try := 0; ; try++ {
				if st, err := a.post(api.PathLogin, api.LoginRequest{UserID: id, Password: pw}, &lr); err == nil && st == 200 {
					break
				}
				if try == 30 {
					t.Errorf("client %d: no login in 30 tries", i)
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
			mu.Lock()
			logins = append(logins, acked{lr.SessionToken, lr.FirstLogin})
			mu.Unlock()
			for ctx.Err() == nil {
				ok := false
				for try := 0; try < 10 && !ok; try++ {
					st, err := a.me(lr.SessionToken)
					ok = err == nil && st == 200
					if !ok {
						time.Sleep(100 * time.Millisecond)
					}
				}
				mu.Lock()
				reads++
				if !ok {
					failedReads++
				}
				mu.Unlock()
			}
		}()
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(logins)
		mu.Unlock()
		if n >= users/3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("too few logins before the kill")
		}
	}
	if err := b.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = b.cmd.Wait()
	time.Sleep(time.Second)
	serve(1) // restarts and rejoins
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if len(logins) != users || failedReads > 0 || reads < users {
		t.Fatalf("%d of %d clients logged in; %d of %d reads failed after retries", len(logins), users, failedReads, reads)
	}
	for _, l := range logins {
		if st, err := a.me(l.token); err != nil || st != 200 {
			t.Fatalf("an acknowledged session is gone: %d %v", st, err)
		}
	}

	// Every email leaves the outbox once: none twice, and each acknowledged first login has one.
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var pending int
		if err := conn.QueryRow(context.Background(), `SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d emails still in the outbox", pending)
		}
	}
	msgs, err = mail.ReadMaildir(filepath.Join(data, "mail"))
	if err != nil {
		t.Fatal(err)
	}
	perUser := map[string]int{}
	for _, m := range msgs {
		if m.Template == "login_success" {
			perUser[m.To]++
		}
	}
	firsts := 0
	for _, l := range logins {
		if l.first {
			firsts++
		}
	}
	for to, n := range perUser {
		if n > 1 {
			t.Errorf("%s got %d first-login emails", to, n)
		}
	}
	if len(perUser) < firsts {
		t.Errorf("%d first logins acknowledged, %d first-login emails", firsts, len(perUser))
	}

	// The restarted instance takes requests through HAProxy again.
	for range 6 {
		if st, err := a.me(logins[0].token); err != nil || st != 200 {
			t.Fatalf("after the restart: %d %v", st, err)
		}
	}
	resp, err := http.Get("http://" + insts[1].ops + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	if !regexp.MustCompile(`magd_http_requests_total\{code="200",route="GET /v1/me"\} [1-9]`).Match(metrics) {
		t.Fatal("the restarted instance answered no request through HAProxy")
	}
	t.Logf("%d logins acknowledged, %d reads (retried when an instance died), %d first-login emails, none twice",
		len(logins), reads, len(perUser))
}
