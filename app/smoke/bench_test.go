package smoke

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// window starts bin and waits for its window (title regexp); stop kills the process.
func window(b *testing.B, bin string, args, env []string, title string, limit time.Duration) (cmd *exec.Cmd, win string, out *strings.Builder, stop func()) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	cmd = exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out = &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		b.Fatal(err)
	}
	stop = func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		cancel()
	}
	if !poll(30*time.Second, func() bool { win = findWindow(title); return win != "" }) {
		stop()
		b.Fatalf("%s: no window\n%s", filepath.Base(bin), out.String())
	}
	return cmd, win, out, stop
}

// launch starts bin, waits for its window (title regexp) to show a non-blank frame and
// returns the time that took and the resident memory after idle seconds.
func launch(b *testing.B, bin string, args []string, env []string, title string, idle time.Duration) (time.Duration, int64) {
	b.Helper()
	start := time.Now()
	cmd, win, out, stop := window(b, bin, args, env, title, time.Minute)
	defer stop()
	if !pollFast(30*time.Second, func() bool { return meanBrightness(win) > 0.02 }) {
		b.Fatalf("%s: window stayed blank\n%s", filepath.Base(bin), out.String())
	}
	firstFrame := time.Since(start)
	time.Sleep(idle)
	return firstFrame, rssKB(b, cmd.Process.Pid)
}

func pollFast(d time.Duration, f func() bool) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if f() {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// rssKB is VmRSS of pid in KiB.
func rssKB(b *testing.B, pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			v, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return v
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// BenchmarkStartup measures `magdesk --demo` against a hello-world Fyne window built with the
// same toolchain in the same run, alternating them (5 rounds per op): process start to the
// first non-blank frame, and resident memory after a few seconds idle. The goals are in
// benchreport's table of figures.
func BenchmarkStartup(b *testing.B) {
	if os.Getenv("DISPLAY") == "" {
		b.Skip("no X server (DISPLAY is empty)")
	}
	tmp := b.TempDir()
	magdesk, hello := buildPair(b, tmp)
	env := []string{"LANG=en_US.UTF-8", "XDG_CONFIG_HOME=" + filepath.Join(tmp, "config")}
	const idle = 3 * time.Second
	// Rounds of one hello then one magdesk start; the ratios are the medians of the rounds'
	// ratios, so a moment of load from elsewhere on a shared machine does not decide them.
	const roundsPerOp = 5
	var tMag, tHello, mMag, mHello, tRatio, mRatio []float64
	b.ResetTimer()
	for i := 0; i < b.N*roundsPerOp; i++ {
		th, mh := launch(b, hello, nil, env, "^Hello Fyne$", idle)
		home := filepath.Join(tmp, fmt.Sprintf("home%d", i))
		tm, mm := launch(b, magdesk, []string{"--demo"}, append(env, "MAGDESK_HOME="+home), "^MAG Desktop$", idle)
		tHello, mHello = append(tHello, float64(th.Milliseconds())), append(mHello, float64(mh)/1024)
		tMag, mMag = append(tMag, float64(tm.Milliseconds())), append(mMag, float64(mm)/1024)
		tRatio, mRatio = append(tRatio, float64(tm)/float64(th)), append(mRatio, float64(mm)/float64(mh))
	}
	b.StopTimer()
	b.ReportMetric(median(tMag), "magdesk-first-frame-ms")
	b.ReportMetric(median(tHello), "hello-first-frame-ms")
	b.ReportMetric(median(tRatio), "start-ratio")
	b.ReportMetric(median(mMag), "magdesk-rss-MiB")
	b.ReportMetric(median(mHello), "hello-rss-MiB")
	b.ReportMetric(median(mRatio), "rss-ratio")
}

// buildPair builds magdesk and the hello-world Fyne app into tmp with the same toolchain,
// skipping the benchmark without the X tools it drives the windows with.
func buildPair(b *testing.B, tmp string) (magdesk, hello string) {
	b.Helper()
	for _, n := range []string{"xdotool", "import"} {
		if _, err := exec.LookPath(n); err != nil {
			b.Skipf("%s is not installed", n)
		}
	}
	root := moduleRoot(b)
	build := func(pkg, out string) string {
		cmd := exec.Command("go", "build", "-o", filepath.Join(tmp, out), pkg)
		cmd.Dir = root
		if o, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("build %s: %v\n%s", pkg, err, o)
		}
		return filepath.Join(tmp, out)
	}
	return build("./cmd/magdesk", "magdesk"), build("./app/smoke/testdata/hello", "hello")
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// cpuTicks is the user plus system CPU time of pid, in clock ticks (/proc/PID/stat).
func cpuTicks(b *testing.B, pid int) int64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command name (which may hold spaces) start at state; utime and
	// stime are the 14th and 15th fields of the line.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ut + st
}

// clockTicks is the kernel's USER_HZ, the unit of /proc/PID/stat times (100 on Linux/amd64).
const clockTicks = 100

// BenchmarkIdleCPU measures the CPU an idle window uses, as a percentage of one core averaged
// over a minute: `magdesk --demo` logged in on Home (the events watcher long-polling its
// embedded gateway) against the hello-world Fyne window of the same run (the goal is in
// benchreport's table of figures).
func BenchmarkIdleCPU(b *testing.B) {
	if os.Getenv("DISPLAY") == "" {
		b.Skip("no X server (DISPLAY is empty)")
	}
	tmp := b.TempDir()
	magdesk, hello := buildPair(b, tmp)
	const idle, settle = time.Minute, 5 * time.Second
	env := []string{"LANG=en_US.UTF-8", "XDG_CONFIG_HOME=" + filepath.Join(tmp, "config")}
	// idleCPU runs bin, calls ready once its window is up, lets it settle and returns its CPU
	// over the idle minute in percent of one core.
	idleCPU := func(bin string, args, env []string, title string, ready func(win string)) float64 {
		cmd, win, _, stop := window(b, bin, args, env, title, 3*time.Minute)
		defer stop()
		ready(win)
		time.Sleep(settle)
		t0, c0 := time.Now(), cpuTicks(b, cmd.Process.Pid)
		time.Sleep(idle)
		used := float64(cpuTicks(b, cmd.Process.Pid)-c0) / clockTicks
		return 100 * used / time.Since(t0).Seconds()
	}
	var mag, hel float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		hel = idleCPU(hello, nil, env, "^Hello Fyne$", func(string) {})
		home := filepath.Join(tmp, fmt.Sprintf("home%d", i))
		credFile := filepath.Join(home, "demo-credentials.json")
		mag = idleCPU(magdesk, []string{"--demo"}, append(env, "MAGDESK_HOME="+home, "MAGDESK_DEMO_CREDENTIALS="+credFile), "^MAG Desktop$",
			func(win string) {
				var c creds
				if !poll(60*time.Second, func() bool {
					data, err := os.ReadFile(credFile)
					return err == nil && json.Unmarshal(data, &c) == nil && c.UserUserID != "" && strings.Contains(readLogs(b, home), `"name":"Login"`)
				}) {
					b.Fatal("the demo never showed Login")
				}
				if err := typeLogin(win, c); err != nil {
					b.Fatal(err)
				}
				if !poll(30*time.Second, func() bool { return findWindow(`^MAG Desktop \(`+c.UserUserID+`\)$`) != "" }) {
					b.Fatal("the scripted login did not reach Home")
				}
			})
	}
	b.StopTimer()
	b.ReportMetric(mag, "magdesk-idle-cpu-%")
	b.ReportMetric(hel, "hello-idle-cpu-%")
}
