package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

func TestPublicPagesAndRouting(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, nil)
	var qs []api.SecurityQuestion
	if st, p := env.Do(t, c, "GET", api.PathSecurityQuestions, "", nil, &qs); st != 200 {
		t.Fatal(p)
	}
	seen := map[string]bool{}
	for _, q := range qs {
		if seen[q.ID] || q.Text == "" {
			t.Fatalf("catalogue: %+v", qs)
		}
		seen[q.ID] = true
	}
	if len(qs) < 8 {
		t.Fatalf("%d questions", len(qs))
	}

	resp, page := get(t, c, env.URL+"/activate")
	if resp.StatusCode != 200 || !strings.Contains(page, "MAG Desktop") || resp.Header.Get("Cache-Control") != "no-store" ||
		resp.Header.Get(api.HeaderRequestID) == "" {
		t.Fatalf("/activate: %d %v", resp.StatusCode, resp.Header)
	}
	_, p := env.Do(t, c, "PUT", api.PathMe, "", nil, nil)
	wantCode(t, "PUT /v1/me", p, api.CodeMethodNotAllowed)
	_, p = env.Do(t, c, "GET", "/v1/nothing/here", "", nil, nil)
	wantCode(t, "unknown path", p, api.CodeNotFound)
	_, p = env.Do(t, c, "GET", api.PathMe, "mst_short", nil, nil)
	wantCode(t, "malformed token", p, api.CodeUnauthenticated)
	if p.RequestID == "" {
		t.Fatal("problem without request id")
	}
	req, _ := http.NewRequest("POST", env.URL+api.PathLogin, strings.NewReader(`{"user_id":"a","password":"b"}`))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType || resp.Header.Get("Content-Type") != api.ProblemContentType {
		t.Fatalf("text/plain login: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// TestAdminValidation: the administration operations refuse bad input with a clear message.
func TestAdminValidation(t *testing.T) {
	env := servertest.Start(t)
	ctx := t.Context()
	org := env.CreateOrg(t, "Valid Org")
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"org without name", func() error { _, err := env.Server.CreateOrg(ctx, "  "); return err }(), "name"},
		{"user with a bad email", func() error {
			_, err := env.Server.CreateUser(ctx, server.NewUser{OrgID: org, Email: "not an email", FirstName: "A", LastName: "B"})
			return err
		}(), "email"},
		{"user without names", func() error {
			_, err := env.Server.CreateUser(ctx, server.NewUser{OrgID: org, Email: "a@b.example"})
			return err
		}(), "name"},
		{"user in a missing org", func() error {
			_, err := env.Server.CreateUser(ctx, server.NewUser{OrgID: "org_nope", Email: "a@b.example", FirstName: "A", LastName: "B"})
			return err
		}(), "org_nope"},
		{"app with a bad id", env.Server.AddApp(ctx, server.NewApp{ID: "Bad Id!", Name: "X", URL: "https://x.example"}), "id"},
		{"app with a bad URL", env.Server.AddApp(ctx, server.NewApp{ID: "x", Name: "X", URL: "ftp://x"}), "URL"},
		{"app with AAL 3", env.Server.AddApp(ctx, server.NewApp{ID: "x", Name: "X", URL: "/demoapps/x", RequiredAAL: 3}), "AAL"},
		{"subscribe to a missing app", env.Server.Subscribe(ctx, org, "missing"), "missing"},
		{"resend to an unknown user", env.Server.ResendActivation(ctx, "ghost_0000"), "ghost_0000"},
		{"revoke an unknown certificate", env.Server.RevokeCertificate(ctx, "crt_nope"), "crt_nope"},
	}
	for _, tc := range cases {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error mentioning %q", tc.name, tc.err, tc.want)
		}
	}
	uid := env.CreateActiveUser(t, org, "a@b.example", "Al", "Bee", goodPW, false)
	if err := env.Server.ResendActivation(ctx, uid); err == nil || !strings.Contains(err.Error(), "already activated") {
		t.Fatalf("resend to an active user: %v", err)
	}
	// Adding an app again with the same terms publishes nothing new; new terms make a version 2.
	env.AddApp(t, "docs", "Docs", "/demoapps/docs", "v1 terms", 1)
	env.AddApp(t, "docs", "Docs", "/demoapps/docs", "v1 terms", 1)
	env.Subscribe(t, org, "docs")
	env.Subscribe(t, org, "docs") // idempotent
	tok := mustLogin(t, env, env.Client(t, nil), uid)
	var terms api.Terms
	env.Do(t, env.Client(t, nil), "GET", path(api.PathTerms, "org", org, "app", "docs"), tok, nil, &terms)
	if terms.Version != "1" {
		t.Fatalf("version %q after adding the same terms twice", terms.Version)
	}
	env.AddApp(t, "docs", "Docs", "/demoapps/docs", "v2 terms", 1)
	env.Do(t, env.Client(t, nil), "GET", path(api.PathTerms, "org", org, "app", "docs"), tok, nil, &terms)
	if terms.Version != "2" || terms.Body != "v2 terms" {
		t.Fatalf("after new terms: %+v", terms)
	}
}

// TestPurge: housekeeping deletes what expired more than a day ago and nothing that still counts.
func TestPurge(t *testing.T) {
	clk := newClock()
	env := servertest.Start(t, servertest.WithNow(clk.Now), servertest.WithSecurityQuestions(false))
	c := env.Client(t, nil)
	org := env.CreateOrg(t, "Org")
	uid := env.CreateActiveUser(t, org, "p@p.example", "Pia", "Purge", goodPW, false)
	old := mustLogin(t, env, c, uid)
	env.Do(t, c, "DELETE", api.PathSessionCurrent, old, nil, nil)
	env.Login(t, c, "ghost_1111", "wrong password here")
	if n, err := env.Server.Purge(t.Context()); err != nil || n != 0 {
		t.Fatalf("fresh rows purged: %d %v", n, err)
	}
	clk.Advance(49 * time.Hour)
	live := mustLogin(t, env, c, uid)
	n, err := env.Server.Purge(t.Context())
	if err != nil || n < 2 {
		t.Fatalf("purge after two days: %d rows, %v", n, err)
	}
	if st, p := env.Do(t, c, "GET", api.PathMe, live, nil, nil); st != 200 {
		t.Fatalf("a live session was purged: %v", p)
	}
	_, p := env.Do(t, c, "GET", api.PathMe, old, nil, nil)
	wantCode(t, "purged session", p, api.CodeUnauthenticated)
	if evs, _ := env.Server.AuditEvents(t.Context(), "logout"); len(evs) != 1 {
		t.Fatal("the audit log was purged")
	}
}

// TestSecretKeyGuard: a data folder whose database holds encrypted TOTP secrets refuses to
// start without its secret.key instead of silently making a new one; two processes opening a
// fresh folder at once end up with one key.
func TestSecretKeyGuard(t *testing.T) {
	dir := t.TempDir()
	cfg := server.Config{DataDir: dir, AdminOnly: true}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := server.Open(cfg)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent first open: %v", err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) == 0 {
		t.Fatal("nothing created")
	}

	env := servertest.Start(t, servertest.WithSecurityQuestions(false))
	org := env.CreateOrg(t, "Org")
	uid := env.CreateActiveUser(t, org, "k@k.example", "Kay", "Key", goodPW, false)
	c := env.Client(t, nil)
	tok := mustLogin(t, env, c, uid)
	if st, p := env.Do(t, c, "POST", api.PathTOTP, tok, nil, nil); st != 201 {
		t.Fatal(p)
	}
	if err := env.Server.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(env.DataDir, "secret.key")); err != nil {
		t.Fatal(err)
	}
	s, err := server.Open(server.Config{DataDir: env.DataDir, Database: env.Database, AdminOnly: true})
	if err == nil {
		s.Close()
		t.Fatal("opened without the key that encrypts its TOTP secrets")
	}
	if !strings.Contains(err.Error(), "restore") {
		t.Fatalf("error does not say what to do: %v", err)
	}
}
