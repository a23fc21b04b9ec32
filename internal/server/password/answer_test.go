package password

import "testing"

func TestNormalizeAnswer(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  New   York ", "new york"},
		{"NEW\tYORK\n", "new york"},
		{"new\u00a0york", "new york"}, // no-break space
		{"Straße", "strasse"},
		{"ＡＢＣ １２３", "abc 123"},
		{"cafe\u0301", "caf\u00e9"},
		{"   ", ""},
		{"", ""},
	}
	for _, tc := range tests {
		if got := NormalizeAnswer(tc.in); got != tc.want {
			t.Errorf("NormalizeAnswer(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzNormalizeAnswer(f *testing.F) {
	for _, s := range []string{"  New   York ", "Straße", "ＡＢＣ", "cafe\u0301", "\u0130stanbul", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := NormalizeAnswer(s)
		if twice := NormalizeAnswer(once); twice != once {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, once, twice)
		}
	})
}
