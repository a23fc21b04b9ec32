package setup

import (
	"strings"
	"testing"

	"github.com/mag-desktop/magdesk/api"
)

func TestCheckPassword(t *testing.T) {
	pol := api.PasswordPolicy{MinLength: 15, MaxLength: 64, Blocklist: true}
	cases := []struct {
		name, pw, confirm string
		ok                bool
		problem           string
		minStrength       Strength
	}{
		{"empty", "", "", false, "at least 15", VeryWeak},
		{"short", "short one", "short one", false, "at least 15 characters (9 so far)", VeryWeak},
		{"mismatch", "correct horse battery staple", "correct horse battery stapl", false, "same password", Strong},
		{"common", "password-password-1", "password-password-1", false, "common", VeryWeak},
		{"user id", "jdoe1-is-my-name-ok", "jdoe1-is-my-name-ok", false, "user ID", VeryWeak},
		{"too long", strings.Repeat("ab", 40), strings.Repeat("ab", 40), false, "at most 64", VeryWeak},
		{"good passphrase", "correct horse battery staple", "correct horse battery staple", true, "", Strong},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fb := CheckPassword(c.pw, c.confirm, pol, "jdoe1", "Demo Aerospace")
			if fb.OK != c.ok {
				t.Fatalf("OK = %v, problems %v", fb.OK, fb.Problems)
			}
			if c.problem != "" && !strings.Contains(strings.Join(fb.Problems, " "), c.problem) {
				t.Fatalf("problems %v do not mention %q", fb.Problems, c.problem)
			}
			if fb.Strength < c.minStrength {
				t.Fatalf("strength %v < %v", fb.Strength, c.minStrength)
			}
		})
	}
}

func TestStrengthGrowsWithLength(t *testing.T) {
	prev := -1.0
	for _, pw := range []string{"a", "abcd", "abcdefgh", "abcdefgh ijklmnop", "abcdefgh ijklmnop QRSTUV 123"} {
		e := CheckPassword(pw, pw, api.PasswordPolicy{}).Entropy
		if e <= prev {
			t.Fatalf("entropy of %q = %v, not above %v", pw, e, prev)
		}
		prev = e
	}
	if s := CheckPassword("aaaaaaaaaaaaaaaa", "", api.PasswordPolicy{}).Strength; s > Weak {
		t.Fatalf("a repeated character rated %v", s)
	}
}

// FuzzCheckPassword: any input gives feedback without panicking, and OK always means the
// rules that can be checked here hold.
func FuzzCheckPassword(f *testing.F) {
	for _, s := range []string{"", "short", "correct horse battery staple", "pässwörd-mit-ümläüten", "\x00\xff", "日本語のパスワードです長い"} {
		f.Add(s, s, 15)
		f.Add(s, s+"x", 8)
	}
	f.Fuzz(func(t *testing.T, pw, confirm string, min int) {
		pol := api.PasswordPolicy{MinLength: min % 200, MaxLength: 128}
		fb := CheckPassword(pw, confirm, pol, "jdoe1")
		if fb.Strength < VeryWeak || fb.Strength > VeryStrong {
			t.Fatalf("strength %d", fb.Strength)
		}
		if fb.OK && (pw != confirm || len([]rune(pw)) < max(pol.MinLength, 1) || len([]rune(pw)) > 128) {
			t.Fatalf("OK for %q / %q with %+v", pw, confirm, pol)
		}
		if !fb.OK && pw != "" && len(fb.Problems) == 0 {
			t.Fatal("not OK without a reason")
		}
	})
}
