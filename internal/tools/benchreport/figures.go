package main

import (
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"
	"text/tabwriter"
)

// goal is the target of a figure: its ratio to the baseline (Of "ratio") or its own value
// (Of "value") compared with Op to Value.
type goal struct {
	Of    string // "ratio" or "value"
	Op    string // ">=", "<=", "<"
	Value float64
}

func (g goal) String() string {
	of := "ratio"
	if g.Of == "value" {
		of = "value"
	}
	return fmt.Sprintf("%s %s %s", of, g.Op, trim(g.Value))
}

func (g goal) met(v float64) bool {
	switch g.Op {
	case ">=":
		return v >= g.Value
	case "<=":
		return v <= g.Value
	case "<":
		return v < g.Value
	}
	return false
}

// figure maps one published number to the benchmark that measures it: a benchmark name
// (regular expression) and the units it reports with b.ReportMetric for the figure and for its
// baseline measured in the same run.
type figure struct {
	Name     string
	Bench    *regexp.Regexp
	Metric   string // unit of the figure
	Baseline string // unit of its baseline; "" when the goal is on the value alone
	Unit     string // shown after the figure (and after the baseline unless BaseUnit)
	BaseUnit string
	// RatioUnit is the ratio the benchmark reports itself (for instance the median of
	// interleaved rounds, steadier on a shared machine than the ratio of the totals); it is
	// preferred to figure/baseline when present.
	RatioUnit string
	Goal      goal
	Issue     string // where the figure is asked for
}

// figures is every figure of the issues. A benchmark that reports these units under a matching
// name fills the row; a missing one prints "not measured".
var figures = []figure{
	{"Login throughput / raw Argon2id ceiling", regexp.MustCompile(`^BenchmarkLoginThroughput$`), "logins/s", "argon2id/s", "logins/s",
		"verifications/s", "ratio", goal{"ratio", ">=", 0.90}, "issue 2"},
	{"GET /v1/me/applications over TLS / bare net/http TLS handler", regexp.MustCompile(`^BenchmarkAppsOverTLS$`), "magd_req/s", "bare_req/s", "req/s",
		"", "ratio", goal{"ratio", ">=", 0.40}, "issue 2"},
	{"List+classify 1,000 identities, file store", regexp.MustCompile(`^BenchmarkFileListClassify1000$`), "ms/list+classify", "ms/baseline-read-files", "ms",
		"", "", goal{"value", "<", 100}, "issue 4"},
	{"NSS listing 200 identities / certutil -L alone", regexp.MustCompile(`^BenchmarkNSSList200$`), "ms/list", "ms/certutil-L", "ms",
		"", "ratio-vs-certutil-L", goal{"ratio", "<=", 1.5}, "issue 4"},
	{"GUI cold start to first frame / hello-world Fyne", regexp.MustCompile(`^BenchmarkStartup$`), "magdesk-first-frame-ms", "hello-first-frame-ms", "ms",
		"", "start-ratio", goal{"ratio", "<=", 1.15}, "issue 5"},
	{"GUI idle memory / hello-world Fyne", regexp.MustCompile(`^BenchmarkStartup$`), "magdesk-rss-MiB", "hello-rss-MiB", "MiB",
		"", "rss-ratio", goal{"ratio", "<=", 1.25}, "issue 5"},
	{"Load: p99 of non-login calls, 200 clients", regexp.MustCompile(`^BenchmarkMagload200Clients$`), "ms/p99-non-login", "", "ms",
		"", "", goal{"value", "<", 50}, "issue 7"},
	{"Idle app, events feed: requests per idle hour", regexp.MustCompile(`^BenchmarkIdleEventsTraffic$`), "requests/idle-hour", "", "requests",
		"", "", goal{"value", "<=", 60}, "issue 16"},
	{"Idle app, events feed: traffic per idle hour", regexp.MustCompile(`^BenchmarkIdleEventsTraffic$`), "KB/idle-hour", "", "KB",
		"", "", goal{"value", "<=", 100}, "issue 16"},
	{"GUI idle CPU on Home (% of one core, a minute) / hello-world Fyne", regexp.MustCompile(`^BenchmarkIdleCPU$`), "magdesk-idle-cpu-%", "hello-idle-cpu-%", "%",
		"", "", goal{"value", "<", 1}, "issue 16"},
	{"Home through HAProxy: PostgreSQL, 1 instance / SQLite, 1 instance", regexp.MustCompile(`^BenchmarkScaleOut$`), "pg1_home/s", "sqlite1_home/s", "req/s",
		"", "pg1-vs-sqlite1-home", goal{"ratio", ">=", 0.6}, "issue 15"},
	{"Home through HAProxy: PostgreSQL, 2 instances / 1 instance", regexp.MustCompile(`^BenchmarkScaleOut$`), "pg2_home/s", "pg1_home/s", "req/s",
		"", "pg2-vs-pg1-home", goal{"ratio", ">=", 1.0}, "issue 15"},
	{"Logins through HAProxy: PostgreSQL, 2 instances / 1 instance", regexp.MustCompile(`^BenchmarkScaleOut$`), "pg2_logins/s", "pg1_logins/s", "logins/s",
		"", "pg2-vs-pg1-logins", goal{"ratio", ">=", 1.0}, "issue 15"},
}

// row is one evaluated line of the table.
type row struct {
	fig               figure
	bench             string
	value, base, rate float64
	hasBase, measured bool
	pass              bool
}

func evaluate(res *results) []row {
	out := make([]row, 0, len(figures))
	for _, f := range figures {
		r := row{fig: f}
		for _, name := range res.Order {
			if !f.Bench.MatchString(name) {
				continue
			}
			b := res.Runs[name]
			v, ok := b.value(f.Metric)
			if !ok {
				continue
			}
			r.bench, r.value, r.measured = name, v, true
			if f.Baseline != "" {
				if bv, ok := b.value(f.Baseline); ok && bv != 0 {
					r.base, r.hasBase, r.rate = bv, true, v/bv
					if own, ok := b.value(f.RatioUnit); ok && f.RatioUnit != "" {
						r.rate = own
					}
				}
			}
			break
		}
		if r.measured {
			subject := r.value
			if f.Goal.Of == "ratio" {
				subject = r.rate
			}
			r.pass = (f.Goal.Of != "ratio" || r.hasBase) && f.Goal.met(subject)
		}
		out = append(out, r)
	}
	return out
}

func trim(v float64) string {
	switch {
	case math.IsInf(v, 0) || math.IsNaN(v):
		return fmt.Sprint(v)
	case math.Abs(v) >= 1000:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v), ".0")
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

// cells are the table's lines, one per figure, and the verdict counts.
func cells(rows []row) (lines [][]string, pass, miss, absent int) {
	for _, r := range rows {
		if !r.measured {
			absent++
			lines = append(lines, []string{r.fig.Name, "not measured", "-", "-", r.fig.Goal.String(), "-"})
			continue
		}
		base, ratio := "-", "-"
		if r.hasBase {
			bu := r.fig.BaseUnit
			if bu == "" {
				bu = r.fig.Unit
			}
			base, ratio = trim(r.base)+" "+bu, trim(r.rate)
		} else if r.fig.Baseline != "" {
			base = "missing"
		}
		verdict := "MISS"
		if r.pass {
			verdict, pass = "PASS", pass+1
		} else {
			miss++
		}
		lines = append(lines, []string{r.fig.Name, trim(r.value) + " " + r.fig.Unit, base, ratio, r.fig.Goal.String(), verdict})
	}
	return lines, pass, miss, absent
}

var header = []string{"FIGURE", "MEASURED", "BASELINE (same run)", "RATIO", "GOAL", "RESULT"}

// render prints the one table (aligned text, or Markdown for the README), then the benchmarks
// outside it and any failures.
func render(w io.Writer, res *results, rows []row, markdown bool) (pass, miss, absent int) {
	lines, pass, miss, absent := cells(rows)
	if markdown {
		fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
		for _, l := range lines {
			fmt.Fprintf(w, "| %s |\n", strings.Join(l, " | "))
		}
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, l := range append([][]string{header}, lines...) {
			fmt.Fprintln(tw, strings.Join(l, "\t"))
		}
		_ = tw.Flush()
	}
	used := map[string]bool{}
	for _, r := range rows {
		used[r.bench] = true
	}
	var other []string
	for _, name := range res.Order {
		if used[name] {
			continue
		}
		if v, ok := res.Runs[name].value("ns/op"); ok {
			other = append(other, fmt.Sprintf("%s %s ns/op", name, trim(v)))
		} else {
			other = append(other, name)
		}
	}
	fmt.Fprintf(w, "\n%d PASS, %d MISS, %d not measured.\n", pass, miss, absent)
	if len(other) > 0 {
		fmt.Fprintf(w, "Other benchmarks of this run (no published goal): %s.\n", strings.Join(other, "; "))
	}
	if len(res.Failed) > 0 {
		fmt.Fprintf(w, "FAILED while benchmarking: %s\n", strings.Join(res.Failed, ", "))
	}
	return pass, miss, absent
}
