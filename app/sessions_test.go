package app

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/config"
	"github.com/mag-desktop/magdesk/internal/service"
)

// confirmTop presses the confirm button of the dialog on top.
func (h *harness) confirmTop() {
	h.t.Helper()
	d, ok := h.u.TopDialog().(*dialog.ConfirmDialog)
	if !ok {
		h.t.Fatalf("no confirmation dialog on top (screen %q)", h.u.Screen())
	}
	d.Confirm()
	h.u.Wait()
}

func TestClearCachedSessionsFromMenu(t *testing.T) {
	h := newHarness(t)
	id := h.user(false)
	h.login(id, testPassword)
	store := h.sessions()
	srv, _ := client.NormalizeServerURL(h.env.URL)
	sess, err := store.Load(srv, id)
	if err != nil {
		t.Fatalf("session not cached in the keyring: %v", err)
	}

	h.u.ConfirmClearSessions()
	h.u.Wait()
	// Esc closes the confirmation without clearing anything.
	h.u.typedKey(&fyneKeyEscape)
	if h.u.TopDialog() != nil || h.u.LoggedIn() == nil {
		t.Fatal("Esc did not cancel the confirmation")
	}
	h.u.ConfirmClearSessions()
	h.u.Wait()
	h.confirmTop()
	if h.u.LoggedIn() != nil || h.u.Screen() != "Login" {
		t.Fatalf("still logged in after clearing (screen %q)", h.u.Screen())
	}
	h.mustContain(h.u.lastInfo, "1 ended on the server")
	if left, _ := h.svc.CachedSessions(t.Context()); len(left) != 0 {
		t.Fatalf("sessions left in the keyring: %v", left)
	}
	// The server ended it too.
	status, p := h.env.Do(t, h.env.Client(t, nil), "GET", api.PathMe, sess.Token, nil, nil)
	if status != http.StatusUnauthorized || p == nil {
		t.Fatalf("old token still works: %d", status)
	}
}

func TestAccountMismatchOffersClearing(t *testing.T) {
	h := newHarness(t)
	org := h.env.CreateOrg(h.t, "Acme Aero")
	alice := h.env.CreateActiveUser(t, org, "alice@example.com", "Alice", "A", testPassword, false)
	bob := h.env.CreateActiveUser(t, org, "bob@example.com", "Bob", "B", testPassword, false)
	h.login(alice, testPassword) // alice is current; the window is closed without logging out

	// The keyring holds, under alice's name, a session that is really bob's (the "browser
	// remembers the wrong account" case of the help page).
	lr, p := h.env.Login(t, h.env.Client(t, nil), bob, testPassword)
	if p != nil {
		t.Fatal(p)
	}
	srv, _ := client.NormalizeServerURL(h.env.URL)
	if err := h.sessions().Save(client.Session{Server: srv, UserID: alice, Token: lr.SessionToken}); err != nil {
		t.Fatal(err)
	}

	h.rebuild(h.u.App, nil)
	h.u.Start(nil)
	h.u.Wait()
	if h.u.LoggedIn() != nil {
		t.Fatalf("logged in as %s with bob's session", h.u.LoggedIn().Account.UserID)
	}
	if h.u.login.err.Text == "" {
		t.Fatal("the mismatch is not explained")
	}
	h.confirmTop() // the clear-sessions offer opened by itself
	if left, _ := h.svc.CachedSessions(t.Context()); len(left) != 0 {
		t.Fatalf("sessions left: %v", left)
	}
}

func TestSupportBundleHoldsNoSecret(t *testing.T) {
	h := newHarness(t)
	id := h.user(false)
	h.login(id, testPassword)
	srv, _ := client.NormalizeServerURL(h.env.URL)
	sess, err := h.sessions().Load(srv, id)
	if err != nil {
		t.Fatal(err)
	}
	h.u.ShowSupportBundle()
	form, ok := h.u.TopDialog().(*dialog.FormDialog)
	if !ok {
		t.Fatal("no support bundle dialog")
	}
	out := filepath.Join(t.TempDir(), "support.zip")
	h.typeIn(h.u.supportPath, out)
	form.Submit()
	h.u.Wait()
	h.mustContain(h.u.lastInfo, "Support bundle written")
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var all bytes.Buffer
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(&all, rc)
		rc.Close()
	}
	if !strings.Contains(all.String(), "server_url") {
		t.Fatalf("the bundle looks empty (%d bytes)", all.Len())
	}
	for _, secret := range []string{testPassword, sess.Token} {
		if strings.Contains(all.String(), secret) {
			t.Fatalf("the bundle contains a secret")
		}
	}
	// A second export to the same file is refused; the first file stays.
	h.u.writeSupportBundle(out)
	h.u.Wait()
	h.mustContain(h.u.lastInfo, "not written")
}

// The account tab lists the other accounts cached for this server; Use switches to one without
// a password, and one the server ended is refused and forgotten.
func TestUseAnotherCachedAccount(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ended bool
	}{{"a live session", false}, {"a session the server ended", true}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			org := h.env.CreateOrg(t, "Acme Aero")
			alice := h.env.CreateActiveUser(t, org, "alice@example.com", "Alice", "A", testPassword, false)
			bob := h.env.CreateActiveUser(t, org, "bob@example.com", "Bob", "B", testPassword, false)
			// Bob logged in on this computer too (the command line, another window).
			eff, err := config.Load(h.home)
			if err != nil {
				t.Fatal(err)
			}
			other := service.NewService(service.Options{Home: t.TempDir(), Settings: eff, Sessions: h.sessions()})
			if _, err := other.Login(t.Context(), service.LoginRequest{UserID: bob, Password: testPassword, NoCertificate: true}); err != nil {
				t.Fatal(err)
			}
			if tc.ended {
				srv, _ := client.NormalizeServerURL(h.env.URL)
				sess, _ := h.sessions().Load(srv, bob)
				h.env.Do(t, h.env.Client(t, nil), "DELETE", api.PathSessionCurrent, sess.Token, nil, nil)
			}
			h.login(alice, testPassword)
			h.u.showTab(TabAccount)
			h.u.Wait()
			var use *widget.Button
			for _, o := range h.u.account.others.Objects {
				if row, ok := o.(*fyne.Container); ok {
					for _, w := range row.Objects {
						if b, ok := w.(*widget.Button); ok && b.Text == "Use" {
							use = b
						}
					}
				}
			}
			h.tap(use)
			want := bob
			if tc.ended {
				want = alice
			}
			if me := h.u.LoggedIn(); me == nil || me.Account.UserID != want {
				t.Fatalf("logged in as %+v, want %s", me, want)
			}
			if tc.ended && h.u.account.err.Text == "" {
				t.Fatal("the refusal is not explained")
			}
			if got := h.svc.CurrentAccount(); got != want {
				t.Fatalf("current account %s, want %s", got, want)
			}
			list, _ := h.svc.CachedSessions(t.Context())
			if cached := slices.ContainsFunc(list, func(s service.CachedSession) bool { return s.UserID == bob }); cached == tc.ended {
				t.Fatalf("bob cached: %v (%+v)", cached, list)
			}
		})
	}
}
