package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

func appStatus(t *testing.T, env *servertest.Env, c *http.Client, token, appID string) api.Application {
	t.Helper()
	var apps []api.Application
	if st, p := env.Do(t, c, "GET", api.PathMyApplications, token, nil, &apps); st != 200 {
		t.Fatalf("apps: %v", p)
	}
	for _, a := range apps {
		if a.AppID == appID {
			return a
		}
	}
	t.Fatalf("app %s not listed: %+v", appID, apps)
	return api.Application{}
}

func path(p string, kv ...string) string {
	for i := 0; i < len(kv); i += 2 {
		p = strings.Replace(p, "{"+kv[i]+"}", kv[i+1], 1)
	}
	return p
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestApplicationScenario follows the seed page: T&C pending -> the org admin views and agrees ->
// the user requests access -> approved -> Open Application (single-use launch URL).
func TestApplicationScenario(t *testing.T) {
	env := servertest.Cluster(t, servertest.WithSecurityQuestions(false))
	c := env.Client(t, nil)
	org := env.CreateOrg(t, "Acme Parts")
	admin := env.CreateActiveUser(t, org, "boss@acme.example", "Bea", "Boss", goodPW, true)
	user := env.CreateActiveUser(t, org, "ula@acme.example", "Ula", "User", goodPW, false)
	env.AddApp(t, "parts", "Parts Portal", "/demoapps/parts", "Be nice.", 1)
	env.Subscribe(t, org, "parts")
	adminTok := mustLogin(t, env, c, admin)
	userTok := mustLogin(t, env, c, user)

	if a := appStatus(t, env, c, userTok, "parts"); a.Status != api.StatusPendingTerms || len(a.Actions) != 0 ||
		!strings.Contains(a.StatusText, "administrator") {
		t.Fatalf("user sees %+v", a)
	}
	if a := appStatus(t, env, c, adminTok, "parts"); a.Status != api.StatusPendingTerms || len(a.Actions) != 2 {
		t.Fatalf("admin sees %+v", a)
	}
	_, p := env.Do(t, c, "POST", path(api.PathAccessRequests, "app", "parts"), userTok, nil, nil)
	wantCode(t, "request while terms pending", p, api.CodeTermsNotAccepted)

	var terms api.Terms
	termsPath := path(api.PathTerms, "org", org, "app", "parts")
	if st, p := env.Do(t, c, "GET", termsPath, adminTok, nil, &terms); st != 200 {
		t.Fatalf("terms: %v", p)
	}
	if terms.Body != "Be nice." || terms.Accepted || terms.TermsVersionID == "" || len(terms.SHA256) != 64 {
		t.Fatalf("terms: %+v", terms)
	}
	accPath := path(api.PathTermsAcceptances, "org", org, "app", "parts")
	_, p = env.Do(t, c, "POST", accPath, userTok, api.AcceptTermsRequest{TermsVersionID: terms.TermsVersionID}, nil)
	wantCode(t, "user accepts", p, api.CodeForbidden)
	_, p = env.Do(t, c, "GET", path(api.PathTerms, "org", "org_other", "app", "parts"), adminTok, nil, nil)
	wantCode(t, "other org's terms", p, api.CodeForbidden)

	// A new version published while the admin was reading: the old id is stale.
	env.AddApp(t, "parts", "Parts Portal", "/demoapps/parts", "Be nice. Version 2.", 1)
	_, p = env.Do(t, c, "POST", accPath, adminTok, api.AcceptTermsRequest{TermsVersionID: terms.TermsVersionID}, nil)
	wantCode(t, "stale version", p, api.CodeTermsVersionStale)
	env.Do(t, c, "GET", termsPath, adminTok, nil, &terms)
	var acc1, acc2 api.Acceptance
	if st, p := env.Do(t, c, "POST", accPath, adminTok, api.AcceptTermsRequest{TermsVersionID: terms.TermsVersionID}, &acc1); st != 201 {
		t.Fatalf("accept: %d %v", st, p)
	}
	if st, p := env.Do(t, c, "POST", accPath, adminTok, api.AcceptTermsRequest{TermsVersionID: terms.TermsVersionID}, &acc2); st != 200 || acc2.AcceptanceID != acc1.AcceptanceID {
		t.Fatalf("accepting twice: %d %v %+v %+v", st, p, acc1, acc2)
	}
	if acc1.AcceptedBy != admin {
		t.Fatalf("acceptance by %q", acc1.AcceptedBy)
	}
	if evs, _ := env.Server.AuditEvents(t.Context(), "terms.accepted"); len(evs) != 1 || evs[0].Actor != admin {
		t.Fatalf("audit: %+v", evs)
	}

	if a := appStatus(t, env, c, userTok, "parts"); a.Status != api.StatusAvailable || a.Actions[0] != api.ActionRequestAccess {
		t.Fatalf("after acceptance: %+v", a)
	}
	var req api.AccessRequest
	if st, p := env.Do(t, c, "POST", path(api.PathAccessRequests, "app", "parts"), userTok, nil, &req); st != 201 {
		t.Fatalf("request: %v", p)
	}
	_, p = env.Do(t, c, "POST", path(api.PathAccessRequests, "app", "parts"), userTok, nil, nil)
	wantCode(t, "second request", p, api.CodeAccessRequestExists)
	if a := appStatus(t, env, c, userTok, "parts"); a.Status != api.StatusAccessRequested {
		t.Fatalf("after request: %+v", a)
	}
	_, p = env.Do(t, c, "POST", path(api.PathLaunch, "app", "parts"), userTok, nil, nil)
	wantCode(t, "launch before approval", p, api.CodeLaunchNotAllowed)

	var toAdmin []string
	for _, m := range env.Mails(t) {
		if m.To == "boss@acme.example" && m.Template != "activation" && m.Template != "login_success" {
			toAdmin = append(toAdmin, m.Template)
		}
	}
	if strings.Join(toAdmin, ",") != "terms_accepted,access_requested" {
		t.Fatalf("emails to the org admin: %v", toAdmin)
	}
	var queue []api.AccessRequest
	env.Do(t, c, "GET", path(api.PathOrgAccessRequests, "org", org), adminTok, nil, &queue)
	if len(queue) != 1 || queue[0].ID != req.ID || queue[0].UserID != user || queue[0].AppName != "Parts Portal" {
		t.Fatalf("queue: %+v", queue)
	}
	_, p = env.Do(t, c, "GET", path(api.PathOrgAccessRequests, "org", org), userTok, nil, nil)
	wantCode(t, "user lists queue", p, api.CodeForbidden)
	decPath := path(api.PathDecision, "org", org, "id", req.ID)
	_, p = env.Do(t, c, "POST", decPath, adminTok, api.DecisionRequest{Decision: "maybe"}, nil)
	wantCode(t, "bad decision", p, api.CodeValidationFailed)
	var decided api.AccessRequest
	if st, p := env.Do(t, c, "POST", decPath, adminTok, api.DecisionRequest{Decision: api.DecisionApprove}, &decided); st != 200 || decided.Status != "approved" {
		t.Fatalf("approve: %v %+v", p, decided)
	}
	mails := env.Mails(t)
	if last := mails[len(mails)-1]; last.To != "ula@acme.example" || !strings.Contains(last.Subject, "approved") {
		t.Fatalf("decision email: %+v", last)
	}
	_, p = env.Do(t, c, "POST", path(api.PathAccessRequests, "app", "parts"), userTok, nil, nil)
	wantCode(t, "request after grant", p, api.CodeAlreadyHasAccess)

	// Open Application: the launch URL signs the browser in at magd (a secure, HttpOnly,
	// SameSite=Lax cookie) and hands over to the application, once.
	if a := appStatus(t, env, c, userTok, "parts"); a.Status != api.StatusAccessGranted || a.Actions[0] != api.ActionOpen {
		t.Fatalf("after approval: %+v", a)
	}
	var launch api.LaunchResponse
	if st, p := env.Do(t, c, "POST", path(api.PathLaunch, "app", "parts"), userTok, nil, &launch); st != 200 {
		t.Fatalf("launch: %v", p)
	}
	if !strings.HasPrefix(launch.LaunchURL, env.URL+"/launch/") {
		t.Fatalf("launch URL %q", launch.LaunchURL)
	}
	resp, _ := get(t, c, launch.LaunchURL)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || loc != env.URL+"/demoapps/parts" {
		t.Fatalf("launch: %d %q", resp.StatusCode, loc)
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 || cookies[0].Name != "__Host-magd_browser" || !cookies[0].Secure || !cookies[0].HttpOnly ||
		cookies[0].SameSite != http.SameSiteLaxMode || cookies[0].Path != "/" {
		t.Fatalf("browser session cookie: %+v", cookies)
	}
	resp, page := get(t, c, launch.LaunchURL)
	if resp.StatusCode != http.StatusGone || !strings.Contains(page, "already been used") {
		t.Fatalf("second use of the launch URL: %d %s", resp.StatusCode, page)
	}
}

func TestDenyAndRequestAgain(t *testing.T) {
	env := servertest.Start(t, servertest.WithSecurityQuestions(false))
	c := env.Client(t, nil)
	org := env.CreateOrg(t, "Acme")
	admin := env.CreateActiveUser(t, org, "boss@acme.example", "Bea", "Boss", goodPW, true)
	user := env.CreateActiveUser(t, org, "ula@acme.example", "Ula", "User", goodPW, false)
	env.AddApp(t, "hr", "HR", "https://hr.example/", "terms", 2)
	env.Subscribe(t, org, "hr")
	adminTok, userTok := mustLogin(t, env, c, admin), mustLogin(t, env, c, user)
	var terms api.Terms
	env.Do(t, c, "GET", path(api.PathTerms, "org", org, "app", "hr"), adminTok, nil, &terms)
	env.Do(t, c, "POST", path(api.PathTermsAcceptances, "org", org, "app", "hr"), adminTok, api.AcceptTermsRequest{TermsVersionID: terms.TermsVersionID}, nil)
	var req api.AccessRequest
	env.Do(t, c, "POST", path(api.PathAccessRequests, "app", "hr"), userTok, nil, &req)
	if st, p := env.Do(t, c, "POST", path(api.PathDecision, "org", org, "id", req.ID), adminTok,
		api.DecisionRequest{Decision: api.DecisionDeny, Reason: "Not in HR"}, nil); st != 200 {
		t.Fatal(p)
	}
	if a := appStatus(t, env, c, userTok, "hr"); a.Status != api.StatusAccessDenied || a.DenyReason != "Not in HR" {
		t.Fatalf("denied: %+v", a)
	}
	if st, p := env.Do(t, c, "POST", path(api.PathAccessRequests, "app", "hr"), userTok, nil, &req); st != 201 {
		t.Fatalf("ask again: %v", p)
	}
	env.Do(t, c, "POST", path(api.PathDecision, "org", org, "id", req.ID), adminTok, api.DecisionRequest{Decision: api.DecisionApprove}, nil)
	// The app needs AAL2; a password-only session is told to step up.
	_, p := env.Do(t, c, "POST", path(api.PathLaunch, "app", "hr"), userTok, nil, nil)
	wantCode(t, "launch at AAL1", p, api.CodeStepUpRequired)
	_, p = env.Do(t, c, "POST", path(api.PathLaunch, "app", "nope"), userTok, nil, nil)
	wantCode(t, "unknown app", p, api.CodeNotFound)
}

func mustLogin(t *testing.T, env *servertest.Env, c *http.Client, uid string) string {
	t.Helper()
	lr, p := env.Login(t, c, uid, goodPW)
	if p != nil {
		t.Fatalf("login %s: %v", uid, p)
	}
	return lr.SessionToken
}
