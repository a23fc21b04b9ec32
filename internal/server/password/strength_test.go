package password

import "testing"

func TestStrength(t *testing.T) {
	tests := []struct {
		pw   string
		want int
	}{
		{"", 0},
		{"Gz7!kq", 0},                       // under 8
		{"correct horse battery staple", 0}, // blocklisted
		{"aaaaaaaaaaaaaaaaaaaaaaaa", 0},     // repetition
		{"Gz7!kq2W", 1},                     // under the policy minimum
		{"lilac lamp lol", 1},               // 14
		{"ab ab ab ab ab ab ab ab ab", 0},   // a repetition
		{"abc abc abd abc abd abc", 1},      // long, but few distinct characters
		{"glimmer of lakes", 3},             // 16 lower case + space
		{"Glimmer of 7 lakes", 4},           // more classes, a larger alphabet
		{"glimmering lakes at dawn", 4},     // 24
		{"日本語のパスワードはとても長いです", 4}, // 17 code points from a large alphabet
	}
	for _, tc := range tests {
		if got := Strength(tc.pw); got != tc.want {
			t.Errorf("Strength(%q) = %d; want %d", tc.pw, got, tc.want)
		}
	}
}
