package client

import (
	"errors"
	"strings"
	"testing"
)

const tok = "kZ3v9hQ-Yb0xw_1c2D3e4F5g6H7i8J9k0L1m2N3o4P5" // 43 chars, like magd's

func TestParseActivationLink(t *testing.T) {
	ok := []struct{ name, in string }{
		{"bare token", tok},
		{"desktop link", "magdesk://activate?token=" + tok},
		{"desktop link, upper-case scheme", "MAGDESK://activate?token=" + tok},
		{"desktop link, trailing slash", "magdesk://activate/?token=" + tok},
		{"web link", "https://gw.example:8443/activate#token=" + tok},
		{"web link, trailing slash", "https://127.0.0.1:8443/activate/#token=" + tok},
		{"whitespace and newline", "  \t" + "magdesk://activate?token=" + tok + "\r\n"},
		{"angle brackets", "<https://gw.example/activate#token=" + tok + ">"},
		{"quotes around brackets", `"<magdesk://activate?token=` + tok + `>"`},
		{"typographic quotes", "“" + tok + "”"},
		{"single quotes", "'" + tok + "'"},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseActivationLink(c.in)
			if err != nil {
				t.Fatalf("ParseActivationLink(%q): %v", c.in, err)
			}
			if got != tok {
				t.Fatalf("token = %q, want %q", got, tok)
			}
		})
	}
	bad := []struct{ name, in, want string }{
		{"empty", "  ", "empty"},
		{"trailing junk after bare token", tok + " please click", "followed by extra text"},
		{"trailing punctuation", tok + ".", "followed by extra text"},
		{"trailing junk in desktop link", "magdesk://activate?token=" + tok + "&x=1", "exactly one token"},
		{"two tokens", "magdesk://activate?token=" + tok + "&token=" + tok, "exactly one token"},
		{"fragment after desktop link", "magdesk://activate?token=" + tok + "#more", "extra text"},
		{"junk glued to token in link", "magdesk://activate?token=" + tok + "%3Cbr%3E", "followed by extra text"},
		{"text after link", "https://gw.example/activate#token=" + tok + " Thanks", "spaces"},
		{"wrong scheme http", "http://gw.example/activate#token=" + tok, "http: link is not an activation link"},
		{"wrong scheme javascript", "javascript:alert(1)", "javascript: link"},
		{"wrong path", "https://gw.example/login#token=" + tok, "not an activation link"},
		{"token in query of web link", "https://gw.example/activate?token=" + tok, "extra text after the address"},
		{"wrong magdesk host", "magdesk://login?token=" + tok, "not an activation link"},
		{"no token", "magdesk://activate", "no token"},
		{"empty token", "magdesk://activate?token=", "too short"},
		{"short token", "abc123", "too short"},
		{"long token", strings.Repeat("a", 300), "too long"},
		{"bad character", "abc$def" + tok, "contains '$'"},
		{"unbalanced bracket", "<" + tok, "contains '<'"},
		{"damaged escaping", "magdesk://activate?token=%zz", "damaged"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseActivationLink(c.in)
			if err == nil {
				t.Fatalf("ParseActivationLink(%q) = %q, want an error", c.in, got)
			}
			if !errors.Is(err, ErrBadActivationLink) || !isKind(err, KindInput) {
				t.Fatalf("error %v is not a KindInput ErrBadActivationLink", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) {
				t.Fatalf("message %q does not mention %q", msg, c.want)
			}
		})
	}
}

func FuzzParseActivationLink(f *testing.F) {
	for _, s := range []string{tok, "magdesk://activate?token=" + tok, "https://h/activate#token=" + tok,
		"<" + tok + ">", `"` + tok + `"`, "magdesk://activate?token=" + tok + "&x", "https://h/activate#token=%00",
		"magdesk:activate?token=" + tok, "“<'" + tok + "'>”", "", "((((", "magdesk://%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseActivationLink(s)
		if err != nil {
			if !errors.Is(err, ErrBadActivationLink) || err.Error() == "" {
				t.Fatalf("error for %q is not a described ErrBadActivationLink: %v", s, err)
			}
			return
		}
		if checkToken(got) != nil {
			t.Fatalf("accepted token %q fails the token check", got)
		}
		// Whatever was accepted round-trips through both link forms.
		for _, form := range []string{got, "magdesk://activate?token=" + got, "https://gw.example/activate#token=" + got} {
			again, err := ParseActivationLink(form)
			if err != nil || again != got {
				t.Fatalf("%q -> %q, but %q -> %q, %v", s, got, form, again, err)
			}
		}
	})
}
