package password

import (
	"fmt"
	"unicode/utf8"

	"github.com/mag-desktop/magdesk/api"
	"golang.org/x/text/unicode/norm"
)

// Policy is the rule for new passwords: a length range in code points and a blocklist,
// deliberately without composition rules (NIST SP 800-63B-4 §3.1.1.2 SHALL NOT).
type Policy struct{ MinLength, MaxLength int }

// DefaultPolicy follows NIST SP 800-63B-4 (minimum SHOULD be 15, maximum at least 64).
var DefaultPolicy = Policy{MinLength: 15, MaxLength: 128}

// Check returns nil when pw is acceptable, else an *api.Problem with code PASSWORD_TOO_SHORT,
// PASSWORD_TOO_LONG or PASSWORD_BLOCKLISTED. Length counts code points after NFKC.
// contextWords are the words of this account and service that must not be the password
// (user id, org name, ...); "exostar", "mag" and "password" are always included.
func (p Policy) Check(pw string, contextWords ...string) error {
	n := utf8.RuneCountInString(norm.NFKC.String(pw))
	switch {
	case n < p.MinLength:
		return p.problem(api.CodePasswordTooShort, fmt.Sprintf(
			"Use at least %d characters (this one has %d). Several unrelated words make a long password that is easy to remember.",
			p.MinLength, n))
	case n > p.MaxLength:
		return p.problem(api.CodePasswordTooLong, fmt.Sprintf(
			"Use at most %d characters (this one has %d).", p.MaxLength, n))
	}
	if why := blocked(pw, contextWords); why != "" {
		return p.problem(api.CodePasswordBlocklisted, fmt.Sprintf(
			"This password is %s, so it would be guessed quickly. Choose something else, for example a few unrelated words.", why))
	}
	return nil
}

// API is the policy as GET /v1/meta and activation/inspect report it.
func (p Policy) API() api.PasswordPolicy {
	return api.PasswordPolicy{MinLength: p.MinLength, MaxLength: p.MaxLength, Blocklist: true}
}

func (p Policy) problem(code api.Code, detail string) *api.Problem {
	pr := api.NewProblem(code, detail)
	pr.Errors = []api.FieldError{{Field: "password", Code: code, Message: detail}}
	return pr
}
