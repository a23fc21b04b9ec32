package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
)

// Fail prints the front-end-neutral message of package client, then the command that follows
// its advice; --json carries both.
func TestFailHint(t *testing.T) {
	problem := func(code api.Code, mag int) error {
		return &client.Error{Kind: client.KindProblem, Op: "login", Problem: &api.Problem{Code: code, MagCode: mag, Status: 401}}
	}
	cases := []struct {
		name     string
		err      error
		msg      string // in the message line
		hint     string // the hint line, "" for none
		exitCode int
	}{
		{"wrong password", problem(api.CodeInvalidCredentials, 0), "user ID or password is wrong", "magdesk recover user-id --email E, or magdesk recover password --user ID", ExitError},
		{"locked", problem(api.CodeAccountLocked, 0), "account is locked", "magdesk recover password --user ID", ExitError},
		{"link expired", problem(api.CodeActivationTokenExpired, 0), "activation link has expired", "magdesk recover activation --user ID --email E", ExitError},
		{"error 2035", problem(api.CodeForbidden, api.MagCodeWrongCertificate), "", "magdesk certs check, then magdesk certs remove, or magdesk certs connect --from-user ID", ExitError},
		{"account mismatch", &client.Error{Kind: client.KindAccountMismatch, ExpectedUser: "bob", ActualUser: "ada"}, "belongs to ada, not to bob", "magdesk sessions clear", ExitError},
		{"untrusted", &client.Error{Kind: client.KindUntrustedServer, Server: "gw:443", Err: errors.New("x509: unknown authority")}, "is not trusted", "--ca FILE", ExitError},
		{"no advice to follow", problem(api.CodeAccountDisabled, 0), "account is disabled", "", ExitError},
		{"usage", usageErrorf("login needs --user ID"), "login needs --user ID", "", ExitUsage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, asJSON := range []bool{false, true} {
				var out, errb bytes.Buffer
				e := &Env{IO: IO{Out: &out, Err: &errb}, JSON: asJSON, Log: slog.New(slog.DiscardHandler)}
				if got := e.Fail(tc.err); got != tc.exitCode {
					t.Errorf("exit %d, want %d", got, tc.exitCode)
				}
				lines := strings.Split(strings.TrimSuffix(errb.String(), "\n"), "\n")
				wantLines := 1
				if tc.hint != "" {
					wantLines = 2
					if lines[len(lines)-1] != "magdesk: hint: "+tc.hint {
						t.Errorf("stderr %q: last line want %q", errb.String(), "magdesk: hint: "+tc.hint)
					}
				}
				if len(lines) != wantLines || !strings.HasPrefix(lines[0], "magdesk: ") || !strings.Contains(lines[0], tc.msg) {
					t.Errorf("stderr %q: want %d line(s), the message containing %q", errb.String(), wantLines, tc.msg)
				}
				if !asJSON {
					continue
				}
				var j struct {
					Error jsonError `json:"error"`
				}
				if err := json.Unmarshal(out.Bytes(), &j); err != nil || j.Error.Hint != tc.hint || !strings.Contains(j.Error.Message, tc.msg) {
					t.Errorf("--json %q (%v): want hint %q and message with %q", out.String(), err, tc.hint, tc.msg)
				}
			}
		})
	}
}
