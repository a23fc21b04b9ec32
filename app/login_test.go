package app

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/service"
)

func TestLoginReachesHome(t *testing.T) {
	h := newHarness(t)
	id := h.user(false)
	h.u.Start(nil)
	h.u.Wait()
	if h.u.Screen() != "Login" {
		t.Fatalf("first screen = %q, want Login", h.u.Screen())
	}
	h.login(id, testPassword)
	if h.u.LoggedIn() == nil || h.u.Screen() != TabHome {
		t.Fatalf("not on Home after login: screen %q, error %q", h.u.Screen(), h.u.login.err.Text)
	}
	if !strings.Contains(h.u.Win.Title(), id) {
		t.Fatalf("window title %q does not name the user", h.u.Win.Title())
	}
	h.mustContain(labels(h.u.home.content), "Signed in as Pat Lee ("+id+")")
	// The user id is remembered for the next start.
	if got := h.svc.RememberedUserID(); got != id {
		t.Fatalf("remembered user id = %q", got)
	}
}

func TestLoginErrors(t *testing.T) {
	h := newHarness(t)
	id := h.user(false)
	h.u.Start(nil)
	h.u.Wait()

	// Nothing typed: said before anything is sent.
	h.tap(h.u.login.submit)
	h.mustContain(h.u.login.err.Text, "Enter your user ID and your password")

	// Wrong password: plain words, still on Login, password kept for correction.
	h.login(id, "wrong password of some length")
	if h.u.LoggedIn() != nil {
		t.Fatal("logged in with a wrong password")
	}
	h.mustContain(strings.ToLower(h.u.login.err.Text), "password")

	// Enter in the password field submits (keyboard-first).
	h.typeIn(h.u.login.password, "another wrong password")
	h.u.login.password.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.u.Wait()
	if h.u.LoggedIn() != nil {
		t.Fatal("logged in with a wrong password")
	}

	// Keep failing until the lockout: the remaining time is shown.
	for i := 0; i < 8 && !strings.Contains(h.u.login.err.Text, "Too many failed attempts"); i++ {
		h.login(id, "wrong password number "+string(rune('a'+i)))
	}
	h.mustContain(h.u.login.err.Text, "locked for")
	h.mustContain(h.u.login.err.Text, "until")

	// The message counts down, and says when the lockout is over.
	start := time.Now()
	var passed time.Duration
	h.u.now = func() time.Time { return start.Add(passed) }
	h.login(id, "one more wrong password")
	before := h.u.login.err.Text
	passed = 5 * time.Second
	if !h.u.login.lockoutTick() || h.u.login.err.Text == before {
		t.Fatalf("no countdown: %q then %q", before, h.u.login.err.Text)
	}
	passed = time.Hour
	if h.u.login.lockoutTick() || h.u.login.err.Visible() || !strings.Contains(h.u.login.info.Text, "lockout is over") {
		t.Fatalf("the end of the lockout is not said: error %q, info %q", h.u.login.err.Text, h.u.login.info.Text)
	}
	h.u.now = time.Now

	// Even the right password waits for the lockout to end...
	h.login(id, testPassword)
	if h.u.LoggedIn() != nil {
		t.Fatal("logged in during a lockout")
	}
	// ...and works after it.
	h.clock.Advance(20 * time.Minute)
	h.login(id, testPassword)
	if h.u.LoggedIn() == nil {
		t.Fatalf("not logged in after the lockout: %q", h.u.login.err.Text)
	}
}

func TestLoginUnreachableServer(t *testing.T) {
	h := newHarness(t)
	id := h.user(false)
	h.u.Start(nil)
	h.u.Wait()
	// Port 1 on loopback refuses connections: the gateway is "down".
	st := h.svc.Settings()
	st.ServerURL = "https://127.0.0.1:1"
	if err := h.svc.SaveSettings(st); err != nil {
		t.Fatal(err)
	}
	h.login(id, testPassword)
	e := h.u.login.err.Text
	if h.u.LoggedIn() != nil || e == "" {
		t.Fatalf("login against a stopped server: %q", e)
	}
	h.mustContain(strings.ToLower(e), "try again")
}

// gated holds logins until released and counts them, to look at the UI while one runs.
type gated struct {
	service.Backend
	release chan struct{}
	mu      sync.Mutex
	calls   int
}

func (g *gated) Login(ctx context.Context, req service.LoginRequest) (api.Me, error) {
	g.mu.Lock()
	g.calls++
	g.mu.Unlock()
	<-g.release
	return g.Backend.Login(ctx, req)
}

func TestLoginCannotBeSubmittedTwice(t *testing.T) {
	h := newHarness(t)
	id := h.user(false)
	g := &gated{Backend: h.svc, release: make(chan struct{})}
	h.u = New(h.u.App, h.u.Win, g)
	h.u.inbox = make(chan func())
	h.u.ShowLogin(id)
	h.typeIn(h.u.login.password, testPassword)
	test.Tap(h.u.login.submit)
	if !h.u.login.submit.Disabled() || h.u.login.submit.Text != "Working…" {
		t.Fatalf("button during login: disabled %v text %q", h.u.login.submit.Disabled(), h.u.login.submit.Text)
	}
	test.Tap(h.u.login.submit)
	h.u.login.password.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	close(g.release)
	h.u.Wait()
	if g.calls != 1 {
		t.Fatalf("%d logins sent, want 1", g.calls)
	}
	if h.u.LoggedIn() == nil {
		t.Fatalf("not logged in: %q", h.u.login.err.Text)
	}
}

func TestExpiredSessionGoesBackToLogin(t *testing.T) {
	h := newHarness(t)
	id := h.user(false)
	h.login(id, testPassword)
	h.clock.Advance(25 * time.Hour) // past the absolute session lifetime
	h.tap(h.u.home.reload)
	if h.u.LoggedIn() != nil || h.u.Screen() != "Login" {
		t.Fatalf("still in after the session expired: %q", h.u.Screen())
	}
	if h.u.login.userID.Text != id || h.u.login.err.Text == "" {
		t.Fatalf("login after expiry: user %q message %q", h.u.login.userID.Text, h.u.login.err.Text)
	}
}
