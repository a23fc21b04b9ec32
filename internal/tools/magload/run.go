package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/mag-desktop/magdesk/api"
)

// The calls of one flow, in order.
var callTypes = []string{"login", "me", "apps", "launch", "logout"}

// loadConfig bounds a run in count (Iterations flows per client) and in time (Duration; flows
// in progress then finish, each request within Grace).
type loadConfig struct {
	Clients, Iterations int
	Duration, Grace     time.Duration
}

// sample is one timed call.
type sample struct {
	call string
	dur  time.Duration
	code string // "" = success
}

// runLoad starts one client per fixture user (cfg.Clients of them), each running
// login -> me -> apps -> launch -> logout cfg.Iterations times, and collects every call.
func runLoad(ctx context.Context, base string, roots *x509.CertPool, f *fixture, cfg loadConfig) *report {
	stopAt := time.Now().Add(cfg.Duration)
	reqCtx, cancel := context.WithDeadline(ctx, stopAt.Add(cfg.Grace))
	defer cancel()
	perClient := make([][]sample, cfg.Clients)
	flows, complete := make([]int, cfg.Clients), make([]int, cfg.Clients)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range cfg.Clients {
		wg.Go(func() {
			c := newCaller(base, roots)
			defer c.close()
			for it := 0; it < cfg.Iterations && time.Now().Before(stopAt) && ctx.Err() == nil; it++ {
				var ok bool
				perClient[i], ok = flow(reqCtx, c, f.Users[i%len(f.Users)], f.AppID, stopAt, perClient[i])
				flows[i]++
				if ok {
					complete[i]++
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []sample
	total, done := 0, 0
	for i := range perClient {
		all = append(all, perClient[i]...)
		total += flows[i]
		done += complete[i]
	}
	return summarize(all, total, done, elapsed)
}

// flow is one login -> me -> apps -> launch -> logout; complete when all five succeeded. A
// login refused with back-pressure is retried as the server asks (each refusal counted) until
// stopAt; any other failed call ends the flow, logging out if a session exists.
func flow(ctx context.Context, c *caller, a account, appID string, stopAt time.Time, prev []sample) (out []sample, complete bool) {
	out = prev
	failed, launched := false, false
	timed := func(call string, fn func() error) error {
		t0 := time.Now()
		err := fn()
		s := sample{call: call, dur: time.Since(t0)}
		if err != nil {
			s.code = errorCode(err)
			failed = failed || call != "login"
		}
		out = append(out, s)
		return err
	}
	var login api.LoginResponse
	for {
		err := timed("login", func() error {
			return c.do(ctx, "POST", api.PathLogin, "", api.LoginRequest{UserID: a.UserID, Password: a.Password,
				Client: &api.ClientInfo{Name: "magload", Version: api.Version}}, &login)
		})
		if err == nil {
			break
		}
		wait, ok := backPressure(err)
		// Up to half as long again, at random: clients refused together must not all come back
		// in the same instant, as real ones do not (a synchronised wave paces the run instead
		// of the server).
		wait += rand.N(wait/2 + 1)
		if !ok || time.Now().Add(wait).After(stopAt) {
			return out, false
		}
		select {
		case <-ctx.Done():
			return out, false
		case <-time.After(wait):
		}
	}
	tok := login.SessionToken
	defer func() {
		_ = timed("logout", func() error { return c.do(ctx, "DELETE", api.PathSessionCurrent, tok, nil, nil) })
		complete = launched && !failed
	}()
	if timed("me", func() error {
		var me api.Me
		if err := c.do(ctx, "GET", api.PathMe, tok, nil, &me); err != nil {
			return err
		}
		return expect(me.Account.UserID == a.UserID, "me names %q, not %q", me.Account.UserID, a.UserID)
	}) != nil {
		return out, false
	}
	if timed("apps", func() error {
		var apps []api.Application
		if err := c.do(ctx, "GET", api.PathMyApplications, tok, nil, &apps); err != nil {
			return err
		}
		for _, app := range apps {
			if app.AppID == appID {
				return expect(app.Status == api.StatusAccessGranted, "%s is %s", appID, app.Status)
			}
		}
		return expect(false, "%s is not listed", appID)
	}) != nil {
		return out, false
	}
	launched = true
	_ = timed("launch", func() error {
		var l api.LaunchResponse
		if err := c.do(ctx, "POST", strings.Replace(api.PathLaunch, "{app}", appID, 1), tok, nil, &l); err != nil {
			return err
		}
		return expect(l.LaunchURL != "", "no launch_url")
	})
	return out, false // completed by the deferred logout
}

// expect turns a wrong answer into a BAD_ANSWER failure.
func expect(ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return &callError{Code: "BAD_ANSWER", Err: fmt.Errorf(format, args...)}
}
