package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// bench is what one benchmark reported: every metric (unit -> samples, one per -count run).
type bench struct {
	Pkg     string
	Name    string // without the -GOMAXPROCS suffix
	Metrics map[string][]float64
}

// results are the parsed benchmarks of a whole `go test -bench` output, by name.
type results struct {
	Runs   map[string]*bench
	Order  []string
	Failed []string // "FAIL pkg" lines and benchmark failures, to show beside the table
}

var (
	benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-(\d+))?\s+(\d+)\s+(.+)$`)
	pkgLine   = regexp.MustCompile(`^pkg:\s+(\S+)`)
	failLine  = regexp.MustCompile(`^(?:FAIL|--- FAIL:)\s+(\S+)`)
)

// parse reads `go test -bench` output (any number of packages, any -count). Lines it does not
// know are skipped: test logs, PASS/ok lines, build output.
func parse(r io.Reader) (*results, error) {
	res := &results{Runs: map[string]*bench{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	pkg := ""
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := pkgLine.FindStringSubmatch(line); m != nil {
			pkg = m[1]
			continue
		}
		if m := failLine.FindStringSubmatch(line); m != nil {
			res.Failed = append(res.Failed, m[1])
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		fields := strings.Fields(m[4])
		if len(fields) < 2 || len(fields)%2 != 0 {
			continue
		}
		metrics := map[string]float64{}
		ok := true
		for i := 0; i < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				ok = false
				break
			}
			metrics[fields[i+1]] = v
		}
		if !ok {
			continue
		}
		name := m[1]
		b := res.Runs[name]
		if b == nil {
			b = &bench{Pkg: pkg, Name: name, Metrics: map[string][]float64{}}
			res.Runs[name] = b
			res.Order = append(res.Order, name)
		}
		for u, v := range metrics {
			b.Metrics[u] = append(b.Metrics[u], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read benchmark output: %w", err)
	}
	return res, nil
}

// value is the median of a metric's samples.
func (b *bench) value(unit string) (float64, bool) {
	s := append([]float64(nil), b.Metrics[unit]...)
	if len(s) == 0 {
		return 0, false
	}
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}
