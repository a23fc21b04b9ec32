package server_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server"
	"github.com/mag-desktop/magdesk/internal/server/password"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// topology is one deployment measured through HAProxy.
type topology struct {
	env   *servertest.Env
	token string // a demo user's session, for Home
	user  string // that user, for logins
	pw    string
}

// clients are workers HTTP/1.1 clients with a connection each, so that HAProxy spreads the
// workers' connections over the instances (one HTTP/2 connection would pin them all to one).
func (tp topology) clients(b *testing.B, workers int) []*http.Client {
	out := make([]*http.Client, workers)
	for i := range out {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: tp.env.CAPool, MinVersion: tls.VersionTLS12},
			TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}, MaxIdleConnsPerHost: 1}
		b.Cleanup(tr.CloseIdleConnections)
		out[i] = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	}
	return out
}

// rate runs op on each client for d and returns operations per second.
func rate(b *testing.B, cs []*http.Client, d time.Duration, op func(c *http.Client) bool) float64 {
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(start) < d {
				if !op(c) {
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

func (tp topology) home(b *testing.B) func(c *http.Client) bool {
	return func(c *http.Client) bool {
		req, _ := http.NewRequest("GET", tp.env.URL+api.PathMyApplications, nil)
		req.Header.Set("Authorization", "Bearer "+tp.token)
		resp, err := c.Do(req)
		if err != nil {
			b.Error(err)
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Errorf("Home: %d", resp.StatusCode)
		}
		return resp.StatusCode == 200
	}
}

func (tp topology) login(b *testing.B) func(c *http.Client) bool {
	body, _ := json.Marshal(api.LoginRequest{UserID: tp.user, Password: tp.pw})
	return func(c *http.Client) bool {
		resp, err := c.Post(tp.env.URL+api.PathLogin, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Error(err)
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Errorf("login: %d", resp.StatusCode)
		}
		return resp.StatusCode == 200
	}
}

// BenchmarkScaleOut measures Home (GET /v1/me/applications) requests per second and logins per
// second (production Argon2id, default hashing slots) through HAProxy in TCP mode, for magd on
// SQLite (one instance), on PostgreSQL with one instance and with two, all in the same run, in
// interleaved rounds (ratios are medians over the rounds). Goals: PostgreSQL single Home >= 0.6
// of SQLite's; two instances >= 1.0 of one. Everything (clients, HAProxy, PostgreSQL, magd)
// shares this machine's CPUs.
func BenchmarkScaleOut(b *testing.B) {
	base := []servertest.Option{servertest.WithDemo(), servertest.WithLoginRate(-1), servertest.WithSecurityQuestions(false),
		servertest.WithConfig(func(c *server.Config) { c.Argon2 = password.Default; c.OpsAddr = "127.0.0.1:0" })}
	mk := func(n int, extra ...servertest.Option) topology {
		env := servertest.StartBalanced(b, n, append(slices.Clone(base), extra...)...)
		d := env.Server.Demo()
		lr, p := env.Login(b, env.Client(b, nil), d.UserUserID, d.UserPassword)
		if p != nil {
			b.Fatal(p)
		}
		return topology{env: env, token: lr.SessionToken, user: d.UserUserID, pw: d.UserPassword}
	}
	sqlite1 := mk(1, servertest.WithSQLite())
	pg1 := mk(1, servertest.WithPostgres(b))
	pg2 := mk(2, servertest.WithPostgres(b))
	tops := []topology{sqlite1, pg1, pg2}
	const workers, rounds = 8, 3
	homeD, loginD := 1500*time.Millisecond, 3*time.Second
	home := make([][]float64, len(tops))
	login := make([][]float64, len(tops))
	b.ResetTimer()
	for range rounds {
		for i, tp := range tops {
			home[i] = append(home[i], rate(b, tp.clients(b, workers), homeD, tp.home(b)))
		}
		for i, tp := range tops {
			login[i] = append(login[i], rate(b, tp.clients(b, 4), loginD, tp.login(b)))
		}
	}
	b.StopTimer()
	median := func(v []float64) float64 {
		v = slices.Clone(v)
		slices.Sort(v)
		return v[len(v)/2]
	}
	ratios := func(num, den []float64) float64 {
		r := make([]float64, len(num))
		for i := range num {
			r[i] = num[i] / den[i]
		}
		return median(r)
	}
	b.ReportMetric(median(home[0]), "sqlite1_home/s")
	b.ReportMetric(median(home[1]), "pg1_home/s")
	b.ReportMetric(median(home[2]), "pg2_home/s")
	b.ReportMetric(ratios(home[1], home[0]), "pg1-vs-sqlite1-home")
	b.ReportMetric(ratios(home[2], home[1]), "pg2-vs-pg1-home")
	b.ReportMetric(median(login[0]), "sqlite1_logins/s")
	b.ReportMetric(median(login[1]), "pg1_logins/s")
	b.ReportMetric(median(login[2]), "pg2_logins/s")
	b.ReportMetric(ratios(login[2], login[1]), "pg2-vs-pg1-logins")
}
