package client

import (
	"regexp"
	"strings"
	"testing"

	"github.com/mag-desktop/magdesk/api"
)

// The GUI and the CLI both show UserMessage, so it says what to do in plain words and names no
// command, flag or button of either (the CLI adds its command on a line of its own).
func TestUserMessageNeutral(t *testing.T) {
	problem := func(code api.Code) error {
		return &Error{Kind: KindProblem, Op: "login", Problem: &api.Problem{Code: code, RetryAfter: 300}}
	}
	cases := []struct {
		err  error
		want string
	}{
		{problem(api.CodeInvalidCredentials), "The user ID or password is wrong. Check both and try again; after several failed attempts the account is locked for a while. Forgot them? Have your user ID sent by email, or reset your password."},
		{problem(api.CodeAccountLocked), "Too many failed attempts: the account is locked for 5 minutes. Wait, then try again with the right password, or reset your password."},
		{problem(api.CodeActivationTokenInvalid), "The activation link is not valid. Copy the whole link from the activation email, or ask for a new link by email."},
		{problem(api.CodeActivationTokenExpired), "The activation link has expired. Ask for a new link by email, or ask your organisation administrator."},
		{problem(api.CodeSessionAccountMismatch), "Clear cached sessions, then log in again."},
		{&Error{Kind: KindAccountMismatch, ExpectedUser: "bob", ActualUser: "ada"}, "The saved session belongs to ada, not to bob. Clear cached sessions, then log in again as bob."},
		{problem(api.CodeCertWrongAccount), "Remove it from this computer or connect it to this account, then log in again"},
		{problem(api.CodeCertExpired), "Log in without a certificate, request a new one"},
		{problem(api.CodeCertRequired), "Choose your certificate and try again."},
		{problem(api.CodeStepUpRequired), "Register an authenticator app or a certificate, then log in again with it."},
		{problem(api.CodeEnrollmentExpired), "Start the registration of your authenticator app again."},
		{func() error { _, err := New(Options{}); return err }(), "No server is set: enter your gateway's address"},
		{&Error{Kind: KindUntrustedServer, Server: "gw:443"}, "If your IT department gave you a CA certificate, add it as this server's CA certificate"},
	}
	frontEnd := regexp.MustCompile(`magdesk |--[a-z]|\(.*(menu|Connections|\?)\)|"Forgot|Link doesn.t work`)
	for _, tc := range cases {
		got := UserMessage(tc.err)
		if !strings.Contains(got, tc.want) {
			t.Errorf("UserMessage(%v) = %q; want it to contain %q", tc.err, got, tc.want)
		}
		if m := frontEnd.FindString(got); m != "" {
			t.Errorf("UserMessage(%v) = %q names a front end's command or button (%q)", tc.err, got, m)
		}
	}
}
