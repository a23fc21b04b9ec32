package server_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// direct is the Env seen through one instance, bypassing the load balancer.
func direct(env *servertest.Env, i int) *servertest.Env {
	d := *env
	d.URL = "https://" + env.Instances[i].Addr()
	return &d
}

// atOnce runs fn on both instances at the same moment and returns how many succeeded.
func atOnce(fn func(i int) bool) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	start, wins := make(chan struct{}), 0
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if fn(i) {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	return wins
}

// TestClusterRaces: two magd instances behind HAProxy on one PostgreSQL database. A launch link,
// an activation token and a TOTP code, each presented to both instances at the same moment, work
// exactly once; and requests through HAProxy reach both instances.
func TestClusterRaces(t *testing.T) {
	clk := newClock()
	env := servertest.StartCluster(t, servertest.WithDemo(), servertest.WithNow(clk.Now), servertest.WithSecurityQuestions(false))
	demo := env.Server.Demo()
	c := env.Client(t, nil)
	const rounds = 5
	for r := range rounds {
		tok := mustLoginPW(t, env, c, demo.UserUserID, demo.UserPassword)
		var lr api.LaunchResponse
		if st, p := env.Do(t, c, "POST", path(api.PathLaunch, "app", "engdocs"), tok, nil, &lr); st != 200 {
			t.Fatalf("launch: %v", p)
		}
		ticket := lr.LaunchURL[strings.LastIndex(lr.LaunchURL, "/launch/"):]
		if n := atOnce(func(i int) bool {
			resp, _ := get(t, direct(env, i).Client(t, nil), direct(env, i).URL+ticket)
			return resp.StatusCode < 400
		}); n != 1 {
			t.Fatalf("round %d: the launch link worked %d times on two instances, want once", r, n)
		}
	}

	org := demo.OrgID
	for r := range rounds {
		id := env.CreateUser(t, org, "race@acme.example", "Race", "Runner", false)
		token := env.ActivationToken(t, id)
		if n := atOnce(func(i int) bool {
			d := direct(env, i)
			st, _ := d.Do(t, d.Client(t, nil), "POST", api.PathActivationComplete, "",
				api.ActivationCompleteRequest{Token: token, Password: goodPW, PasswordConfirm: goodPW}, nil)
			return st == 200
		}); n != 1 {
			t.Fatalf("round %d: the activation token worked %d times on two instances, want once", r, n)
		}
	}

	uid := env.CreateActiveUser(t, org, "otp@acme.example", "Otto", "Pass", goodPW, false)
	tok := mustLogin(t, env, c, uid)
	var en api.TOTPEnrollment
	if st, p := env.Do(t, c, "POST", api.PathTOTP, tok, nil, &en); st != 201 {
		t.Fatalf("enrol: %v", p)
	}
	if st, p := env.Do(t, c, "POST", path(api.PathTOTPVerify, "enrollment", en.EnrollmentID), tok,
		api.CodeRequest{Code: oathtool(t, en.SecretBase32, clk.Now())}, nil); st != 201 {
		t.Fatalf("verify: %v", p)
	}
	for r := range rounds {
		clk.Advance(30 * time.Second)
		code := oathtool(t, en.SecretBase32, clk.Now())
		if n := atOnce(func(i int) bool {
			d := direct(env, i)
			st, _ := d.Do(t, d.Client(t, nil), "POST", api.PathLogin, "", api.LoginRequest{UserID: uid, Password: goodPW, OTP: code}, nil)
			return st == 200
		}); n != 1 {
			t.Fatalf("round %d: one TOTP code logged in %d times on two instances, want once", r, n)
		}
	}

	// Requests through HAProxy reach both instances (a connection each, round robin).
	for range 4 {
		if st, p := env.Do(t, c, "GET", api.PathMyApplications, tok, nil, nil); st != 200 {
			t.Fatalf("Home through HAProxy: %v", p)
		}
	}
	served := regexp.MustCompile(`magd_http_requests_total\{code="200",route="GET /v1/me/applications"\} (\d+)`)
	for i := range env.Instances {
		resp, err := http.Get(env.Instances[i].OpsURL() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b := new(strings.Builder)
		_, _ = io.Copy(b, resp.Body)
		resp.Body.Close()
		if served.FindStringSubmatch(b.String()) == nil {
			t.Errorf("instance %d answered no Home request through HAProxy", i+1)
		}
	}
}
