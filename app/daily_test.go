package app

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/internal/config"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
	"github.com/mag-desktop/magdesk/internal/service"
)

// trayApp is the test app with a system tray, as the desktop driver's app has.
type trayApp struct {
	fyne.App
	menu *fyne.Menu
}

func (a *trayApp) SetSystemTrayMenu(m *fyne.Menu)  { a.menu = m }
func (a *trayApp) SetSystemTrayIcon(fyne.Resource) {}
func (a *trayApp) SetSystemTrayWindow(fyne.Window) {}
func (a *trayApp) menuLabels() (out []string) {
	for _, it := range a.menu.Items {
		out = append(out, it.Label)
	}
	return out
}

func (h *harness) notices() []string {
	var out []string
	for _, n := range h.u.day.notices {
		out = append(out, n.Title+": "+n.Body)
	}
	return out
}

// serverCert is the gateway's view of a certificate of the account, through its own login.
func (h *harness) serverCert(userID, sha string) api.Certificate {
	h.t.Helper()
	c := h.env.Client(h.t, nil)
	lr, p := h.env.Login(h.t, c, userID, testPassword)
	if p != nil {
		h.t.Fatal(p)
	}
	var certs []api.Certificate
	h.env.Do(h.t, c, "GET", api.PathCertificates, lr.SessionToken, nil, &certs)
	for _, cert := range certs {
		if cert.SHA256 == sha {
			return cert
		}
	}
	h.t.Fatalf("the gateway does not list %s", sha)
	return api.Certificate{}
}

func shas(t *testing.T, st certstore.Store) []string {
	t.Helper()
	ids, err := st.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, id := range ids {
		if id.Key.Present {
			out = append(out, string(id.SHA256))
		}
	}
	return out
}

// TestRenewalFrozenClock: a certificate issued 276 days ago (frozen gateway clock), in the app's
// file store and the browser's NSS database. On the day it has 89 days left the app warns on
// the Certificates list, Home and the tray, and notifies once; "Renew now" makes a new key here,
// installs the new certificate in both stores, logs in with it, and the old one is revoked at
// the gateway and gone from both stores with its key, backed up first.
func TestRenewalFrozenClock(t *testing.T) {
	issued := time.Now().Add(-276 * 24 * time.Hour).Truncate(time.Second)
	clk := servertest.NewFrozenClock(issued)
	h := newHarness(t, servertest.WithNow(clk.Now))
	h.u.now = clk.Now
	tray := &trayApp{App: h.u.App}
	h.u.App = tray
	nss := h.browserStore()
	id := h.user(false)
	h.login(id, testPassword)
	old, err := h.svc.RequestCertificate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fs, err := certstore.OpenFileStore(h.home, certstore.WithKeyring(testKeyring))
	if err != nil {
		t.Fatal(err)
	}
	b, err := fs.Export(context.Background(), certstore.Fingerprint(old.SHA256))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nss.Import(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	// Fresh: nothing to say.
	h.u.checkExpiry()
	h.u.Wait()
	if len(h.u.day.notices) != 0 || len(h.u.needsAttention()) != 0 {
		t.Fatalf("a fresh certificate needs attention: %v", h.notices())
	}

	// 276 days later the certificate has 89 days left. The app is opened again (the old
	// session has long ended) and says so at once.
	clk.Advance(old.NotAfter.Add(-89 * 24 * time.Hour).Sub(clk.Now()))
	want := old.Subject + ": Expires in 89 days — renew now."
	h.u.Logout()
	h.u.Wait()
	test.AssertNotificationSent(t, &fyne.Notification{Title: "Certificate expires soon", Content: want}, func() { h.login(id, testPassword) })
	if h.u.me == nil || h.u.me.Session.CertSHA256 != old.SHA256 {
		t.Fatalf("not logged in with the old certificate: %+v", h.u.me)
	}
	h.u.checkExpiry() // looking again does not notify again
	h.u.Wait()
	if n := h.notices(); len(n) != 1 || n[0] != "Certificate expires soon: "+want {
		t.Fatalf("notifications: %q", n)
	}
	h.mustContain(labels(h.u.home.content), "Your certificate "+old.Subject+" (in "+old.Store+"): Expires in 89 days — renew now.")
	if !slices.Contains(tray.menuLabels(), "Certificate "+old.Subject+": Expires in 89 days — renew now") {
		t.Fatalf("tray menu: %q", tray.menuLabels())
	}
	h.u.showTab(TabCerts)
	h.u.Wait()
	h.mustContain(labels(h.u.certs.content), "Expires in 89 days — renew now")
	// Fyne cannot say a notification was clicked: the screen it is about opens at the next focus.
	h.u.showTab(TabHome)
	h.u.Wait()
	h.u.foreground()
	h.u.Wait()
	if h.u.Screen() != TabCerts {
		t.Fatalf("after the notification, the window opened %q", h.u.Screen())
	}

	// Renew from Home.
	h.tap(h.u.home.renewOf[old.SHA256])
	f := h.u.day.renew
	if f == nil {
		t.Fatal("no renewal dialog")
	}
	backup := filepath.Join(t.TempDir(), "old.p12")
	h.typeIn(f.password, testPassword)
	h.typeIn(f.backup, backup)
	h.typeIn(f.backPW, "backup secret 1")
	f.dialog.Submit()
	h.u.Wait()
	h.mustContain(h.u.lastInfo, "Certificate renewed")
	h.mustContain(h.u.lastInfo, backup)

	// The new certificate is where the old one was, and logged in.
	fileNow, nssNow := shas(t, fs), shas(t, nss)
	if len(fileNow) != 1 || len(nssNow) != 1 || fileNow[0] != nssNow[0] || fileNow[0] == old.SHA256 {
		t.Fatalf("after renewal: file store %v, NSS %v (old %s)", fileNow, nssNow, old.SHA256)
	}
	renewed := fileNow[0]
	if h.u.me.Session.CertSHA256 != renewed || h.u.me.Session.AAL != 2 {
		t.Fatalf("session after renewal: %+v", h.u.me.Session)
	}
	// The old one: revoked at the gateway, and its key gone from NSS too.
	if st := h.serverCert(id, old.SHA256).Status; st != "revoked" {
		t.Fatalf("old certificate at the gateway: %s", st)
	}
	out, _ := exec.Command("certutil", "-K", "-d", "sql:"+filepath.Join(h.userHome, ".pki", "nssdb")).CombinedOutput()
	if n := strings.Count(string(out), "<"); n != 1 {
		t.Fatalf("NSS keys after renewal (want only the new one):\n%s", out)
	}
	if _, err := os.Stat(backup); err != nil {
		t.Fatalf("no backup: %v", err)
	}
	// A fresh login chooses the new certificate by itself.
	me, err := h.svc.Login(context.Background(), service.LoginRequest{UserID: id, Password: testPassword})
	if err != nil || me.Session.CertSHA256 != renewed || me.Session.AAL != 2 {
		t.Fatalf("login after renewal: %v %+v", err, me.Session)
	}
	h.u.checkExpiry()
	h.u.Wait()
	if len(h.u.needsAttention()) != 0 || !slices.Contains(tray.menuLabels(), "Certificates: nothing needs attention") {
		t.Fatalf("after renewal still needs attention: %v / %q", h.u.needsAttention(), tray.menuLabels())
	}
}

// TestApprovalReachesOtherClient: the user's window watches the events feed; the organisation
// administrator approves the request from another client; the user's app notifies within
// three seconds, through the real gateway, refreshes Home, and opens Home at the next focus.
func TestApprovalReachesOtherClient(t *testing.T) {
	h := newHarness(t)
	org := h.env.CreateOrg(t, "Acme Aero")
	adminID := h.env.CreateActiveUser(t, org, "boss@example.com", "Bo", "Boss", testPassword, true)
	userID := h.env.CreateActiveUser(t, org, "pat@example.com", "Pat", "Lee", testPassword, false)
	h.env.AddApp(t, "parts", "Parts Catalogue", "/demoapps/parts", "Be nice.", 1)
	h.env.Subscribe(t, org, "parts")
	h.u.day.watchWait = 20 * time.Second

	// The administrator's own client: a second backend on the same gateway.
	eff, err := config.Load(h.home)
	if err != nil {
		t.Fatal(err)
	}
	admin := service.NewService(service.Options{Home: t.TempDir(), Settings: eff, Sessions: h.sessions()})
	ctx := context.Background()
	if _, err := admin.Login(ctx, service.LoginRequest{UserID: adminID, Password: testPassword, NoCertificate: true}); err != nil {
		t.Fatal(err)
	}
	terms, err := admin.Terms(ctx, org, "parts")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AcceptTerms(ctx, org, "parts", terms.TermsVersionID); err != nil {
		t.Fatal(err)
	}

	h.login(userID, testPassword)
	h.tap(h.u.home.buttons["parts/"+api.ActionRequestAccess])
	h.closeInfo()
	reqs, err := admin.AccessRequests(ctx, org)
	if err != nil || len(reqs) != 1 {
		t.Fatalf("requests: %v %v", reqs, err)
	}
	time.Sleep(300 * time.Millisecond) // the watcher is waiting on the server
	const bound = 3 * time.Second
	began := time.Now()
	if _, err := admin.DecideAccess(ctx, org, reqs[0].ID, api.DecisionApprove, ""); err != nil {
		t.Fatal(err)
	}
	test.AssertNotificationSent(t, &fyne.Notification{Title: "Access approved", Content: "You can now open Parts Catalogue."}, func() {
		for len(h.u.day.notices) == 0 && time.Since(began) < bound {
			h.u.Wait()
			time.Sleep(10 * time.Millisecond)
		}
		h.u.Wait()
	})
	if took := time.Since(began); took > bound {
		t.Fatalf("the notification took %v", took)
	}
	if h.u.home.buttons["parts/"+api.ActionOpen] == nil {
		t.Fatalf("Home was not refreshed: %s", h.appStatus("parts"))
	}
	h.u.showTab(TabAccount)
	h.u.Wait()
	h.u.foreground()
	h.u.Wait()
	if h.u.Screen() != TabHome {
		t.Fatalf("the notification's screen: %q", h.u.Screen())
	}
}

// TestTrayAndCloseToTray: the tray menu says who is logged in and what needs attention;
// closing the window with close_to_tray hides it, "Open MAG Desktop" brings it back, and
// without the setting closing closes.
func TestTrayAndCloseToTray(t *testing.T) {
	h := newHarness(t)
	tray := &trayApp{App: h.u.App}
	h.u.App = tray
	h.u.InstallDaily()
	if got := tray.menuLabels(); !slices.Equal(got, []string{"Open MAG Desktop", "", "Not logged in", "", "Quit"}) {
		t.Fatalf("logged-out tray menu: %q", got)
	}
	id := h.user(false)
	h.login(id, testPassword)
	h.u.Wait()
	if got := tray.menuLabels(); !slices.Equal(got, []string{"Open MAG Desktop", "", "Logged in as Pat Lee (" + id + ")",
		"Certificates: nothing needs attention", "", "Quit"}) {
		t.Fatalf("logged-in tray menu: %q", got)
	}
	if q := tray.menu.Items[len(tray.menu.Items)-1]; !q.IsQuit {
		t.Fatal("the tray's Quit is not marked as quit")
	}

	d := h.svc.DailySettings()
	d.CloseToTray = true
	if err := h.svc.SaveDailySettings(d); err != nil {
		t.Fatal(err)
	}
	h.u.closeWindow()
	if !h.u.day.hidden {
		t.Fatal("closing with close_to_tray did not hide the window")
	}
	tray.menu.Items[0].Action()
	if h.u.day.hidden {
		t.Fatal("Open MAG Desktop did not show the window")
	}
	d.CloseToTray = false
	if err := h.svc.SaveDailySettings(d); err != nil {
		t.Fatal(err)
	}
	closed := false
	h.u.Win.SetOnClosed(func() { closed = true })
	h.u.closeWindow()
	if !closed || h.u.day.hidden {
		t.Fatal("without close_to_tray the window was not closed")
	}
}

// TestStepUpAndHomeRefresh: Home says what each application needs and whether this session
// has it; registering a certificate removes "Next step" at once; opening an application that
// needs a second factor from a password-only session offers to log in again, here with the
// certificate, and then opens it.
func TestStepUpAndHomeRefresh(t *testing.T) {
	h := newHarness(t)
	org := h.env.CreateOrg(t, "Acme Aero")
	adminID := h.env.CreateActiveUser(t, org, "boss@example.com", "Bo", "Boss", testPassword, true)
	h.env.AddApp(t, "vault", "Vault", "/demoapps/vault", "Be nice.", 2)
	h.env.Subscribe(t, org, "vault")
	h.login(adminID, testPassword)
	if h.u.home.registerOTP == nil {
		t.Fatal("no Next step offered to a password-only account")
	}
	h.u.showTab(TabCerts)
	h.u.Wait()
	h.tap(h.u.certs.request)
	h.closeInfo()
	h.u.Wait()
	if h.u.home.registerOTP != nil || strings.Contains(labels(h.u.home.content), "Next step") {
		t.Fatal("Next step still shown after registering a certificate")
	}
	// The admin accepts the terms and grants themself access through the API.
	c := h.env.Client(t, nil)
	lr, _ := h.env.Login(t, c, adminID, testPassword)
	var terms api.Terms
	h.env.Do(t, c, "GET", "/v1/orgs/"+org+"/applications/vault/terms", lr.SessionToken, nil, &terms)
	h.env.Do(t, c, "POST", "/v1/orgs/"+org+"/applications/vault/terms/acceptances", lr.SessionToken, api.AcceptTermsRequest{TermsVersionID: terms.TermsVersionID}, nil)
	var req api.AccessRequest
	h.env.Do(t, c, "POST", "/v1/me/applications/vault/access-requests", lr.SessionToken, nil, &req)
	h.env.Do(t, c, "POST", "/v1/orgs/"+org+"/access-requests/"+req.ID+"/decision", lr.SessionToken, api.DecisionRequest{Decision: api.DecisionApprove}, nil)
	h.u.showTab(TabHome)
	h.u.Wait()
	if h.u.me.Session.AAL != 1 {
		t.Fatalf("session AAL %d", h.u.me.Session.AAL)
	}
	h.mustContain(h.u.home.needs["vault"].Text, "This session has only your password")

	h.tap(h.u.home.buttons["vault/"+api.ActionOpen])
	f := h.u.home.stepUp
	if f == nil {
		t.Fatalf("Open Application did not offer the step-up: %q", h.u.home.err.Text)
	}
	h.typeIn(f.password, testPassword)
	f.dialog.Submit()
	h.u.Wait()
	if h.u.me.Session.AAL != 2 || len(h.opened) != 1 || !strings.Contains(h.opened[0], "/launch/") {
		t.Fatalf("after the step-up: AAL %d, opened %v, error %q", h.u.me.Session.AAL, h.opened, h.u.home.err.Text)
	}
	h.mustContain(h.u.home.needs["vault"].Text, "This session has it")
}

// The start-up screen's progress bar stops when another screen replaces it: its animation
// would otherwise keep redrawing the idle window.
func TestWaitingBarStops(t *testing.T) {
	h := newHarness(t)
	h.u.ShowWaiting("Starting the demo gateway…")
	bar := h.u.day.waiting
	if bar == nil || !bar.Running() {
		t.Fatal("the start-up progress bar does not run")
	}
	h.u.ShowLogin("")
	h.u.Wait()
	if bar.Running() || h.u.day.waiting != nil {
		t.Fatal("the progress bar still runs behind the Login screen")
	}
}
