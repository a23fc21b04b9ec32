package main

import (
	"bytes"
	"math"
	"os"
	"strings"
	"testing"
)

func sample(t *testing.T) *results { return parseFile(t, "testdata/sample.txt") }

func parseFile(t *testing.T, path string) *results {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestParseRecordedOutput(t *testing.T) {
	res := sample(t)
	wantOrder := []string{"BenchmarkFileListClassify1000", "BenchmarkNSSList200", "BenchmarkLoginThroughput", "BenchmarkAppsOverTLS",
		"BenchmarkPolicyCheck/long-input", "BenchmarkArgon2idDefault", "BenchmarkMagload200Clients"}
	if strings.Join(res.Order, ",") != strings.Join(wantOrder, ",") {
		t.Fatalf("benchmarks = %v, want %v", res.Order, wantOrder)
	}
	login := res.Runs["BenchmarkLoginThroughput"]
	if login.Pkg != "github.com/mag-desktop/magdesk/internal/server" || len(login.Metrics["logins/s"]) != 3 {
		t.Fatalf("login = %+v", login)
	}
	for _, tc := range []struct {
		bench, unit string
		want        float64
	}{
		{"BenchmarkLoginThroughput", "logins/s", 18.6}, // median of 19, 18, 18.6
		{"BenchmarkLoginThroughput", "argon2id/s", 20},
		{"BenchmarkFileListClassify1000", "ms/list+classify", 91.23},
		{"BenchmarkNSSList200", "ms/certutil-L", 120},
		{"BenchmarkPolicyCheck/long-input", "ns/op", 5123},
		{"BenchmarkArgon2idDefault", "B/op", 67110000}, // no -GOMAXPROCS suffix
	} {
		if v, ok := res.Runs[tc.bench].value(tc.unit); !ok || v != tc.want {
			t.Errorf("%s %s = %v, %v; want %v", tc.bench, tc.unit, v, ok, tc.want)
		}
	}
	if len(res.Failed) != 2 || res.Failed[0] != "BenchmarkSomethingBroken" {
		t.Errorf("failures = %v", res.Failed)
	}
}

func TestEvaluateFigures(t *testing.T) {
	rows := evaluate(sample(t))
	got := map[string]row{}
	for _, r := range rows {
		got[r.fig.Metric] = r
	}
	for _, tc := range []struct {
		metric          string
		measured, pass  bool
		ratio, baseline float64
	}{
		{"logins/s", true, true, 0.95, 20},         // the benchmark's own ratio (median of 3 runs), not 18.6/20
		{"magd_req/s", true, false, 0.35, 10000},   // 0.35 < 0.40: MISS
		{"ms/list+classify", true, true, 1, 91.23}, // 91 ms < 100 ms (the goal is on the value)
		{"ms/list", true, false, 2, 120},           // 2.0 > 1.5: MISS
		{"magdesk-first-frame-ms", false, false, 0, 0},
		{"magdesk-rss-MiB", false, false, 0, 0},
		{"ms/p99-non-login", true, true, 0, 0}, // 38.2 ms < 50 ms, no baseline
	} {
		r := got[tc.metric]
		if r.measured != tc.measured || r.pass != tc.pass {
			t.Errorf("%s: measured %v pass %v, want %v %v", tc.metric, r.measured, r.pass, tc.measured, tc.pass)
		}
		if tc.measured && tc.baseline != 0 && (r.base != tc.baseline || math.Abs(r.rate-tc.ratio) > 1e-9) {
			t.Errorf("%s: baseline %v ratio %v, want %v %v", tc.metric, r.base, r.rate, tc.baseline, tc.ratio)
		}
	}
	if len(rows) != len(figures) {
		t.Fatalf("%d rows for %d figures", len(rows), len(figures))
	}
}

func TestRenderOneTable(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"testdata/sample.txt"}, nil, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"FIGURE", "Login throughput / raw Argon2id ceiling", "18.6 logins/s", "20 verifications/s", "ratio >= 0.9", "value < 100", "240 ms",
		"GET /v1/me/applications over TLS / bare net/http TLS handler", "0.35", "MISS",
		"Load: p99 of non-login calls, 200 clients", "38.2 ms", "value < 50",
		"3 PASS, 2 MISS, 8 not measured.",
		"Other benchmarks of this run (no published goal): BenchmarkPolicyCheck/long-input 5123 ns/op; BenchmarkArgon2idDefault",
		"FAILED while benchmarking: BenchmarkSomethingBroken",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q:\n%s", want, s)
		}
	}
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "GUI cold start") && !strings.Contains(l, "not measured") {
			t.Errorf("an absent benchmark is not reported as not measured: %q", l)
		}
	}
	if n := strings.Count(s, "FIGURE"); n != 1 {
		t.Errorf("%d tables", n)
	}
}

func TestNoBenchmarksIsAnError(t *testing.T) {
	var out bytes.Buffer
	err := run(nil, strings.NewReader("PASS\nok  \tx\t0.1s\n"), &out)
	if err == nil || !strings.Contains(err.Error(), "no benchmark results") {
		t.Fatalf("err = %v", err)
	}
	if err := run([]string{"testdata/does-not-exist"}, nil, &out); err == nil {
		t.Fatal("a missing file is not an error")
	}
}

// TestRecordedRun: the output of a real `make bench` on the 2-core CI machine (testdata/
// recorded.txt) fills every figure of the table.
func TestRecordedRun(t *testing.T) {
	res := parseFile(t, "testdata/recorded.txt")
	for _, r := range evaluate(res) {
		if !r.measured || (r.fig.Baseline != "" && !r.hasBase) {
			t.Errorf("%s: not measured from a real run (benchmark %s, unit %s)", r.fig.Name, r.fig.Bench, r.fig.Metric)
		}
	}
	if len(res.Failed) != 0 {
		t.Errorf("failures in the recorded run: %v", res.Failed)
	}
}

func TestMarkdownTable(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-markdown", "testdata/sample.txt"}, nil, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"| FIGURE | MEASURED | BASELINE (same run) | RATIO | GOAL | RESULT |\n|---|---|---|---|---|---|\n",
		"| Login throughput / raw Argon2id ceiling | 18.6 logins/s | 20 verifications/s | 0.95 | ratio >= 0.9 | PASS |\n",
		"| GUI idle memory / hello-world Fyne | not measured | - | - | ratio <= 1.25 | - |\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("markdown lacks %q:\n%s", want, s)
		}
	}
	if err := run([]string{"-bogus"}, nil, &out); err == nil {
		t.Error("an unknown flag is not an error")
	}
}
