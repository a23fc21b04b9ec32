package password

import (
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// NormalizeAnswer is the form a security-question answer is hashed and compared in:
// NFKC, case-folded, trimmed, inner whitespace collapsed to one space, so that "  New   York"
// and "new york" are the same answer.
func NormalizeAnswer(s string) string {
	// x/text's Fold is not always a fixed point (a Cherokee letter after a long run of other
	// text folds one way, then back), so fold until the form no longer changes; a few rounds
	// settle every input the fuzzer has found.
	s = norm.NFKC.String(s)
	for range 4 {
		next := norm.NFKC.String(cases.Fold().String(s))
		if next == s {
			break
		}
		s = next
	}
	return strings.Join(strings.Fields(s), " ")
}
