package password

import (
	"bytes"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mag-desktop/magdesk/api"
)

func TestPolicyCheck(t *testing.T) {
	ctx := []string{"jdoe_8421", "Acme Corporation", "Li", ""}
	tests := []struct {
		pw   string
		want api.Code // "" = accepted
	}{
		// length, in code points after NFKC
		{"short", api.CodePasswordTooShort},
		{"tiny password!", api.CodePasswordTooShort},        // 14
		{"tiny passwords!", ""},                             // 15
		{"cafe\u0301 au lait o", api.CodePasswordTooShort},  // 15 runes, 14 after NFKC
		{"\ufb01ne tea leaves", ""},                         // 14 runes, 15 after NFKC
		{"日本語のパスワードはとても長いです", ""},                           // 17 CJK code points, 51 bytes
		{strings.Repeat("plum tree ", 12) + "plum tre", ""}, // 128
		{strings.Repeat("plum tree ", 12) + "plum tree", api.CodePasswordTooLong},
		// blocklist: whole string, case and separators ignored
		{"passwordpassword", api.CodePasswordBlocklisted},
		{"correct horse battery staple", api.CodePasswordBlocklisted},
		{"Correct-Horse_Battery.Staple", api.CodePasswordBlocklisted},
		{"ILoveYouForever", api.CodePasswordBlocklisted},
		{"1qaz2wsx3edc4rfv", api.CodePasswordBlocklisted},
		{"monkey monkey monkey", api.CodePasswordBlocklisted},
		// common word wrapped in digits and symbols, and leet spellings
		{"Password123456789!", api.CodePasswordBlocklisted},
		{"P@ssw0rd2026!!!!!", api.CodePasswordBlocklisted},
		{"!!!!2026Sunshine!!!!", api.CodePasswordBlocklisted},
		{"@dministrator2026!", api.CodePasswordBlocklisted}, // leading leet symbol
		{"Tr0ub4dor Tr0ub4dor", ""},                         // not a listed word
		// context words and their derivatives
		{"Exostar2026!!!!!!", api.CodePasswordBlocklisted},
		{"MAG MAG MAG MAG MAG MAG", api.CodePasswordBlocklisted},
		{"jdoe_8421jdoe_8421", api.CodePasswordBlocklisted},
		{"acme corporation 2026", api.CodePasswordBlocklisted},
		{"magnificent sunsets over lakes", ""},
		{"jdoe_8421 likes green tea", ""},
		{"Li 8394 7261 5503 2219", ""}, // a two-letter context word is no core
		// repetitions, sequences, keyboard walks
		{"aaaaaaaaaaaaaaa", api.CodePasswordBlocklisted},
		{"abcabcabcabcabca", api.CodePasswordBlocklisted},
		{"123456789012345", api.CodePasswordBlocklisted},
		{"987654321098765", api.CodePasswordBlocklisted},
		{"abcdefghijklmnop", api.CodePasswordBlocklisted},
		{"zyxwvutsrqponmlk", api.CodePasswordBlocklisted},
		{"qwertyuiopasdfgh", api.CodePasswordBlocklisted},
		{"mnbvcxzlkjhgfdsa", api.CodePasswordBlocklisted},
		{"ababababababababc", ""},
		{"purple elephant juggling", ""},
		{"Ünïcödé pässwörd über alles", ""},
	}
	for _, tc := range tests {
		err := DefaultPolicy.Check(tc.pw, ctx...)
		if tc.want == "" {
			if err != nil {
				t.Errorf("Check(%q) = %v; want accepted", tc.pw, err)
			}
			continue
		}
		var p *api.Problem
		if !errors.As(err, &p) || p.Code != tc.want {
			t.Errorf("Check(%q) = %v; want %s", tc.pw, err, tc.want)
			continue
		}
		if p.Status != 400 || len(p.Errors) != 1 || p.Errors[0].Field != "password" || p.Errors[0].Code != tc.want {
			t.Errorf("Check(%q): problem %+v lacks status 400 or the password field error", tc.pw, p)
		}
		if strings.Contains(p.Detail, tc.pw) {
			t.Errorf("Check(%q): the detail repeats the password: %q", tc.pw, p.Detail)
		}
	}
}

func TestPolicyLowerMinimum(t *testing.T) {
	p := Policy{MinLength: 8, MaxLength: 64}
	for pw, want := range map[string]api.Code{
		"letmein1":  api.CodePasswordBlocklisted,
		"iloveyou":  api.CodePasswordBlocklisted,
		"12345678":  api.CodePasswordBlocklisted,
		"Gz7!kq2W":  "",
		"seven ch":  "",
		"sevench":   api.CodePasswordTooShort,
		"qwerty123": api.CodePasswordBlocklisted,
	} {
		err := p.Check(pw)
		if (want == "") != (err == nil) || (err != nil && !errors.Is(err, &api.Problem{Code: want})) {
			t.Errorf("Check(%q) = %v; want %q", pw, err, want)
		}
	}
}

func TestPolicyAPI(t *testing.T) {
	if got := DefaultPolicy.API(); got != (api.PasswordPolicy{MinLength: 15, MaxLength: 128, Blocklist: true}) {
		t.Fatalf("API() = %+v", got)
	}
}

func TestBlocklistFile(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(blocklistFile, "\n"), "\n")
	if n := len(lines); n < 2000 || n > 20000 {
		t.Fatalf("blocklist has %d entries; want a few thousand", n)
	}
	if !slices.IsSorted(lines) || len(slices.Compact(slices.Clone(lines))) != len(lines) {
		t.Fatal("blocklist is not sorted and unique")
	}
	for _, l := range lines {
		if compact(l) != l || utf8.RuneCountInString(l) < 3 {
			t.Fatalf("entry %q is not in compact form or shorter than 3", l)
		}
	}
	if len(blocklist()) != len(lines) {
		t.Fatalf("loaded %d entries from %d lines", len(blocklist()), len(lines))
	}
}

// TestBlocklistIsGenerated keeps the committed list reproducible from gen_blocklist.go.
func TestBlocklistIsGenerated(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(goBin, "run", "gen_blocklist.go", "-o", "-").Output()
	if err != nil {
		t.Fatalf("go run gen_blocklist.go: %v", err)
	}
	if !bytes.Equal(out, []byte(blocklistFile)) {
		t.Fatal("blocklist.txt differs from the generator's output: run go generate ./server/password")
	}
}

func FuzzPolicyCheck(f *testing.F) {
	for _, s := range []string{"", "correct horse battery staple", "P@ssw0rd2026!!!!!", "123456789012345", "\xff\xfe\xfd", "e\u0301\u0301\u0301"} {
		f.Add(s, "jdoe_8421")
	}
	f.Fuzz(func(t *testing.T, pw, ctx string) {
		err := DefaultPolicy.Check(pw, ctx)
		if err == nil {
			return
		}
		var p *api.Problem
		if !errors.As(err, &p) {
			t.Fatalf("error is not a problem: %v", err)
		}
		switch p.Code {
		case api.CodePasswordTooShort, api.CodePasswordTooLong, api.CodePasswordBlocklisted:
		default:
			t.Fatalf("unexpected code %s", p.Code)
		}
	})
}

func BenchmarkPolicyCheck(b *testing.B) {
	for b.Loop() {
		if err := DefaultPolicy.Check("purple elephant juggling", "jdoe_8421", "Acme"); err != nil {
			b.Fatal(err)
		}
	}
}
