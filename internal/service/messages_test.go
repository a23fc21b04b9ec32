package service

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/netconf"
)

func problem(code api.Code) error {
	return &client.Error{Kind: client.KindProblem, Op: "login", Problem: &api.Problem{Code: code, RetryAfter: 300}}
}

func proxyFailure(code string) error {
	return &client.Error{Kind: client.KindProxy, Server: "gw:443", Err: &netconf.Error{Code: code,
		Proxy: "http://proxy:3128", Script: "http://wpad/proxy.pac", Status: 403, Schemes: []string{"NTLM"}, Err: errors.New("CAUSE")}}
}

// clientErrors are the errors of package client the catalogue words: one of every kind, every
// proxy code and every known reason of being offline, with the data their sentences need.
func clientErrors() map[string]error {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	errs := map[string]error{
		"offline":          &client.Error{Kind: client.KindOffline, Server: "gw:443", Err: errors.New("EOF")},
		"offline dns":      &client.Error{Kind: client.KindOffline, Server: "gw:443", Err: &net.DNSError{Name: "gw", Err: "no such host"}},
		"offline refused":  &client.Error{Kind: client.KindOffline, Server: "gw:443", Err: refused},
		"offline proxy":    &client.Error{Kind: client.KindOffline, Server: "gw:443", Err: &net.OpError{Op: "proxyconnect", Net: "tcp", Err: errors.New("connection refused")}},
		"timeout":          &client.Error{Kind: client.KindTimeout, Server: "gw:443"},
		"untrusted":        &client.Error{Kind: client.KindUntrustedServer, Server: "gw:443", Err: errors.New("x509: unknown authority")},
		"tls":              &client.Error{Kind: client.KindTLS, Server: "gw:443", Err: errors.New("remote error")},
		"server 500":       &client.Error{Kind: client.KindServer, Server: "gw:443", Status: 500},
		"server html":      &client.Error{Kind: client.KindServer, Server: "gw:443", Status: 200, Err: errors.New("expected JSON, got an HTML page")},
		"canceled":         &client.Error{Kind: client.KindCanceled},
		"config":           &client.Error{Kind: client.KindConfig, Err: errors.New("cannot read the CA bundle")},
		"input":            &client.Error{Kind: client.KindInput, Err: errors.New("the link is empty")},
		"intercepted":      &client.Error{Kind: client.KindIntercepted, Server: "gw:443", Issuer: "Corp Inspection CA"},
		"clock":            &client.Error{Kind: client.KindClock, Server: "gw:443", ValidFrom: time.Date(2030, 1, 2, 3, 4, 0, 0, time.UTC)},
		"mismatch":         &client.Error{Kind: client.KindAccountMismatch, ExpectedUser: "bob", ActualUser: "ada"},
		"mismatch unnamed": &client.Error{Kind: client.KindAccountMismatch},
		"skew":             &client.Error{Kind: client.KindProblem, Server: "gw:443", ClockSkew: -3 * time.Minute, Problem: &api.Problem{Code: api.CodeOTPInvalid}},
		"no server":        func() error { _, err := client.New(client.Options{}); return err }(),
		"plain":            errors.New("something odd"),
		"proxy, no detail": &client.Error{Kind: client.KindProxy, Server: "gw:443"},
	}
	for _, code := range []string{netconf.CodeProxyConfig, netconf.CodePACUnavailable, netconf.CodePACFailed, netconf.CodeProxyAuthRequired,
		netconf.CodeProxyAuthRejected, netconf.CodeProxyAuthUnsupported, netconf.CodeProxyRefused} {
		errs["proxy "+code] = proxyFailure(code)
	}
	return errs
}

// The sentences of the gateway's refusals and of the network's failures say what happened,
// with the data the client carries (host, issuer, accounts, waits), and what to do.
func TestNetworkAndServerSentences(t *testing.T) {
	errs := clientErrors()
	cases := []struct {
		err  error
		want []string
	}{
		{problem(api.CodeInvalidCredentials), []string{"The user ID or password is wrong. Check both and try again; after several failed attempts the account is locked for a while. Forgot them? Have your user ID sent by email, or reset your password."}},
		{problem(api.CodeAccountLocked), []string{"Too many failed attempts: the account is locked for 5 minutes. Wait, then try again with the right password, or reset your password."}},
		{problem(api.CodeActivationTokenInvalid), []string{"The activation link is not valid. Copy the whole link from the activation email, or ask for a new link by email."}},
		{problem(api.CodeActivationTokenExpired), []string{"The activation link has expired. Ask for a new link by email, or ask your organisation administrator."}},
		{problem(api.CodeSessionAccountMismatch), []string{"Clear cached sessions, then log in again."}},
		{problem(api.CodeCertWrongAccount), []string{"Error 2035", "Remove it from this computer or connect it to this account, then log in again"}},
		{problem(api.CodeCertExpired), []string{"Log in without a certificate, request a new one"}},
		{problem(api.CodeCertRequired), []string{"Choose your certificate and try again."}},
		{problem(api.CodeStepUpRequired), []string{"Register an authenticator app or a certificate, then log in again with it."}},
		{problem(api.CodeEnrollmentExpired), []string{"Start the registration of your authenticator app again."}},
		{problem(api.CodeRateLimited), []string{"The server is busy. Wait 5 minutes and try again."}},
		{&client.Error{Kind: client.KindProblem, Problem: &api.Problem{Code: api.CodePasswordTooShort, Detail: "use at least 12 characters"}}, []string{"Use at least 12 characters. Choose another password"}},
		{&client.Error{Kind: client.KindProblem, Problem: &api.Problem{Code: api.CodeValidationFailed, Errors: []api.FieldError{{Field: "email", Message: "not an address"}}}}, []string{"(email: not an address)"}},
		{&client.Error{Kind: client.KindProblem, Problem: &api.Problem{Code: api.CodeInternal, RequestID: "req-7"}}, []string{"quote request req-7."}},
		{&client.Error{Kind: client.KindProblem, Problem: &api.Problem{Code: "NEW_CODE", Title: "something new", Detail: "as the server says"}}, []string{"Something new. As the server says."}},
		{errs["mismatch"], []string{"The saved session belongs to ada, not to bob. Clear cached sessions, then log in again as bob."}},
		{errs["no server"], []string{"No server is set: enter your gateway's address"}},
		{errs["untrusted"], []string{"The certificate of gw:443 is not trusted", "If your IT department gave you a CA certificate, add it as this server's CA certificate"}},
		{errs["offline refused"], []string{"gw:443 refused the connection"}},
		{errs["offline dns"], []string{"The server name gw:443 could not be found"}},
		{errs["offline proxy"], []string{"The proxy could not be reached"}},
		{errs["offline"], []string{"Cannot reach gw:443"}},
		{errs["timeout"], []string{"gw:443 did not answer in time"}},
		{errs["server 500"], []string{"gw:443 had a problem and could not answer (HTTP 500)"}},
		{errs["server html"], []string{"did not answer like a MAG gateway (expected JSON, got an HTML page)"}},
		{errs["intercepted"], []string{"inspecting secure connections", "“Corp Inspection CA”", "ca_bundle"}},
		{errs["clock"], []string{"The clock of this computer is behind", "2 January 2030 03:04 UTC"}},
		{errs["skew"], []string{"differ by 3 minutes (this computer is ahead)", "Then enter a new code."}},
		{errs["proxy "+netconf.CodeProxyAuthRequired], []string{"The proxy http://proxy:3128 asks for a user name and password"}},
		{errs["proxy "+netconf.CodeProxyAuthUnsupported], []string{"Windows sign-in (NTLM)"}},
		{errs["proxy "+netconf.CodeProxyRefused], []string{"refused to connect to gw:443 (HTTP 403)"}},
		{errs["proxy "+netconf.CodePACUnavailable], []string{"http://wpad/proxy.pac could not be downloaded (CAUSE)"}},
		{errs["plain"], []string{"something odd."}},
	}
	for _, tc := range cases {
		got := Message(fmt.Errorf("wrapped: %w", tc.err))
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("Message(%v) = %q; want it to contain %q", tc.err, got, w)
			}
		}
	}
}

// The doctor's clock check and the login's refusal word a clock difference the same way.
func TestSkewMessage(t *testing.T) {
	cases := []struct {
		skew time.Duration
		host string
		want string
	}{
		{2 * time.Minute, "gw:443", "The clocks of this computer and of gw:443 differ by 2 minutes (this computer is behind)"},
		{-90 * time.Minute, "", "of the server differ by 2 hours (this computer is ahead)"},
		{45 * time.Second, "gw", "differ by 45 seconds"},
	}
	for _, c := range cases {
		if got := SkewMessage(c.skew, c.host); !strings.Contains(got, c.want) {
			t.Errorf("SkewMessage(%v, %q) = %q lacks %q", c.skew, c.host, got, c.want)
		}
	}
}
