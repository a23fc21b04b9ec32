package app

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/pquerna/otp/totp"
	"github.com/zalando/go-keyring"

	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/config"
	"github.com/mag-desktop/magdesk/internal/secrets"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
	"github.com/mag-desktop/magdesk/internal/service"
)

func TestMain(m *testing.M) {
	if os.Getenv("MAGDESK_REAL_KEYRING") != "1" {
		keyring.MockInit()
	}
	os.Exit(m.Run())
}

// harness is the window of the real app, headless, against a real in-process magd over TLS.
type harness struct {
	t     *testing.T
	env   *servertest.Env
	clock *servertest.Clock
	home  string
	// userHome is $HOME for the browsers' certificate stores.
	userHome string
	svc      *service.Service
	u        *UI
	mu       sync.Mutex
	opened   []string
}

const testPassword = "plum orbit cactus lantern 42"

func newHarness(t *testing.T, opts ...servertest.Option) *harness {
	t.Helper()
	a := test.NewTempApp(t)
	h := &harness{t: t, clock: servertest.NewClock(), home: t.TempDir()}
	h.env = servertest.Start(t, append([]servertest.Option{servertest.WithNow(h.clock.Now)}, opts...)...)
	ca := filepath.Join(h.home, "gateway-ca.pem")
	if err := os.WriteFile(ca, h.env.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	st := config.Defaults()
	st.ServerURL, st.CABundle = h.env.URL, ca
	if err := config.SaveUser(h.home, st); err != nil {
		t.Fatal(err)
	}
	// The browsers' stores of a throwaway HOME: empty unless a test creates an NSS database.
	h.userHome = t.TempDir()
	h.rebuild(a, nil)
	t.Cleanup(func() {
		h.u.Wait()
		h.u.Close()
		_, _ = h.svc.ClearSessions(context.Background())
	})
	return h
}

// rebuild starts the app again over the same MAGDESK_HOME ("close and reopen"); edit may
// change the backend's options.
func (h *harness) rebuild(a fyne.App, edit func(*service.Options)) {
	h.t.Helper()
	eff, err := config.Load(h.home)
	if err != nil {
		h.t.Fatal(err)
	}
	o := service.Options{Home: h.home, Settings: eff, Version: "test",
		Keyring: testKeyring, Sessions: h.sessions(),
		Stores: certstore.InventoryOptions{Discover: certstore.DiscoverOptions{Home: h.userHome,
			XDGConfigHome: filepath.Join(h.userHome, ".config"), XDGDataHome: filepath.Join(h.userHome, ".local/share"), SystemDirs: []string{}}}}
	if edit != nil {
		edit(&o)
	}
	h.svc = service.NewService(o)
	if h.u != nil {
		h.u.Wait()
		h.u.Close()
	}
	w := a.NewWindow("test")
	w.Resize(fyne.NewSize(900, 700))
	h.u = New(a, w, h.svc)
	h.u.inbox = make(chan func())
	h.u.OpenURL = func(l *url.URL) error {
		h.mu.Lock()
		h.opened = append(h.opened, l.String())
		h.mu.Unlock()
		return nil
	}
}

// testKeyring is the OS keyring (the real Secret Service in CI, go-keyring's mock elsewhere)
// under a profile of these tests only, so that other packages' tests running at the same
// time, which check what their own services hold, never see these entries.
var testKeyring = secrets.Profile(secrets.System{}, "app tests")

// sessions is a session store over testKeyring, as the app's own.
func (h *harness) sessions() *client.SessionStore { return client.NewSessionStore(testKeyring) }

// tap taps a button and waits for the work it started.
func (h *harness) tap(b *widget.Button) {
	h.t.Helper()
	if b == nil {
		h.t.Fatal("no such button")
	}
	test.Tap(b)
	h.u.Wait()
}

// typeIn replaces an entry's text as a user would type it.
func (h *harness) typeIn(e interface {
	fyne.Focusable
	SetText(string)
}, text string) {
	e.SetText("")
	test.Type(e, text)
}

func (h *harness) user(admin bool) string {
	org := h.env.CreateOrg(h.t, "Acme Aero")
	return h.env.CreateActiveUser(h.t, org, "pat@example.com", "Pat", "Lee", testPassword, admin)
}

// login goes through the Login screen.
func (h *harness) login(userID, password string) {
	h.t.Helper()
	if h.u.login == nil || h.u.Screen() != "Login" {
		h.u.ShowLogin("")
	}
	h.typeIn(h.u.login.userID, userID)
	h.typeIn(h.u.login.password, password)
	h.tap(h.u.login.submit)
}

// code is the TOTP code for secret at the server's current time step.
func (h *harness) code(secret string) string {
	c, err := totp.GenerateCode(secret, h.clock.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

func (h *harness) mustContain(got, want string) {
	h.t.Helper()
	if !strings.Contains(got, want) {
		h.t.Fatalf("%q does not contain %q", got, want)
	}
}

// labels collects the text of every label and button under o (what the user reads).
func labels(o fyne.CanvasObject) string {
	var b strings.Builder
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil {
			return
		}
		switch w := o.(type) {
		case *widget.Label:
			b.WriteString(w.Text + "\n")
		case *widget.Button:
			b.WriteString("[" + w.Text + "]\n")
		case *widget.Card:
			b.WriteString(w.Title + "\n")
			walk(w.Content)
		case *widget.Form:
			for _, it := range w.Items {
				b.WriteString(it.Text + ": ")
				walk(it.Widget)
			}
		case *container.Scroll:
			walk(w.Content)
		case *container.Split:
			walk(w.Leading)
			walk(w.Trailing)
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c)
			}
		}
	}
	walk(o)
	return b.String()
}

var fyneKeyEscape = fyne.KeyEvent{Name: fyne.KeyEscape}
