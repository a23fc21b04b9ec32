package smoke

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/internal/logging"
)

type creds struct {
	UserUserID   string `json:"user_user_id"`
	UserPassword string `json:"user_password"`
}

// tools returns the path of each tool, skipping the test when one is genuinely absent.
func tools(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Skipf("%s is not installed (scripts/deps.sh installs it)", n)
		}
	}
}

func moduleRoot(t testing.TB) string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// buildMagdesk builds the real binary (cgo, GLFW) into dir.
func buildMagdesk(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "magdesk")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/magdesk")
	cmd.Dir = moduleRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build magdesk: %v\n%s", err, out)
	}
	return bin
}

// poll calls f every 100 ms until it returns true or d passes.
func poll(d time.Duration, f func() bool) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if f() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

func xdotool(args ...string) (string, error) {
	out, err := exec.Command("xdotool", args...).Output()
	return strings.TrimSpace(string(out)), err
}

// findWindow is the first visible window whose title matches the regular expression.
func findWindow(name string) string {
	out, _ := xdotool("search", "--onlyvisible", "--name", name)
	if out == "" {
		return ""
	}
	return strings.Fields(out)[0]
}

// meanBrightness is ImageMagick's mean of the window's pixels (0 black .. 1 white).
func meanBrightness(win string) float64 {
	out, err := exec.Command("import", "-window", win, "-format", "%[fx:mean]", "info:").Output()
	if err != nil {
		return 0
	}
	v, _ := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	return v
}

func screenshot(t *testing.T, win, path string) {
	t.Helper()
	if out, err := exec.Command("import", "-window", win, path).CombinedOutput(); err != nil {
		t.Fatalf("screenshot: %v %s", err, out)
	}
	t.Logf("screenshot: %s", path)
}

// TestGUISmoke runs `magdesk --demo`, checks the window is drawn, and logs in with xdotool.
func TestGUISmoke(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("no X server (DISPLAY is empty); scripts/test.sh runs this under Xvfb")
	}
	tools(t, "xdotool", "import")
	tmp := t.TempDir()
	artifacts := os.Getenv("MAGDESK_SMOKE_ARTIFACTS")
	if artifacts == "" {
		artifacts = tmp
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := buildMagdesk(t, tmp)
	home := filepath.Join(tmp, "home")
	credFile := filepath.Join(home, "demo-credentials.json")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--demo")
	cmd.Env = append(os.Environ(), "MAGDESK_HOME="+home, "MAGDESK_DEMO_CREDENTIALS="+credFile, "LANG=en_US.UTF-8")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("magdesk output:\n%s", out.String())
		}
	}()

	var win string
	if !poll(30*time.Second, func() bool { win = findWindow("^MAG Desktop$"); return win != "" }) {
		t.Fatal("no MAG Desktop window appeared within 30 s")
	}
	var mean float64
	if !poll(20*time.Second, func() bool { mean = meanBrightness(win); return mean > 0.02 }) {
		t.Fatalf("the window stayed blank (mean brightness %.3f)", mean)
	}
	t.Logf("first frame after %v, mean brightness %.3f", time.Since(start).Round(time.Millisecond), mean)
	screenshot(t, win, filepath.Join(artifacts, "1-first-frame.png"))

	var c creds
	if !poll(10*time.Second, func() bool {
		b, err := os.ReadFile(credFile)
		return err == nil && json.Unmarshal(b, &c) == nil && c.UserUserID != ""
	}) {
		t.Fatal("the demo credentials file was not written")
	}

	// The demo gateway starts after the first frame; Login shows when it is ready.
	if !poll(30*time.Second, func() bool { return strings.Contains(readLogs(t, home), `"name":"Login"`) }) {
		t.Fatal("the Login screen never showed")
	}
	screenshot(t, win, filepath.Join(artifacts, "2-login.png"))

	if err := typeLogin(win, c); err != nil {
		t.Fatal(err)
	}
	// Logged in, the title names the user.
	var home2 string
	if !poll(30*time.Second, func() bool { home2 = findWindow(`^MAG Desktop \(` + c.UserUserID + `\)$`); return home2 != "" }) {
		screenshot(t, win, filepath.Join(artifacts, "3-failed.png"))
		t.Fatal("the scripted login did not reach Home within 30 s")
	}
	time.Sleep(500 * time.Millisecond) // let Home fetch and draw the applications
	screenshot(t, home2, filepath.Join(artifacts, "3-home.png"))
	if m := meanBrightness(home2); m <= 0.02 {
		t.Fatalf("Home is blank (mean %.3f)", m)
	}
	if !strings.Contains(readLogs(t, home), `"name":"Home"`) {
		t.Error("the app log has no Home screen line")
	}
	fmt.Fprintf(os.Stderr, "gui smoke: screenshots in %s\n", artifacts)
}

// typeLogin logs in on the Login screen of window win as a user would: the user ID field has
// the focus when Login opens, click it anyway, type, Tab to the password, Enter submits.
func typeLogin(win string, c creds) error {
	steps := [][]string{
		{"mousemove", "--window", win, "400", "137", "click", "1"},
		{"type", "--delay", "15", c.UserUserID},
		{"key", "Tab"},
		{"type", "--delay", "15", c.UserPassword},
		{"key", "Return"},
	}
	for _, s := range steps {
		if _, err := xdotool(s...); err != nil {
			return fmt.Errorf("xdotool %v: %v", s[0], err)
		}
	}
	return nil
}

// readLogs is the app log under home (MAGDESK_HOME set: <home>/logs).
func readLogs(t testing.TB, home string) string {
	t.Helper()
	lines, _ := logging.Tail(filepath.Join(home, "logs"), 10000)
	return strings.Join(lines, "\n")
}
