package password

//go:generate go run gen_blocklist.go -o blocklist.txt

import (
	_ "embed"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

//go:embed blocklist.txt
var blocklistFile string

var blocklist = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, strings.Count(blocklistFile, "\n"))
	for _, line := range strings.Split(blocklistFile, "\n") {
		if line != "" {
			m[line] = struct{}{}
		}
	}
	return m
})

// Words of the service itself, always treated as context words.
var serviceWords = []string{"exostar", "mag", "password", "magdesktop", "magportal"}

// compact is the form the blocklist compares: NFKC, case-folded, with spaces and the usual
// separators removed, so "Correct Horse-Battery Staple" matches "correcthorsebatterystaple".
func compact(s string) string {
	s = norm.NFKC.String(cases.Fold().String(norm.NFKC.String(s)))
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' || r == '_' || r == '.' {
			return -1
		}
		return r
	}, s)
}

var unleet = strings.NewReplacer("0", "o", "1", "i", "3", "e", "4", "a", "5", "s", "7", "t", "@", "a", "$", "s", "!", "i")

// blocked says why pw is too guessable ("" if it is not). The comparison is whole-string
// (NIST SP 800-63B-4) on the compact form, its "leet" spelling undone, and its core with
// leading and trailing digits and symbols cut off ("Password2026!" -> "password"); the core
// also may not be a context word or a repetition of a listed word.
func blocked(pw string, contextWords []string) string {
	k := compact(pw)
	if trivial(k) {
		return "a repetition or a sequence of characters"
	}
	ctx := make(map[string]bool, len(contextWords)+len(serviceWords))
	for _, w := range slices.Concat(contextWords, serviceWords) {
		// One or two letters (a short name) would block too much as a password's core.
		if c := compact(w); utf8.RuneCountInString(c) >= 3 {
			ctx[c] = true
		}
	}
	list := blocklist()
	for _, c := range candidates(k) {
		if _, ok := list[c]; ok {
			return "on a list of commonly used passwords"
		}
		if ctx[c] {
			return "made from your name, your user ID, your organisation or the name of this service"
		}
		if unit := period(c); unit != c {
			if _, ok := list[unit]; ok || ctx[unit] {
				return "a repeated common word"
			}
		}
	}
	return ""
}

// candidates are the forms of k compared with the list: itself, its core, and both un-leeted.
func candidates(k string) []string {
	core := strings.TrimFunc(k, func(r rune) bool { return !unicode.IsLetter(r) })
	out := []string{k, unleet.Replace(k)}
	if core != "" && core != k {
		out = append(out, core, unleet.Replace(core))
	}
	// The core cuts a leading leet symbol off ("@dmin2026" -> "dmin"); the stem keeps and un-leets it.
	if stem := strings.TrimRightFunc(k, func(r rune) bool { return !unicode.IsLetter(r) }); stem != k && stem != "" {
		out = append(out, unleet.Replace(stem))
	}
	return out
}

// period returns the shortest unit that s is a whole repetition of (s itself if none).
func period(s string) string {
	r := []rune(s)
	n := len(r)
	for p := 1; p <= n/2; p++ {
		if n%p == 0 && repeats(r, p) {
			return string(r[:p])
		}
	}
	return s
}

func repeats(r []rune, p int) bool {
	for i := p; i < len(r); i++ {
		if r[i] != r[i-p] {
			return false
		}
	}
	return true
}

// Keyboard rows in order, with and without their punctuation keys, forwards and backwards,
// for walks such as "qwertyuiopasdfg" or "0987654321poiuy".
var keyboardWalks = func() []string {
	rows := []string{"`1234567890-=qwertyuiop[]\\asdfghjkl;'zxcvbnm,./", "1234567890qwertyuiopasdfghjklzxcvbnm"}
	for _, row := range rows[:2] {
		r := []rune(row)
		slices.Reverse(r)
		rows = append(rows, string(r))
	}
	return rows
}()

// trivial catches what no list can hold: one short unit repeated ("aaaa...", "abcabc...",
// also with a cut-off last unit), runs of consecutive characters up or down ("123456789012345",
// "zyxwv...") and keyboard walks.
func trivial(k string) bool {
	r := []rune(k)
	if len(r) < 2 {
		return true
	}
	for p := 1; p <= 4 && p < len(r); p++ {
		if repeats(r, p) {
			return true
		}
	}
	if sequential(r, 1) || sequential(r, -1) {
		return true
	}
	for _, walk := range keyboardWalks {
		if strings.Contains(walk, k) {
			return true
		}
	}
	return false
}

// sequential reports whether every character is the previous one plus step; digits wrap
// around (…8, 9, 0, 1…) the way people type them.
func sequential(r []rune, step rune) bool {
	for i := 1; i < len(r); i++ {
		a, b := r[i-1], r[i]
		if isDigit(a) && isDigit(b) {
			if (b-a-step+20)%10 != 0 {
				return false
			}
		} else if b-a != step {
			return false
		}
	}
	return true
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }
