package quietlocale

import (
	"os"
	"testing"
)

func TestPlain(t *testing.T) {
	cases := []struct {
		name                                   string
		lcAll, lcMessages, lang, language      string
		wantName, wantOld, wantVar, wantNewVal string
	}{
		{name: "C.UTF-8 in LANG", lang: "C.UTF-8", wantName: "LANG", wantOld: "C.UTF-8", wantVar: "LANG", wantNewVal: "C"},
		{name: "POSIX.utf8 in LC_ALL wins over LANG", lcAll: "POSIX.utf8", lang: "de_DE.UTF-8", wantName: "LC_ALL", wantOld: "POSIX.utf8", wantVar: "LC_ALL", wantNewVal: "POSIX"},
		{name: "LC_MESSAGES before LANG", lcMessages: "C.UTF-8", lang: "C.UTF-8", wantName: "LC_MESSAGES", wantOld: "C.UTF-8", wantVar: "LANG", wantNewVal: "C.UTF-8"},
		{name: "a real locale is left alone", lang: "en_GB.UTF-8", wantVar: "LANG", wantNewVal: "en_GB.UTF-8"},
		{name: "plain C is understood already", lang: "C", wantVar: "LANG", wantNewVal: "C"},
		{name: "the first variable set decides", lcAll: "fr_FR.UTF-8", lang: "C.UTF-8", wantVar: "LANG", wantNewVal: "C.UTF-8"},
		{name: "LANGUAGE is read instead", lang: "C.UTF-8", language: "de", wantVar: "LANG", wantNewVal: "C.UTF-8"},
		{name: "nothing set", wantVar: "LANG", wantNewVal: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("LC_ALL", tc.lcAll)
			t.Setenv("LC_MESSAGES", tc.lcMessages)
			t.Setenv("LANG", tc.lang)
			t.Setenv("LANGUAGE", tc.language)
			name, old := plain()
			if name != tc.wantName || old != tc.wantOld {
				t.Errorf("plain() = %q, %q; want %q, %q", name, old, tc.wantName, tc.wantOld)
			}
			if got := os.Getenv(tc.wantVar); got != tc.wantNewVal {
				t.Errorf("%s = %q, want %q", tc.wantVar, got, tc.wantNewVal)
			}
		})
	}
}

func TestRestore(t *testing.T) {
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANGUAGE", "")
	t.Setenv("LANG", "C.UTF-8")
	changed.name, changed.value = plain()
	if got := os.Getenv("LANG"); got != "C" {
		t.Fatalf("LANG after init = %q, want C", got)
	}
	Restore()
	if got := os.Getenv("LANG"); got != "C.UTF-8" {
		t.Errorf("LANG after Restore = %q, want C.UTF-8 back", got)
	}
	Restore() // a second call changes nothing
	if got := os.Getenv("LANG"); got != "C.UTF-8" {
		t.Errorf("LANG after a second Restore = %q", got)
	}
}
