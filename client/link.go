package client

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
)

// Token length bounds: magd's tokens are 256-bit random in base64url (43 characters); the
// bounds leave room for other gateways while refusing obvious fragments and pastes of a page.
const (
	minTokenLen = 20
	maxTokenLen = 256
)

// ErrBadActivationLink is wrapped by every ParseActivationLink error.
var ErrBadActivationLink = errors.New("not a valid activation link")

// wrappers are the pairs email clients and chat tools put around a pasted link.
var wrappers = [][2]string{{"<", ">"}, {`"`, `"`}, {"'", "'"}, {"“", "”"}, {"‘", "’"}, {"«", "»"}, {"(", ")"}, {"[", "]"}}

// ParseActivationLink extracts the token from what a user pasted: the desktop link
// magdesk://activate?token=T, the web link https://HOST/activate#token=T, or the bare token,
// with surrounding whitespace, quotes or angle brackets removed. Anything else, including a
// valid link followed by more text, is refused with an error saying what is wrong.
func ParseActivationLink(s string) (string, error) {
	s = unwrap(s)
	if s == "" {
		return "", inputErr("the activation link is empty; paste the whole link from the activation email")
	}
	if i := strings.Index(s, ":"); i > 0 && isScheme(s[:i]) {
		return parseLinkURL(s, strings.ToLower(s[:i]))
	}
	if err := checkToken(s); err != nil {
		return "", err
	}
	return s, nil
}

// unwrap trims whitespace and matching wrapper pairs, repeatedly ("<https://...>" in quotes).
func unwrap(s string) string {
	for {
		t := strings.TrimFunc(s, unicode.IsSpace)
		for _, w := range wrappers {
			if len(t) >= len(w[0])+len(w[1]) && strings.HasPrefix(t, w[0]) && strings.HasSuffix(t, w[1]) {
				t = t[len(w[0]) : len(t)-len(w[1])]
				break
			}
		}
		if t == s {
			return s
		}
		s = t
	}
}

func isScheme(s string) bool {
	for i, r := range s {
		ok := r < unicode.MaxASCII && (unicode.IsLetter(r) || (i > 0 && (unicode.IsDigit(r) || r == '+' || r == '-' || r == '.')))
		if !ok {
			return false
		}
	}
	return true
}

func parseLinkURL(s, scheme string) (string, error) {
	if strings.ContainsFunc(s, unicode.IsSpace) {
		return "", inputErr("the activation link contains spaces or line breaks; paste only the link itself")
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", inputErr("the activation link is not a valid address (%v)", err)
	}
	var params string
	switch scheme {
	case "magdesk":
		// magdesk://activate?token=T (also magdesk:activate?token=T from some launchers).
		target := u.Host + u.Opaque
		if !strings.EqualFold(strings.TrimSuffix(target+u.Path, "/"), "activate") {
			return "", inputErr("the magdesk:// link is not an activation link (expected magdesk://activate?token=...)")
		}
		if u.Fragment != "" || strings.HasSuffix(s, "#") {
			return "", inputErr("the activation link has extra text after the token")
		}
		params = u.RawQuery
	case "https":
		if u.Host == "" || strings.TrimSuffix(u.Path, "/") != "/activate" {
			return "", inputErr("the web address is not an activation link (expected https://HOST/activate#token=...)")
		}
		if u.RawQuery != "" {
			return "", inputErr("the activation link has extra text after the address")
		}
		params = u.EscapedFragment()
	default:
		return "", inputErr("a %s: link is not an activation link; use the magdesk://activate or https://.../activate link from the email", scheme)
	}
	if params == "" {
		return "", inputErr("the activation link has no token; copy the whole link from the email")
	}
	q, err := url.ParseQuery(params)
	if err != nil {
		return "", inputErr("the activation link is damaged (%v); copy the whole link from the email", err)
	}
	tokens := q["token"]
	if len(tokens) != 1 || len(q) != 1 {
		return "", inputErr("the activation link must carry exactly one token and nothing else; copy the link again from the email")
	}
	if err := checkToken(tokens[0]); err != nil {
		return "", err
	}
	return tokens[0], nil
}

// checkToken accepts base64url characters only, of a plausible length.
func checkToken(t string) error {
	for i, r := range t {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			if i >= minTokenLen {
				return inputErr("the activation token is followed by extra text (%q); copy only the link or token", clip(t[i:]))
			}
			return inputErr("the activation token contains %q, which no token has; copy the link again from the email", r)
		}
	}
	switch {
	case len(t) < minTokenLen:
		return inputErr("the activation token is too short (%d characters); copy the whole link from the email", len(t))
	case len(t) > maxTokenLen:
		return inputErr("the activation token is too long (%d characters); copy only the link from the email", len(t))
	}
	return nil
}

func clip(s string) string {
	if r := []rune(s); len(r) > 12 {
		return string(r[:12]) + "…"
	}
	return s
}

func inputErr(format string, args ...any) error {
	return &Error{Kind: KindInput, Op: "read activation link", Err: linkError(fmt.Sprintf(format, args...))}
}

// linkError is a message for the user that matches ErrBadActivationLink.
type linkError string

func (e linkError) Error() string        { return string(e) }
func (e linkError) Is(target error) bool { return target == ErrBadActivationLink }
