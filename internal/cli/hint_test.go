package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/service"
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
		{"no server", func() error { _, err := client.New(client.Options{}); return err }(), "No server is set", "--server https://HOST:PORT (it is remembered), or server_url in the settings", ExitError},
		{"store: not found", &certstore.Error{Code: certstore.CodeNotFound, Op: "nss export", Msg: "no certificate ab12 in nss"}, "no certificate ab12", "magdesk certs list", ExitError},
		{"service: not logged in", &service.Error{Code: service.CodeNotLoggedIn}, "not logged in", "magdesk login --user ID", ExitError},
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

// --json is read by scripts, not by browsers: & < > stay as they are, in output and in errors.
func TestJSONDoesNotEscapeHTML(t *testing.T) {
	const text = "R&D <lab> -> ok"
	cases := []struct {
		name string
		run  func(e *Env) int
	}{
		{"output", func(e *Env) int {
			return e.Output(map[string]string{"name": text}, func(io.Writer) {})
		}},
		{"error", func(e *Env) int { return e.Fail(errors.New(text)) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			tc.run(&Env{IO: IO{Out: &out, Err: &errb}, JSON: true, Log: slog.New(slog.DiscardHandler)})
			if !strings.Contains(out.String(), "R&D <lab> ->") || strings.Contains(out.String(), `\u0026`) {
				t.Fatalf("stdout %q escapes HTML", out.String())
			}
			var v any
			if err := json.Unmarshal(out.Bytes(), &v); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
		})
	}
}

// An argument that is no fingerprint is a usage error with the store's sentence, whatever the
// type of the error behind it (an unchecked assertion used to panic on another type).
func TestFingerprintProblem(t *testing.T) {
	_, parseErr := certstore.ParseFingerprint("nothex")
	cases := []struct {
		err  error
		want string
	}{
		{parseErr, "is not a SHA-256 fingerprint"},
		{fmt.Errorf("wrapped: %w", parseErr), "is not a SHA-256 fingerprint"},
		{errors.New("something else"), "something else"},
	}
	for _, c := range cases {
		if got := fingerprintProblem(c.err); !strings.Contains(got, c.want) || strings.Contains(got, "magdesk") {
			t.Errorf("fingerprintProblem(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
