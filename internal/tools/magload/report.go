package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mag-desktop/magdesk/api"
)

// report is the outcome of a load run.
type report struct {
	Flows       int              `json:"flows"`    // started
	Complete    int              `json:"complete"` // all five calls succeeded
	Requests    int              `json:"requests"`
	ElapsedSec  float64          `json:"elapsed_seconds"`
	FlowsPerSec float64          `json:"flows_per_second"` // complete ones
	ReqPerSec   float64          `json:"requests_per_second"`
	Calls       []callStats      `json:"calls"`
	NonLogin    callStats        `json:"non_login"` // me, apps, launch and logout together
	Errors      map[string]int   `json:"errors"`    // by code
	Setup       *setupDescriptor `json:"setup,omitempty"`
}

// setupDescriptor says what was measured, for the report's first line.
type setupDescriptor struct {
	URL        string `json:"url"`
	InProcess  bool   `json:"in_process"`
	Clients    int    `json:"clients"`
	Iterations int    `json:"iterations"`
	Argon2     string `json:"argon2,omitempty"`
}

// callStats are the latencies of one call type (successful and failed calls alike).
type callStats struct {
	Call   string  `json:"call"`
	Count  int     `json:"count"`
	Errors int     `json:"errors"`
	P50ms  float64 `json:"p50_ms"`
	P90ms  float64 `json:"p90_ms"`
	P99ms  float64 `json:"p99_ms"`
	MaxMs  float64 `json:"max_ms"`
}

// summarize the samples of flows started flows, complete of which ran all five calls.
func summarize(all []sample, flows, complete int, elapsed time.Duration) *report {
	r := &report{Flows: flows, Complete: complete, Requests: len(all), ElapsedSec: elapsed.Seconds(), Errors: map[string]int{}}
	if s := elapsed.Seconds(); s > 0 {
		r.FlowsPerSec, r.ReqPerSec = float64(complete)/s, float64(len(all))/s
	}
	byCall := map[string][]sample{}
	for _, s := range all {
		byCall[s.call] = append(byCall[s.call], s)
		if s.code != "" {
			r.Errors[s.code]++
		}
	}
	var nonLogin []sample
	for _, call := range callTypes {
		r.Calls = append(r.Calls, stats(call, byCall[call]))
		if call != "login" {
			nonLogin = append(nonLogin, byCall[call]...)
		}
	}
	r.NonLogin = stats("non-login", nonLogin)
	return r
}

func stats(call string, samples []sample) callStats {
	st := callStats{Call: call, Count: len(samples)}
	durs := make([]time.Duration, len(samples))
	for i, s := range samples {
		durs[i] = s.dur
		if s.code != "" {
			st.Errors++
		}
	}
	slices.Sort(durs)
	st.P50ms, st.P90ms, st.P99ms = ms(percentile(durs, 50)), ms(percentile(durs, 90)), ms(percentile(durs, 99))
	if len(durs) > 0 {
		st.MaxMs = ms(durs[len(durs)-1])
	}
	return st
}

// percentile of sorted durations by the nearest-rank method (0 for none).
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	return sorted[max(rank, 1)-1]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// unexpected counts the errors that are not the server's documented back-pressure.
func (r *report) unexpected() int {
	n := 0
	for code, c := range r.Errors {
		if code != string(api.CodeServerBusy) && code != string(api.CodeRateLimited) {
			n += c
		}
	}
	return n
}

func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func (r *report) writeText(w io.Writer) {
	if d := r.Setup; d != nil {
		where := "magd at " + d.URL
		if d.InProcess {
			where = "in-process magd at " + d.URL
		}
		fmt.Fprintf(w, "magload: %d clients x %d flows (login, me, apps, launch, logout) against %s", d.Clients, d.Iterations, where)
		if d.Argon2 != "" {
			fmt.Fprintf(w, ", Argon2id %s", d.Argon2)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%d flows (%d complete) and %d requests in %.1f s: %.1f complete flows/s, %.1f requests/s\n\n",
		r.Flows, r.Complete, r.Requests, r.ElapsedSec, r.FlowsPerSec, r.ReqPerSec)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "call\tcount\terrors\tp50 ms\tp90 ms\tp99 ms\tmax ms\t")
	for _, s := range append(slices.Clone(r.Calls), r.NonLogin) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t\n", s.Call, s.Count, s.Errors, s.P50ms, s.P90ms, s.P99ms, s.MaxMs)
	}
	tw.Flush()
	if len(r.Errors) == 0 {
		fmt.Fprintln(w, "\nerrors: none")
		return
	}
	var parts []string
	for _, code := range slices.Sorted(maps.Keys(r.Errors)) {
		parts = append(parts, fmt.Sprintf("%s %d", code, r.Errors[code]))
	}
	fmt.Fprintf(w, "\nerrors by code: %s (%d not back-pressure)\n", strings.Join(parts, ", "), r.unexpected())
}
