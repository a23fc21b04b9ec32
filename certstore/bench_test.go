package certstore

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
)

// BenchmarkFileListClassify1000 lists the file store holding 1,000 identities and classifies
// them (the goal is in benchreport's table of figures). The baseline, measured in the same run, is
// reading the same 1,000 certificate files and nothing else.
func BenchmarkFileListClassify1000(b *testing.B) {
	ctx := context.Background()
	ca := newTestCA(b, "Gateway CA")
	fs, err := OpenFileStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	var server []api.Certificate
	for i := range 1000 {
		id := ca.issue(b, "Jane Doe", fmt.Sprint("c-", i), issueOpt{})
		user := []string{"doej_0001", "doej_0002"}[i%2]
		if _, err := fs.ImportRecord(ctx, id, Record{Source: SourceRequest, ServerURL: "https://gw", UserID: user}); err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			server = append(server, api.Certificate{SHA256: string(FingerprintOf(id.Cert)), Status: "active"})
		}
	}
	in := ClassifyInput{ServerCAs: ca.pool(), ServerURL: "https://gw", CurrentUserID: "doej_0001", MyServerCerts: server, ServerListKnown: true, Now: time.Now()}

	// The baseline runs outside b's timer (testing.Benchmark must not nest in a benchmark).
	baseline := averageOf(20, func() {
		files, _ := filepath.Glob(filepath.Join(fs.Dir(), "*.crt"))
		for _, f := range files {
			if _, err := os.ReadFile(f); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ResetTimer()
	var wrong int
	for b.Loop() {
		ids, err := fs.List(ctx)
		if err != nil || len(ids) != 1000 {
			b.Fatalf("list: %d %v", len(ids), err)
		}
		in.LocalRecords, _ = fs.Records()
		wrong = len(WrongAccount(Classify(ids, in)))
	}
	b.StopTimer()
	if wrong != 500 {
		b.Fatalf("wrong-account = %d, want 500", wrong)
	}
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(perOp/1e6, "ms/list+classify")
	b.ReportMetric(float64(baseline.Nanoseconds())/1e6, "ms/baseline-read-files")
	b.ReportMetric(perOp/float64(baseline.Nanoseconds()), "ratio-vs-read-files")
	b.ReportMetric(100, "goal-ms")
}

// averageOf times fn over n runs.
func averageOf(n int, fn func()) time.Duration {
	start := time.Now()
	for range n {
		fn()
	}
	return time.Since(start) / time.Duration(n)
}

// BenchmarkNSSList200 lists an NSS database of 200 identities, as a ratio of one
// `certutil -L` run on the same database measured in the same run.
func BenchmarkNSSList200(b *testing.B) {
	ctx := context.Background()
	dir := newNSSDBWith(b, 200)
	s := NewNSSStore(dir, "bench", nil)
	baseline := averageOf(10, func() {
		if err := exec.Command("certutil", "-L", "-d", "sql:"+dir).Run(); err != nil {
			b.Fatal(err)
		}
	})
	b.ResetTimer()
	for b.Loop() {
		ids, err := s.List(ctx)
		if err != nil || len(ids) != 200 {
			b.Fatalf("list: %d %v", len(ids), err)
		}
	}
	b.StopTimer()
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(perOp/1e6, "ms/list")
	b.ReportMetric(float64(baseline.Nanoseconds())/1e6, "ms/certutil-L")
	b.ReportMetric(perOp/float64(baseline.Nanoseconds()), "ratio-vs-certutil-L")
	b.ReportMetric(1.5, "goal-ratio")
}
