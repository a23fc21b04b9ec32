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
	s = norm.NFKC.String(cases.Fold().String(norm.NFKC.String(s)))
	return strings.Join(strings.Fields(s), " ")
}
