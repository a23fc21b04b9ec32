package service

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/client"
)

func TestExplainKinds(t *testing.T) {
	locked := api.NewProblem(api.CodeAccountLocked, "locked")
	locked.RetryAfter = 90
	mfa := api.NewProblem(api.CodeMFARequired, "code")
	mfa.MFATicket = "t1"
	wrong := api.NewProblem(api.CodeCertWrongAccount, "2035")
	wrong.CertSHA256 = "abc"
	cases := []struct {
		name string
		err  error
		kind Kind
		chk  func(Explanation) bool
	}{
		{"locked", &client.Error{Kind: client.KindProblem, Problem: locked}, KindLocked, func(e Explanation) bool { return e.RetryAfter == 90*time.Second }},
		{"mfa", &client.Error{Kind: client.KindProblem, Problem: mfa}, KindMFARequired, func(e Explanation) bool { return e.MFATicket == "t1" }},
		{"2035", &client.Error{Kind: client.KindProblem, Problem: wrong}, KindWrongCertificate, func(e Explanation) bool { return e.CertSHA256 == "abc" }},
		{"mismatch", &client.Error{Kind: client.KindAccountMismatch, ExpectedUser: "a", ActualUser: "b"}, KindAccountMismatch, nil},
		{"offline", &client.Error{Kind: client.KindOffline, Server: "h:1", Err: fmt.Errorf("refused")}, KindOffline, nil},
		{"untrusted", &client.Error{Kind: client.KindUntrustedServer, Server: "h:1", Err: fmt.Errorf("x509")}, KindUntrustedServer, nil},
		{"expired", &client.Error{Kind: client.KindProblem, Problem: api.NewProblem(api.CodeSessionExpired, "")}, KindUnauthenticated, nil},
		{"link", &client.Error{Kind: client.KindProblem, Problem: api.NewProblem(api.CodeActivationTokenUsed, "used")}, KindActivationLink, nil},
		{"rate limited", &client.Error{Kind: client.KindProblem, Problem: api.NewProblem(api.CodeRateLimited, "")}, KindLocked, nil},
		{"mfa ticket", &client.Error{Kind: client.KindProblem, Problem: api.NewProblem(api.CodeMFATicketInvalid, "")}, KindUnauthenticated, nil},
		{"mag code 2035", &client.Error{Kind: client.KindProblem, Problem: &api.Problem{Code: api.CodeForbidden, MagCode: api.MagCodeWrongCertificate}}, KindWrongCertificate, nil},
		{"no server", func() error { _, err := client.New(client.Options{}); return err }(), KindNoServer, nil},
		{"service", newError(CodeCertNotInStore, "ab12", nil), KindValidation, func(e Explanation) bool {
			return e.ServiceCode == CodeCertNotInStore && strings.Contains(e.Message, "ab12")
		}},
		{"backup password", CheckBackupPassword("short", "short"), KindValidation, func(e Explanation) bool {
			return e.ServiceCode == CodeBackupPasswordTooShort && strings.Contains(e.Message, fmt.Sprint(certstore.MinBackupPassword))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := Explain(fmt.Errorf("wrapped: %w", c.err))
			if e.Kind != c.kind || e.Message == "" {
				t.Fatalf("Explain = %+v, want kind %v", e, c.kind)
			}
			if c.chk != nil && !c.chk(e) {
				t.Fatalf("Explain = %+v", e)
			}
		})
	}
	if e := Explain(nil); e.Kind != KindOther || e.Message != "" {
		t.Fatal("nil error explained")
	}
}

// The catalogue is neutral of the front ends: no command, flag, screen or button is named, so
// the window and the command line can both show every sentence.
func TestCatalogueIsNeutral(t *testing.T) {
	frontEnd := regexp.MustCompile(`(?i)magdesk |--[a-z]|\bpress\b|\bclick\b|\bbutton\b|\bscreen\b|\btab\b|\bmenu\b|"|link doesn.t work`)
	var all []string
	for code := range kindOfService {
		if _, ok := sentences[code]; !ok {
			t.Errorf("%s has no sentence", code)
		}
	}
	for code := range sentences {
		all = append(all, message(newError(code, "SUBJECT", errors.New("CAUSE"))))
	}
	for _, st := range []string{api.StatusAccessGranted, api.StatusAvailable, api.StatusAccessRequested,
		api.StatusPendingTerms, api.StatusAccessDenied, api.StatusSuspended} {
		all = append(all, StatusText(api.Application{Status: st}))
	}
	all = append(all, clearMessage(0, 0, 0, nil), clearMessage(2, 1, 1, []string{"b: NOTE"}),
		LockoutMessage(90*time.Second, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), SkewMessage(time.Minute, ""), SkewMessage(-time.Hour, "gw"),
		ServerListNotRead(problem(api.CodeServerBusy)))
	// Every refusal of the gateway, with and without the server's detail, and the codes that
	// are worded from their data.
	codes := []api.Code{api.CodeValidationFailed, api.CodeAccountLocked, api.CodeSessionAccountMismatch, api.CodeRateLimited,
		api.CodeServerBusy, api.CodeInternal, "UNKNOWN_CODE"}
	for code := range serverSentences {
		codes = append(codes, code)
	}
	for code := range serverAdvice {
		if _, twice := serverSentences[code]; twice {
			t.Errorf("%s is worded twice", code)
		}
		codes = append(codes, code)
	}
	for _, code := range codes {
		all = append(all, Message(problem(code)),
			Message(&client.Error{Kind: client.KindProblem, Problem: &api.Problem{Code: code, Title: "a title", Detail: "a detail", RequestID: "r1"}}))
	}
	// Every failure of the network, the proxy and TLS.
	for _, err := range clientErrors() {
		all = append(all, Message(err))
	}
	for _, s := range all {
		if s == "" || strings.Contains(s, "%!") || frontEnd.MatchString(s) {
			t.Errorf("not a neutral sentence: %q", s)
		}
	}
}

// The countdown of the window shows the wait to the second and the clock time it ends; the
// server's problem alone gives the wait in words.
func TestLockoutMessageSaysUntilWhen(t *testing.T) {
	until := time.Date(2026, 1, 2, 3, 5, 35, 0, time.UTC)
	cases := []struct {
		left  time.Duration
		until time.Time
		want  []string
	}{
		{90 * time.Second, until, []string{"locked for 1m30s more", "until 03:05:35"}},
		{85*time.Second + 400*time.Millisecond, until, []string{"locked for 1m25s more"}},
		{90 * time.Second, time.Time{}, []string{"locked for 2 minutes."}},
	}
	for _, c := range cases {
		got := LockoutMessage(c.left, c.until)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("LockoutMessage(%v, %v) = %q lacks %q", c.left, c.until, got, w)
			}
		}
	}
	msg := Explain(&client.Error{Kind: client.KindProblem, Problem: &api.Problem{Code: api.CodeAccountLocked, RetryAfter: 300}}).Message
	if msg != LockoutMessage(5*time.Minute, time.Time{}) {
		t.Errorf("the server's lockout is worded elsewhere: %q", msg)
	}
}

func TestCheckBackupPassword(t *testing.T) {
	long := strings.Repeat("p", certstore.MinBackupPassword)
	cases := []struct {
		pw, again string
		want      Code
	}{
		{long, long, ""},
		{long[1:], long[1:], CodeBackupPasswordTooShort},
		{long, long + "x", CodeBackupPasswordsDiffer},
	}
	for _, c := range cases {
		if got := CodeOf(CheckBackupPassword(c.pw, c.again)); got != c.want {
			t.Errorf("CheckBackupPassword(%q, %q) = %q, want %q", c.pw, c.again, got, c.want)
		}
	}
}
