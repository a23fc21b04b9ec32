package hardening

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/server"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// Passwords of the test accounts (policy: long enough, not blocklisted).
const (
	pwAdmin = "copper lantern harbour nine"
	pwUser  = "velvet thunder orchard seven"
	pwOther = "granite pelican sofa twelve"
	terms   = "Be nice to the application. Do not share your account."
)

// newClock is the server's clock, frozen unless a test moves it: lockout waits and TOTP steps
// are then exact, however slowly a loaded machine runs the test.
func newClock() *servertest.Clock {
	return servertest.NewFrozenClock(time.Now().UTC().Truncate(time.Second))
}

// world is a magd with two organisations, their accounts, applications in several states and
// live sessions: the material every attack starts from.
type world struct {
	env *servertest.Env
	clk *servertest.Clock

	org, otherOrg               string
	admin, user, other          string // active user ids (admin is org admin of org; other is in otherOrg)
	pending, pendingToken       string // a not yet activated account and its live token
	usedToken                   string // an activation token that was already consumed
	adminTok, userTok, otherTok string // live session tokens
	revokedTok                  string // a session of user that logged out
	spareTok                    string // another live session of user, for the logout endpoint
	requestID                   string // a pending access request of user (to "avail")
	enrollment                  string // a pending TOTP enrolment of user
	termsVersion                string // the current terms version of "avail" (accepted)
}

// Applications of org: "granted" (user may launch), "avail" (terms accepted, no request yet
// by admin), "pending" (terms not accepted).
const (
	appGranted = "granted"
	appAvail   = "avail"
	appTerms   = "pending"
)

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newWorld(t testing.TB, opts ...servertest.Option) *world {
	t.Helper()
	clk := newClock()
	// Recovery answers are padded to a fixed time (300 ms by default) against timing attacks;
	// the attacks here are about content, so the pad is made negligible.
	fast := servertest.WithConfig(func(c *server.Config) { c.RecoveryMinDuration = time.Millisecond })
	env := servertest.Start(t, append([]servertest.Option{servertest.WithNow(clk.Now), fast}, opts...)...)
	w := &world{env: env, clk: clk}
	ctx := ctxT(t)
	w.org = env.CreateOrg(t, "Acme Aerospace")
	w.otherOrg = env.CreateOrg(t, "Globex")
	w.admin = env.CreateActiveUser(t, w.org, "ada@acme.example", "Ada", "Admin", pwAdmin, true)
	w.user = env.CreateActiveUser(t, w.org, "bob@acme.example", "Bob", "User", pwUser, false)
	w.other = env.CreateActiveUser(t, w.otherOrg, "olga@globex.example", "Olga", "Other", pwOther, true)
	w.pending = env.CreateUser(t, w.org, "carol@acme.example", "Carol", "New", false)
	w.pendingToken = env.ActivationToken(t, w.pending)
	used := env.CreateUser(t, w.org, "dan@acme.example", "Dan", "Done", false)
	w.usedToken = env.ActivationToken(t, used)
	c := w.client(t)
	if _, err := c.CompleteActivation(ctx, api.ActivationCompleteRequest{Token: w.usedToken, Password: pwOther,
		PasswordConfirm: pwOther, SecurityAnswers: servertest.Answers}); err != nil {
		t.Fatalf("activate %s: %v", used, err)
	}
	for _, id := range []string{appGranted, appAvail, appTerms} {
		env.AddApp(t, id, "App "+id, "/demoapps/"+id, terms, 0)
		env.Subscribe(t, w.org, id)
	}
	admin, adminTok := w.login(t, w.admin, pwAdmin)
	user, userTok := w.login(t, w.user, pwUser)
	for _, id := range []string{appGranted, appAvail} {
		tv, err := admin.Terms(ctx, w.org, id)
		if err != nil {
			t.Fatalf("terms %s: %v", id, err)
		}
		if _, err := admin.AcceptTerms(ctx, w.org, id, tv.TermsVersionID); err != nil {
			t.Fatalf("accept %s: %v", id, err)
		}
		w.termsVersion = tv.TermsVersionID
	}
	ar, err := user.RequestAccess(ctx, appGranted)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if _, err := admin.Decide(ctx, w.org, ar.ID, api.DecisionApprove, ""); err != nil {
		t.Fatalf("approve: %v", err)
	}
	ar, err = user.RequestAccess(ctx, appAvail)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	w.requestID = ar.ID
	en, err := user.StartTOTP(ctx)
	if err != nil {
		t.Fatalf("start TOTP: %v", err)
	}
	w.enrollment = en.EnrollmentID
	w.adminTok, w.userTok = adminTok, userTok
	_, w.otherTok = w.login(t, w.other, pwOther)
	_, w.spareTok = w.login(t, w.user, pwUser)
	gone, revoked := w.login(t, w.user, pwUser)
	w.revokedTok = revoked
	if err := gone.Logout(ctx); err != nil {
		t.Fatalf("logout: %v", err)
	}
	return w
}

func (w *world) client(t testing.TB) *client.Client {
	t.Helper()
	c, err := client.New(client.Options{ServerURL: w.env.URL, CAPEM: w.env.CAPEM, Timeout: 20 * time.Second,
		Retries: -1, ClientInfo: api.ClientInfo{Name: "hardening", Version: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// login returns a client acting as userID and its session token.
func (w *world) login(t testing.TB, userID, pw string) (*client.Client, string) {
	t.Helper()
	c := w.client(t)
	resp, err := c.Login(ctxT(t), userID, pw, "")
	if err != nil {
		t.Fatalf("login %s: %v", userID, err)
	}
	return c, resp.SessionToken
}

// launchURL asks magd for a launch URL of the granted application, as the user.
func (w *world) launchURL(t testing.TB) *url.URL {
	t.Helper()
	a, err := w.send(w.rawClient(t), rawReq{method: "POST", path: fill(api.PathLaunch, map[string]string{"app": appGranted}),
		ctype: "application/json", body: []byte("{}"), authz: "Bearer " + w.userTok})
	if err != nil || a.status != http.StatusOK {
		t.Fatalf("launch: %d %v %s", a.status, err, a.body)
	}
	var l api.LaunchResponse
	if err := json.Unmarshal(a.body, &l); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(l.LaunchURL)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
