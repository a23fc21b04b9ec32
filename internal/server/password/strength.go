package password

import (
	"math"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Strength is a rough 0..4 score for a password meter, not a policy decision (Check is):
//
//	0  blocklisted, a repetition/sequence/keyboard walk, or shorter than 8 characters
//	1  below DefaultPolicy.MinLength, or under 50 bits of estimated search space
//	2  under 70 bits
//	3  under 90 bits
//	4  90 bits or more
//
// The estimate is length × log2(alphabet), where the alphabet is the sum of the character
// classes used (lower 26, upper 26, digits 10, ASCII symbols 33, space 1, other letters 100)
// and characters repeated more than twice count once. It overrates patterned passwords
// such as "Tr0ub4dor&3"; length dominates, as NIST intends.
func Strength(pw string) int {
	pw = norm.NFKC.String(pw)
	n := utf8.RuneCountInString(pw)
	if n < 8 || blocked(pw, nil) != "" {
		return 0
	}
	if n < DefaultPolicy.MinLength {
		return 1
	}
	var lower, upper, digit, symbol, space, other bool
	seen := map[rune]int{}
	effective := 0
	for _, r := range pw {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case isDigit(r):
			digit = true
		case r == ' ':
			space = true
		case r < utf8.RuneSelf && unicode.IsPrint(r):
			symbol = true
		default:
			other = true
		}
		if seen[r]++; seen[r] <= 2 {
			effective++
		}
	}
	alphabet := 0
	for _, c := range []struct {
		used bool
		size int
	}{{lower, 26}, {upper, 26}, {digit, 10}, {symbol, 33}, {space, 1}, {other, 100}} {
		if c.used {
			alphabet += c.size
		}
	}
	bits := float64(effective) * math.Log2(float64(max(alphabet, 2)))
	switch {
	case bits < 50:
		return 1
	case bits < 70:
		return 2
	case bits < 90:
		return 3
	}
	return 4
}
