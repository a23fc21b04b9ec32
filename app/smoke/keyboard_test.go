package smoke

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

type demoAccounts struct {
	UserUserID     string `json:"user_user_id"`
	UserPassword   string `json:"user_password"`
	PendingUserID  string `json:"pending_user_id"`
	ActivationLink string `json:"activation_link"`
}

// keyboardApp is a running `magdesk --demo` driven with key events only.
type keyboardApp struct {
	t    *testing.T
	home string
	win  string
	acc  demoAccounts
	out  bytes.Buffer
}

// startKeyboardApp starts the demo in a throwaway home and waits for Login, with the window
// holding the keyboard focus (set through the X server, not with the mouse).
func startKeyboardApp(t *testing.T, bin, dir string, env ...string) *keyboardApp {
	t.Helper()
	k := &keyboardApp{t: t, home: filepath.Join(dir, "home")}
	if err := os.MkdirAll(k.home, 0o700); err != nil {
		t.Fatal(err)
	}
	cred := filepath.Join(k.home, "demo-credentials.json")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	cmd := exec.CommandContext(ctx, bin, "--demo")
	cmd.Env = append(append(os.Environ(), "MAGDESK_HOME="+k.home, "MAGDESK_DEMO_CREDENTIALS="+cred, "LANG=en_US.UTF-8"), env...)
	cmd.Stdout, cmd.Stderr = &k.out, &k.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// SIGTERM quits like the window's Quit, so the demo removes its temporary folders.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		cancel()
		if t.Failed() {
			t.Logf("magdesk output:\n%s", k.out.String())
		}
	})
	if !poll(30*time.Second, func() bool { k.win = findWindow("^MAG Desktop"); return k.win != "" }) {
		t.Fatal("no MAG Desktop window appeared")
	}
	if !poll(30*time.Second, func() bool {
		b, err := os.ReadFile(cred)
		return err == nil && json.Unmarshal(b, &k.acc) == nil && k.acc.UserUserID != ""
	}) {
		t.Fatal("the demo credentials file was not written")
	}
	k.waitScreen("Login", 1)
	if _, err := xdotool("windowfocus", "--sync", k.win); err != nil {
		t.Fatalf("focus the window: %v", err)
	}
	return k
}

// waitScreen waits until the app has logged the screen name at least n times.
func (k *keyboardApp) waitScreen(name string, n int) {
	k.t.Helper()
	line := `"name":"` + name + `"`
	if !poll(30*time.Second, func() bool { return strings.Count(readLogs(k.t, k.home), line) >= n }) {
		k.shot("failed")
		k.t.Fatalf("the %q screen did not show (%d times)", name, n)
	}
	// The screen is logged as it is built; give the window a moment to draw it and take the
	// focus where typing starts (a user reads it first too).
	time.Sleep(700 * time.Millisecond)
}

// keys sends key presses (xdotool key names, e.g. Tab, Return, space, alt+3).
func (k *keyboardApp) keys(names ...string) {
	k.t.Helper()
	for _, n := range names {
		if _, err := xdotool("key", "--delay", "60", n); err != nil {
			k.t.Fatalf("xdotool key %s: %v", n, err)
		}
		time.Sleep(200 * time.Millisecond) // a focus moved by the key lands before the next one
	}
}

// typeText types text with key events.
func (k *keyboardApp) typeText(s string) {
	k.t.Helper()
	if _, err := xdotool("type", "--delay", "20", s); err != nil {
		k.t.Fatalf("xdotool type: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
}

func (k *keyboardApp) shot(name string) {
	if dir := os.Getenv("MAGDESK_SMOKE_ARTIFACTS"); dir != "" {
		sub := strings.ReplaceAll(strings.TrimPrefix(k.t.Name(), "TestKeyboardOnlySetupAnd2035/"), " ", "-")
		_ = exec.Command("import", "-window", k.win, filepath.Join(dir, "keyboard-"+sub+"-"+name+".png")).Run()
	}
}

// TestKeyboardOnlySetupAnd2035 completes first-time setup and the Error 2035 fix in the real
// window with key events alone (no pointer event is sent).
func TestKeyboardOnlySetupAnd2035(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("no X server (DISPLAY is empty); scripts/gui-smoke.sh runs this under Xvfb")
	}
	tools(t, "xdotool", "import")
	tmp := t.TempDir()
	bin := buildMagdesk(t, tmp)
	const password = "plum orbit cactus lantern 42"

	t.Run("first-time setup", func(t *testing.T) {
		k := startKeyboardApp(t, bin, filepath.Join(tmp, "setup"))
		// Login: user ID, password, Log in, then First-time setup.
		k.keys("Tab", "Tab", "Tab", "space")
		k.waitScreen("Setup: link", 1)
		k.typeText(k.acc.ActivationLink)
		k.keys("Return")
		k.waitScreen("Setup: password", 1)
		k.typeText(password)
		k.keys("Tab")
		k.typeText(password)
		k.keys("Return")
		k.waitScreen("Setup: questions", 1)
		// Each list: Right chooses the first question the other lists have not taken; Tab
		// to the answer; Enter goes to the next list (and on the last answer, Next).
		for _, a := range []string{"first answer", "second answer", "third answer", "fourth answer"} {
			k.keys("Right", "Tab")
			k.typeText(a)
			k.keys("Return")
		}
		k.waitScreen("Setup: summary", 1)
		k.keys("space") // Activate my account
		k.waitScreen("Setup: done", 1)
		k.keys("space") // Log in now: the user ID is filled in, the password has the focus
		k.waitScreen("Login", 2)
		k.typeText(password)
		k.keys("Return")
		if !poll(30*time.Second, func() bool { return findWindow(`^MAG Desktop \(`+k.acc.PendingUserID+`\)$`) != "" }) {
			k.shot("setup-login-failed")
			t.Fatal("the new account did not log in")
		}
		k.shot("setup-home")
	})

	t.Run("Error 2035 fix", func(t *testing.T) {
		docs := filepath.Join(tmp, "docs")
		if err := os.MkdirAll(docs, 0o700); err != nil {
			t.Fatal(err)
		}
		k := startKeyboardApp(t, bin, filepath.Join(tmp, "fix"), "XDG_DOCUMENTS_DIR="+docs)
		if planted, _ := filepath.Glob(filepath.Join(k.home, "certs", "*.p12")); len(planted) != 1 {
			t.Fatalf("the demo planted %d certificates in the app's store, want 1", len(planted))
		}
		k.typeText(k.acc.UserUserID)
		k.keys("Tab")
		k.typeText(k.acc.UserPassword)
		k.keys("Return")
		k.waitScreen("Home", 1)
		// Alt+3: Certificates, where the fix of the other account's certificate has the focus.
		k.keys("alt+3")
		k.waitScreen("Certificates: listed", 1) // read from the stores
		k.keys("space")                         // Fix Error 2035…
		k.waitScreen("Fix Error 2035: choose", 1)
		k.keys("space") // Remove it from this computer (a backup is made first)
		k.waitScreen("Fix Error 2035: remove", 1)
		k.typeText("backup password 1")
		k.keys("Tab")
		k.typeText("backup password 1")
		k.keys("Return") // Back up and remove
		var backups []string
		if !poll(30*time.Second, func() bool {
			backups, _ = filepath.Glob(filepath.Join(docs, "certificate-backup-*.p12"))
			return len(backups) == 1
		}) {
			k.shot("fix-failed")
			t.Fatalf("no backup in the documents folder: %v", backups)
		}
		// The app's store (<home>/certs/<sha256>.p12) no longer holds the certificate.
		if !poll(30*time.Second, func() bool {
			left, _ := filepath.Glob(filepath.Join(k.home, "certs", "*.p12"))
			return len(left) == 0
		}) {
			k.shot("fix-failed")
			t.Fatal("the certificate is still in the app's store")
		}
		time.Sleep(500 * time.Millisecond)
		k.shot("fix-done")
		k.keys("space") // Done
		if st, err := os.Stat(backups[0]); err != nil || st.Size() == 0 {
			t.Fatalf("backup %s: %v", backups[0], err)
		}
	})
}
