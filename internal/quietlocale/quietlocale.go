// Package quietlocale stops Fyne from printing "Fyne error: Error parsing user locale C" on
// every run under the C.UTF-8 locale (the default of many containers and minimal systems).
//
// Fyne's lang package reads the locale in its package init, through go-locale, which takes the
// first of LC_ALL, LC_MESSAGES and LANG that is set; it knows "C" and "POSIX", but turns
// "C.UTF-8" into the tag "C", which does not parse. That happens before main runs, so this
// package does its work in init: Go initializes packages in the order of their import paths
// among those whose imports are done (Go 1.21+), and this one imports only os and strings, so
// it runs before fyne.io/fyne/v2/lang, whose imports (go-i18n, x/text) come after it. Main
// imports it and calls Restore first thing. The C locale means English to Fyne either way.
package quietlocale

import (
	"os"
	"strings"
)

// changed is the variable init rewrote and its value before, for Restore.
var changed struct {
	name, value string
}

func init() { changed.name, changed.value = plain() }

// plain rewrites the locale variable go-locale reads from "C.<charset>" or "POSIX.<charset>"
// to "C" or "POSIX", and returns its name and former value ("" when nothing changed).
// LANGUAGE set means go-locale reads that instead: nothing to do then.
func plain() (name, value string) {
	for _, n := range [...]string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := os.Getenv(n)
		if v == "" {
			continue
		}
		base, _, dotted := strings.Cut(v, ".")
		if !dotted || (base != "C" && base != "POSIX") || os.Getenv("LANGUAGE") != "" {
			return "", ""
		}
		if os.Setenv(n, base) != nil {
			return "", ""
		}
		return n, v
	}
	return "", ""
}

// Restore puts back the locale init changed, so the programs magdesk starts (the browser,
// certutil) see the user's locale as it was.
func Restore() {
	if changed.name != "" {
		_ = os.Setenv(changed.name, changed.value)
		changed.name = ""
	}
}
