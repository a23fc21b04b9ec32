package app

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/dialog"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/assets/help"
	"github.com/mag-desktop/magdesk/internal/config"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
	"github.com/mag-desktop/magdesk/internal/service"
)

func TestConnectScreen(t *testing.T) {
	h := newHarness(t)
	// A first start with no server goes to Connect.
	if err := config.SaveUser(h.home, config.Defaults()); err != nil {
		t.Fatal(err)
	}
	h.rebuild(h.u.App, nil)
	h.u.Start(nil)
	h.u.Wait()
	if h.u.Screen() != "Connect" {
		t.Fatalf("first start without a server: %q", h.u.Screen())
	}
	c := h.u.connect
	cases := []struct{ server, ca, want string }{
		{"", "", "Enter the server address"},
		{"https://127.0.0.1:1", "", "refused"},                             // nothing listens there
		{h.env.URL, "", "not trusted"},                                     // magd's private CA is not trusted yet
		{h.env.URL, filepath.Join(h.home, "missing.pem"), "can't be read"}, // a CA file that isn't there
	}
	for _, cs := range cases {
		h.typeIn(c.server, cs.server)
		h.typeIn(c.ca, cs.ca)
		h.tap(c.connect)
		if h.u.Screen() != "Connect" || !strings.Contains(c.err.Text, cs.want) {
			t.Errorf("server %q ca %q: screen %q error %q, want %q", cs.server, cs.ca, h.u.Screen(), c.err.Text, cs.want)
		}
	}
	// With the gateway's CA it connects and goes on to Login; the settings are saved.
	h.typeIn(c.ca, filepath.Join(h.home, "gateway-ca.pem"))
	h.typeIn(c.server, h.env.URL)
	h.tap(c.connect)
	if h.u.Screen() != "Login" {
		t.Fatalf("after connecting: %q, %q", h.u.Screen(), c.err.Text)
	}
	eff, _ := config.Load(h.home)
	if eff.ServerURL == "" || eff.CABundle == "" {
		t.Fatalf("settings not saved: %+v", eff.Settings)
	}
}

func TestSettingsAboutAndEsc(t *testing.T) {
	h := newHarness(t)
	h.u.Start(nil)
	h.u.Wait()
	h.u.ShowSettings()
	s := h.u.settings
	if s.server.Disabled() {
		t.Fatal("server locked without a policy")
	}
	s.theme.SetSelected("Dark")
	s.remember.SetChecked(false)
	s.d.Confirm()
	h.u.Wait()
	eff, _ := config.Load(h.home)
	if eff.Theme != "dark" || eff.RememberUserID {
		t.Fatalf("settings not saved: %+v", eff.Settings)
	}
	if _, ok := h.u.App.Settings().Theme().(variantTheme); !ok {
		t.Fatal("dark theme not applied")
	}

	// Esc closes a dialog even while an entry in it has the focus.
	h.u.ShowSettings()
	h.typeIn(h.u.settings.server, "https://typed.example")
	h.u.settings.server.TypedKey(&fyneKeyEscape)
	if h.u.TopDialog() != nil {
		t.Fatal("Esc in a focused entry did not close Settings")
	}
	if eff, _ := config.Load(h.home); eff.ServerURL == "https://typed.example" {
		t.Fatal("Esc saved the settings")
	}

	h.u.ShowAbout()
	if h.u.TopDialog() == nil {
		t.Fatal("About not shown")
	}
	h.u.typedKey(&fyneKeyEscape)
	if h.u.TopDialog() != nil {
		t.Fatal("Esc did not close About")
	}
	v := h.svc.Versions()
	if v.App != "test" || v.Go == "" || v.API == "" {
		t.Fatalf("versions: %+v", v)
	}
}

func TestSettingsLockedByPolicyShowLocked(t *testing.T) {
	h := newHarness(t)
	// A policy value locks the field (the policy reader itself is config's; here its result).
	eff, _ := config.Load(h.home)
	eff.Sources[config.KeyServerURL] = config.SourcePolicy
	h.rebuild(h.u.App, func(o *service.Options) { o.Settings = eff })
	h.u.ShowSettings()
	if !h.u.settings.server.Disabled() {
		t.Fatal("a policy-locked server is editable")
	}
	h.u.ShowConnect()
	h.mustContain(labels(h.u.Win.Content()), "(set by your organisation)")
}

func TestHelpCoversEveryQuestionAndLinksToItsScreen(t *testing.T) {
	h := newHarness(t)
	h.u.Start(nil)
	h.u.Wait()
	want := map[string]string{
		help.ScreenSetup: "Setup: link", help.ScreenLogin: "Login", help.ScreenRecover: "Recover: activation",
		help.ScreenForgotPwd: "Recover: password",
	}
	for _, tp := range help.Topics() {
		h.u.ShowHelp(tp.ID)
		h.mustContain(labels(h.u.Win.Content()), tp.Action)
		h.u.goTo(tp.Screen)
		h.u.Wait()
		if w, ok := want[tp.Screen]; ok && h.u.Screen() != w {
			t.Errorf("help %q goes to %q, want %q", tp.ID, h.u.Screen(), w)
		}
		if tp.Screen == help.ScreenSessions {
			if _, ok := h.u.TopDialog().(*dialog.ConfirmDialog); !ok {
				t.Errorf("help %q did not offer to clear sessions", tp.ID)
			}
		}
	}
}

// newestMailBody is the body of the newest email whose template is tmpl.
func (h *harness) newestMailBody(tmpl string) string {
	h.t.Helper()
	mails := h.env.Mails(h.t)
	for i := len(mails) - 1; i >= 0; i-- {
		if mails[i].Template == tmpl {
			return mails[i].Body
		}
	}
	h.t.Fatalf("no %s email", tmpl)
	return ""
}

func TestRecoveryWizards(t *testing.T) {
	h := newHarness(t)
	id := h.user(false)
	h.u.Start(nil)
	h.u.Wait()

	// "Link doesn't work?" ends on the setup wizard, ready for the new link.
	h.u.ShowRecoverActivation()
	h.tap(h.u.recover.send)
	h.mustContain(h.u.recover.err.Text, "Enter your user ID and your email")
	h.typeIn(h.u.recover.userID, id)
	h.typeIn(h.u.recover.email, "pat@example.com")
	h.tap(h.u.recover.send)
	if h.u.Screen() != "Setup: link" {
		t.Fatalf("activation recovery: screen %q error %q", h.u.Screen(), h.u.recover.err.Text)
	}
	h.mustContain(h.u.lastInfo, "Only the newest link works")

	// "Forgot user ID?" ends on Login with the id from the email filled in.
	h.u.ShowRecoverUserID()
	h.typeIn(h.u.recover.email, "pat@example.com")
	h.tap(h.u.recover.send)
	if h.u.recover.err.Text != "" {
		t.Fatal(h.u.recover.err.Text)
	}
	h.typeIn(h.u.recover.userID, id)
	h.u.recover.userID.OnSubmitted(id)
	if h.u.Screen() != "Login" || h.u.login.userID.Text != id {
		t.Fatalf("forgot user id did not end on Login with %q", id)
	}

	// "Forgot password?": emailed code + two answers + new password, then Login.
	h.u.ShowRecoverPassword(id)
	h.tap(h.u.recover.send)
	r := h.u.recover
	if r.finish == nil || len(r.answers) != 2 {
		t.Fatalf("no second step: %q", r.err.Text)
	}
	body := h.newestMailBody("recovery_code")
	i := strings.Index(body, "one-time code: ")
	if i < 0 {
		t.Fatalf("no code in %q", body)
	}
	code := strings.Fields(body[i+len("one-time code: "):])[0]
	answers := map[string]string{}
	for _, a := range servertest.Answers {
		answers[a.QuestionID] = a.Answer
	}
	h.typeIn(r.code, code)
	for i, q := range r.recovery.Questions {
		h.typeIn(r.answers[i], answers[q.ID])
	}
	const newPW = "violet harbour tram quartz 7"
	h.typeIn(r.password, newPW)
	h.typeIn(r.conf, newPW)
	h.tap(r.finish)
	if h.u.Screen() != "Login" || h.u.login.userID.Text != id {
		t.Fatalf("password recovery: screen %q error %q", h.u.Screen(), r.err.Text)
	}
	h.login(id, newPW)
	if h.u.LoggedIn() == nil {
		t.Fatalf("new password refused: %q", h.u.login.err.Text)
	}
}

// oldServer is the real backend in front of a gateway that speaks another API version.
type oldServer struct{ service.Backend }

func (o oldServer) CheckServer(ctx context.Context) (api.Meta, error) {
	m, err := o.Backend.CheckServer(ctx)
	m.APIVersion = "0"
	return m, err
}

func TestConnectTooOldServer(t *testing.T) {
	h := newHarness(t)
	h.u = New(h.u.App, h.u.Win, oldServer{h.svc})
	h.u.inbox = make(chan func())
	h.u.ShowConnect()
	h.tap(h.u.connect.connect)
	if h.u.Screen() != "Connect" || !strings.Contains(h.u.connect.err.Text, "API version 0") {
		t.Fatalf("old server: screen %q error %q", h.u.Screen(), h.u.connect.err.Text)
	}
}

func TestCertificateExpiryWarning(t *testing.T) {
	h := newHarness(t, servertest.WithDemo())
	d := h.env.Server.Demo()
	h.login(d.UserUserID, d.UserPassword)
	h.u.showTab(TabCerts)
	h.u.Wait()
	h.tap(h.u.certs.request)
	h.u.Wait()
	if len(h.u.certs.ids) != 1 {
		t.Fatalf("identities: %+v", h.u.certs.ids)
	}
	// Seen 10 days before it expires, the list warns.
	h.u.now = func() time.Time { return h.u.certs.ids[0].NotAfter.Add(-10 * 24 * time.Hour) }
	h.u.certs.render()
	h.mustContain(labels(h.u.certs.content), "Expires in 10 days — renew now")
	if h.u.certs.renewOf[h.u.certs.ids[0].SHA256] == nil {
		t.Fatal("no Renew button for a certificate in its renewal window")
	}
	h.u.now = time.Now
	h.u.certs.render()
	if strings.Contains(labels(h.u.certs.content), "Expires in") || len(h.u.certs.renewOf) != 0 {
		t.Fatal("a fresh certificate is flagged as expiring")
	}
}
