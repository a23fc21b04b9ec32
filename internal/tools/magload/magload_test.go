package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// runJSON runs magload with args and decodes its JSON report, if it printed one.
func runJSON(t *testing.T, args ...string) (int, report, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append(args, "-json"), &out, &errOut)
	var r report
	if out.Len() > 0 {
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("report is not JSON (%v):\n%s\n%s", err, out.String(), errOut.String())
		}
	}
	return code, r, errOut.String()
}

// checkComplete asserts that every flow ran every call, without errors.
func checkComplete(t *testing.T, r report, flows int) {
	t.Helper()
	if r.Flows != flows || r.Complete != flows || r.Requests != 5*flows || len(r.Errors) != 0 {
		t.Fatalf("flows %d (%d complete), requests %d, errors %v; want %d complete flows of 5 calls and no error",
			r.Flows, r.Complete, r.Requests, r.Errors, flows)
	}
	for i, s := range r.Calls {
		if s.Call != callTypes[i] || s.Count != flows || s.Errors != 0 || s.P50ms <= 0 || s.P50ms > s.P99ms || s.P99ms > s.MaxMs {
			t.Errorf("call stats %+v", s)
		}
	}
	if r.NonLogin.Count != 4*flows {
		t.Errorf("non-login count %d, want %d", r.NonLogin.Count, 4*flows)
	}
}

// TestInProcess provisions accounts through the real activation, terms and access flows of
// a magd it starts, and runs every call of every flow without an error.
func TestInProcess(t *testing.T) {
	code, r, stderr := runJSON(t, "-clients", "6", "-iterations", "2", "-fast-hash", "-security-questions", "-hash-concurrency", "1", "-hash-low-priority")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkComplete(t, r, 12)
	if r.Setup == nil || !r.Setup.InProcess || !strings.HasPrefix(r.Setup.URL, "https://127.0.0.1:") {
		t.Errorf("setup %+v", r.Setup)
	}
	if !strings.Contains(stderr, "7 accounts activated") {
		t.Errorf("progress: %q", stderr)
	}
}

// TestRemote loads a magd that runs elsewhere, making its accounts on the data folder the
// way `magd admin` does beside `magd serve`.
func TestRemote(t *testing.T) {
	env := servertest.Start(t)
	code, r, stderr := runJSON(t, "-url", env.URL, "-data", env.DataDir, "-clients", "4", "-iterations", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkComplete(t, r, 12)
	if r.Setup.InProcess || r.Setup.URL != env.URL {
		t.Errorf("setup %+v", r.Setup)
	}
}

// A magd that limits logins per IP (as `magd serve` does) makes the setup give up with a
// message that says why, within -setup-timeout.
func TestRemoteRateLimited(t *testing.T) {
	env := servertest.Start(t, servertest.WithLoginRate(1))
	code, _, stderr := runJSON(t, "-url", env.URL, "-data", env.DataDir, "-clients", "4", "-setup-timeout", "2s")
	if code != 1 || !strings.Contains(stderr, "RATE_LIMITED") || !strings.Contains(stderr, "limits logins and activations per IP") {
		t.Fatalf("exit %d, stderr %q; want 1 and the reason", code, stderr)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-clients", "0"}, {"-clients", "2001"}, {"-iterations", "0"}, {"-duration", "0s"}, {"-duration", "31m"}, {"-setup-timeout", "0s"},
		{"-url", "https://127.0.0.1:1"}, {"-data", "/tmp"}, {"stray"}, {"-no-such-flag"}, {"-hash-concurrency", "-1"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code != 2 || errOut.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a message", args, code, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-url", "http://127.0.0.1:1", "-data", t.TempDir()}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "https://") {
		t.Errorf("plain http: exit %d, %q", code, errOut.String())
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 200; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		in   []time.Duration
		p    int
		want time.Duration
	}{
		{nil, 99, 0},
		{d[:1], 50, time.Millisecond},
		{d[:1], 99, time.Millisecond},
		{d[:10], 50, 5 * time.Millisecond},
		{d[:10], 99, 10 * time.Millisecond},
		{d, 50, 100 * time.Millisecond},
		{d, 99, 198 * time.Millisecond},
		{d, 100, 200 * time.Millisecond},
	} {
		if got := percentile(tc.in, tc.p); got != tc.want {
			t.Errorf("p%d of %d samples = %v, want %v", tc.p, len(tc.in), got, tc.want)
		}
	}
}

func TestSummarizeCountsErrors(t *testing.T) {
	samples := []sample{
		{"login", 90 * time.Millisecond, string(api.CodeServerBusy)},
		{"login", 40 * time.Millisecond, ""},
		{"me", 2 * time.Millisecond, ""},
		{"apps", 3 * time.Millisecond, "BAD_ANSWER"},
		{"logout", time.Millisecond, ""},
	}
	r := summarize(samples, 1, 0, time.Second)
	if r.Errors[string(api.CodeServerBusy)] != 1 || r.Errors["BAD_ANSWER"] != 1 || r.unexpected() != 1 || r.FlowsPerSec != 0 || r.ReqPerSec != 5 {
		t.Fatalf("errors %v, unexpected %d", r.Errors, r.unexpected())
	}
	if r.Calls[0].Count != 2 || r.Calls[0].Errors != 1 || r.NonLogin.Count != 3 || r.NonLogin.MaxMs != 3 {
		t.Fatalf("stats %+v / %+v", r.Calls[0], r.NonLogin)
	}
	var text bytes.Buffer
	r.writeText(&text)
	if !strings.Contains(text.String(), "BAD_ANSWER 1, SERVER_BUSY 1 (1 not back-pressure)") {
		t.Errorf("text report:\n%s", text.String())
	}
}

func TestBackPressure(t *testing.T) {
	busy := api.NewProblem(api.CodeServerBusy, "busy")
	busy.RetryAfter = 3
	for _, tc := range []struct {
		err  error
		wait time.Duration
		ok   bool
	}{
		{&callError{Code: string(busy.Code), Problem: busy}, 3 * time.Second, true},
		{&callError{Code: "RATE_LIMITED", Problem: api.NewProblem(api.CodeRateLimited, "x")}, time.Second, true},
		{&callError{Code: "INVALID_CREDENTIALS", Problem: api.NewProblem(api.CodeInvalidCredentials, "x")}, 0, false},
		{&callError{Code: "NETWORK"}, 0, false},
		{nil, 0, false},
	} {
		if wait, ok := backPressure(tc.err); wait != tc.wait || ok != tc.ok {
			t.Errorf("backPressure(%v) = %v, %v", tc.err, wait, ok)
		}
	}
}

// BenchmarkMagload200Clients is the load figure: 200 concurrent clients, each with its
// own TLS connections, through login -> me -> apps -> launch -> logout against an in-process
// magd with the real (OWASP) Argon2id parameters, on loopback. It reports the p99 of the
// non-login calls beside the login latency and the flow throughput.
func BenchmarkMagload200Clients(b *testing.B) {
	const clients = 200
	tg, err := startLocal(localOptions{loginRate: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer tg.close()
	f, err := provision(context.Background(), tg.adm, tg.url, tg.roots, clients, &bytes.Buffer{})
	if err != nil {
		b.Fatal(err)
	}
	var r *report
	for b.Loop() {
		r = runLoad(context.Background(), tg.url, tg.roots, f, loadConfig{Clients: clients, Iterations: 1, Duration: 5 * time.Minute, Grace: 30 * time.Second})
	}
	if n := r.unexpected(); n > 0 {
		b.Errorf("%d errors that are not back-pressure: %v", n, r.Errors)
	}
	b.ReportMetric(r.NonLogin.P99ms, "ms/p99-non-login")
	b.ReportMetric(r.NonLogin.P50ms, "ms/p50-non-login")
	b.ReportMetric(r.Calls[0].P99ms, "ms/p99-login")
	b.ReportMetric(r.FlowsPerSec, "flows/s")
	b.ReportMetric(float64(r.Complete), "complete-flows")
	b.ReportMetric(float64(r.Errors[string(api.CodeServerBusy)]+r.Errors[string(api.CodeRateLimited)]), "back-pressure-refusals")
}
