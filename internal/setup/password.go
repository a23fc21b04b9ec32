package setup

import (
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mag-desktop/magdesk/api"
)

// Strength is a rough guess of how hard a password is to guess, for the meter.
type Strength int

// Strength levels.
const (
	VeryWeak Strength = iota
	Weak
	Fair
	Strong
	VeryStrong
)

func (s Strength) String() string {
	return [...]string{"Very weak", "Weak", "Fair", "Strong", "Very strong"}[s]
}

// Feedback is the live check shown under the password fields. OK means the server's rules
// that can be checked here are met; the server still checks its blocklist.
type Feedback struct {
	OK       bool
	Problems []string // plain words, one per rule not met
	Strength Strength
	Entropy  float64 // estimated bits
}

// commonPasswords is a small local list so the most obvious choices are flagged while typing;
// the server's blocklist is the authority.
var commonPasswords = []string{
	"password", "passw0rd", "123456", "qwerty", "letmein", "welcome", "iloveyou", "admin",
	"monkey", "dragon", "football", "baseball", "abc123", "sunshine", "princess", "trustno1",
}

// CheckPassword gives live feedback for a new password against the server's policy. context
// holds words the password should not be built on (user id, name, organisation).
func CheckPassword(pw, confirm string, policy api.PasswordPolicy, context ...string) Feedback {
	var fb Feedback
	n := utf8.RuneCountInString(pw)
	min := policy.MinLength
	if min <= 0 {
		min = 8
	}
	if n < min {
		fb.Problems = append(fb.Problems, fmt.Sprintf("Use at least %d characters (%d so far).", min, n))
	}
	if policy.MaxLength > 0 && n > policy.MaxLength {
		fb.Problems = append(fb.Problems, fmt.Sprintf("Use at most %d characters.", policy.MaxLength))
	}
	lower := strings.ToLower(pw)
	for _, c := range commonPasswords {
		if strings.Contains(lower, c) {
			fb.Problems = append(fb.Problems, "Avoid common passwords such as \""+c+"\".")
			break
		}
	}
	for _, w := range context {
		w = strings.ToLower(strings.TrimSpace(w))
		if len(w) >= 3 && strings.Contains(lower, w) {
			fb.Problems = append(fb.Problems, "Don't build the password on your user ID, name or organisation.")
			break
		}
	}
	if pw != "" && confirm != pw {
		fb.Problems = append(fb.Problems, "Type the same password in both fields.")
	}
	fb.Entropy = entropy(pw)
	fb.Strength = strengthOf(fb.Entropy)
	if n < min && fb.Strength > Weak {
		// Too short for the policy is never shown as good.
		fb.Strength = Weak
	}
	fb.OK = pw != "" && len(fb.Problems) == 0
	return fb
}

// entropy estimates bits as length × log2(alphabet), discounting repeated characters. Rough,
// but it rewards length, which is what the policy (no composition rules) asks for.
func entropy(pw string) float64 {
	if pw == "" {
		return 0
	}
	var lower, upper, digit, other bool
	distinct := map[rune]bool{}
	for _, r := range pw {
		distinct[r] = true
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	alphabet := 0
	for _, c := range []struct {
		on   bool
		size int
	}{{lower, 26}, {upper, 26}, {digit, 10}, {other, 33}} {
		if c.on {
			alphabet += c.size
		}
	}
	// Characters used again add less than fresh ones.
	n := float64(len(distinct)) + 0.3*float64(utf8.RuneCountInString(pw)-len(distinct))
	return n * math.Log2(float64(alphabet))
}

func strengthOf(bits float64) Strength {
	switch {
	case bits < 28:
		return VeryWeak
	case bits < 45:
		return Weak
	case bits < 60:
		return Fair
	case bits < 80:
		return Strong
	}
	return VeryStrong
}
