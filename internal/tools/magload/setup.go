package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server"
	"github.com/mag-desktop/magdesk/internal/server/mail"
)

// admin is the part of magd's administration that provisioning uses: a *server.Server, either
// opened on the data folder beside `magd serve` (as `magd admin` does) or running in-process.
type admin interface {
	CreateOrg(ctx context.Context, name string) (string, error)
	CreateUser(ctx context.Context, u server.NewUser) (string, error)
	AddApp(ctx context.Context, a server.NewApp) error
	Subscribe(ctx context.Context, orgID, appID string) error
	MailDir() string
}

type account struct{ UserID, Password string }

// fixture is what a load run needs: accounts that can log in and an application each of them
// may launch.
type fixture struct {
	OrgID, AppID string
	Admin        account
	Users        []account
}

// provision creates, through the real flows, an organisation with an org admin and n users,
// all activated with the emailed link, and an application whose terms the admin accepted and
// to which every user asked for and was granted access.
func provision(ctx context.Context, adm admin, base string, roots *x509.CertPool, n int, progress io.Writer) (*fixture, error) {
	start := time.Now()
	run := randomHex(4)
	f := &fixture{AppID: "magload-" + run}
	var err error
	if f.OrgID, err = adm.CreateOrg(ctx, "magload "+run); err != nil {
		return nil, fmt.Errorf("create organisation: %w", err)
	}
	if err := adm.AddApp(ctx, server.NewApp{ID: f.AppID, Name: "Load Test " + run, URL: "https://app.magload.example/",
		Terms: "Terms of the load test application " + run + ".\n", RequiredAAL: 1}); err != nil {
		return nil, fmt.Errorf("add application: %w", err)
	}
	if err := adm.Subscribe(ctx, f.OrgID, f.AppID); err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	ids := make([]string, n+1) // [0] is the org admin
	for i := range ids {
		u := server.NewUser{OrgID: f.OrgID, Email: fmt.Sprintf("load-%s-%d@magload.example", run, i), FirstName: "Load",
			LastName: "Tester" + letters(i), OrgAdmin: i == 0}
		if ids[i], err = adm.CreateUser(ctx, u); err != nil {
			return nil, fmt.Errorf("create user %d: %w", i, err)
		}
	}
	tokens, err := activationTokens(adm.MailDir(), ids)
	if err != nil {
		return nil, err
	}

	c := newCaller(base, roots)
	defer c.close()
	answers, err := securityAnswers(ctx, c)
	if err != nil {
		return nil, err
	}
	accounts := make([]account, len(ids))
	err = parallel(ctx, len(ids), func(i int) error {
		pw := randomPassword()
		req := api.ActivationCompleteRequest{Token: tokens[ids[i]], Password: pw, PasswordConfirm: pw, SecurityAnswers: answers}
		if err := retrying(ctx, func() error { return c.do(ctx, "POST", api.PathActivationComplete, "", req, nil) }); err != nil {
			return fmt.Errorf("activate %s: %w", ids[i], err)
		}
		accounts[i] = account{ids[i], pw}
		return nil
	})
	if err != nil {
		return nil, err
	}
	f.Admin, f.Users = accounts[0], accounts[1:]
	fmt.Fprintf(progress, "magload: %d accounts activated (%.1fs)\n", len(accounts), time.Since(start).Seconds())
	if err := grantAccess(ctx, c, f); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "magload: terms accepted and access granted to %s (%.1fs)\n", f.AppID, time.Since(start).Seconds())
	return f, nil
}

// grantAccess runs the MAG flow: the org admin accepts the terms, every user requests access,
// the admin approves each request.
func grantAccess(ctx context.Context, c *caller, f *fixture) error {
	adminTok, err := login(ctx, c, f.Admin)
	if err != nil {
		return fmt.Errorf("org admin login: %w", err)
	}
	defer c.do(ctx, "DELETE", api.PathSessionCurrent, adminTok, nil, nil)
	termsPath := orgAppPath(api.PathTerms, f.OrgID, f.AppID)
	var terms api.Terms
	if err := c.do(ctx, "GET", termsPath, adminTok, nil, &terms); err != nil {
		return fmt.Errorf("read terms: %w", err)
	}
	if err := c.do(ctx, "POST", orgAppPath(api.PathTermsAcceptances, f.OrgID, f.AppID), adminTok,
		api.AcceptTermsRequest{TermsVersionID: terms.TermsVersionID}, nil); err != nil {
		return fmt.Errorf("accept terms: %w", err)
	}
	requested := make([]string, len(f.Users))
	err = parallel(ctx, len(f.Users), func(i int) error {
		tok, err := login(ctx, c, f.Users[i])
		if err != nil {
			return fmt.Errorf("login %s: %w", f.Users[i].UserID, err)
		}
		defer c.do(ctx, "DELETE", api.PathSessionCurrent, tok, nil, nil)
		var req api.AccessRequest
		if err := c.do(ctx, "POST", strings.Replace(api.PathAccessRequests, "{app}", f.AppID, 1), tok, nil, &req); err != nil {
			return fmt.Errorf("request access for %s: %w", f.Users[i].UserID, err)
		}
		requested[i] = req.ID
		return nil
	})
	if err != nil {
		return err
	}
	return parallel(ctx, len(requested), func(i int) error {
		path := strings.NewReplacer("{org}", f.OrgID, "{id}", requested[i]).Replace(api.PathDecision)
		if err := c.do(ctx, "POST", path, adminTok, api.DecisionRequest{Decision: api.DecisionApprove}, nil); err != nil {
			return fmt.Errorf("approve %s: %w", requested[i], err)
		}
		return nil
	})
}

func login(ctx context.Context, c *caller, a account) (string, error) {
	var out api.LoginResponse
	err := retrying(ctx, func() error {
		return c.do(ctx, "POST", api.PathLogin, "", api.LoginRequest{UserID: a.UserID, Password: a.Password,
			Client: &api.ClientInfo{Name: "magload", Version: api.Version}}, &out)
	})
	return out.SessionToken, err
}

func orgAppPath(p, org, app string) string {
	return strings.NewReplacer("{org}", org, "{app}", app).Replace(p)
}

// securityAnswers are valid answers to as many questions as the server requires (often none).
func securityAnswers(ctx context.Context, c *caller) ([]api.SecurityAnswer, error) {
	var meta api.Meta
	if err := c.do(ctx, "GET", api.PathMeta, "", nil, &meta); err != nil {
		return nil, fmt.Errorf("read %s: %w", api.PathMeta, err)
	}
	if meta.SecurityQuestionsRequired == 0 {
		return nil, nil
	}
	var qs []api.SecurityQuestion
	if err := c.do(ctx, "GET", api.PathSecurityQuestions, "", nil, &qs); err != nil {
		return nil, fmt.Errorf("read %s: %w", api.PathSecurityQuestions, err)
	}
	if len(qs) < meta.SecurityQuestionsRequired {
		return nil, fmt.Errorf("the server asks for %d security answers but offers %d questions", meta.SecurityQuestionsRequired, len(qs))
	}
	answers := make([]api.SecurityAnswer, meta.SecurityQuestionsRequired)
	for i := range answers {
		answers[i] = api.SecurityAnswer{QuestionID: qs[i].ID, Answer: "load answer " + letters(i)}
	}
	return answers, nil
}

var (
	activationRE = regexp.MustCompile(`magdesk://activate\?token=([A-Za-z0-9_-]+)`)
	userIDRE     = regexp.MustCompile(`Your user ID: (\S+)`)
)

// activationTokens reads the activation links of the given users from magd's Maildir.
func activationTokens(maildir string, ids []string) (map[string]string, error) {
	msgs, err := mail.ReadMaildir(maildir)
	if err != nil {
		return nil, fmt.Errorf("read the activation emails: %w", err)
	}
	tokens := map[string]string{}
	for _, m := range msgs { // oldest first: a newer email's link wins
		id, tok := userIDRE.FindStringSubmatch(m.Body), activationRE.FindStringSubmatch(m.Body)
		if m.Template == "activation" && id != nil && tok != nil {
			tokens[id[1]] = tok[1]
		}
	}
	for _, id := range ids {
		if tokens[id] == "" {
			return nil, fmt.Errorf("no activation email for %s in %s (is magd sending mail by SMTP?)", id, maildir)
		}
	}
	return tokens, nil
}

// parallel runs fn(0..n-1) on a few workers; after the first error it starts no more and
// returns that error (which says more than the context's own).
func parallel(ctx context.Context, n int, fn func(i int) error) error {
	var (
		mu    sync.Mutex
		first error
	)
	failed := func() bool { mu.Lock(); defer mu.Unlock(); return first != nil }
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, 8) {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := 0; i < n && ctx.Err() == nil && !failed(); i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return cmp.Or(first, ctx.Err())
}

// retrying repeats fn while the server answers with back-pressure, waiting as told.
func retrying(ctx context.Context, fn func() error) error {
	for {
		err := fn()
		wait, ok := backPressure(err)
		if !ok {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up: %v)", err, context.Cause(ctx))
		case <-time.After(wait):
		}
	}
}

func randomPassword() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b) // 24 characters, never a listed password
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// letters spells i in a-z, for names that may hold no digits.
func letters(i int) string {
	s := ""
	for {
		s = string(rune('a'+i%26)) + s
		if i /= 26; i == 0 {
			return s
		}
	}
}
