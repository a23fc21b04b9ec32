package server

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// apiCSP is the Content-Security-Policy of every answer (wrap): nothing may load, run or frame
// it. HTML pages replace it with pageCSP, which adds their own inline style and script by hash.
const apiCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// pageStyle is the inline style of every HTML page magd serves.
const pageStyle = `body{font-family:sans-serif;max-width:40em;margin:3em auto;line-height:1.5}code{word-break:break-all}`

// pageCSP allows exactly pageStyle and the given inline scripts, by their SHA-256, and no
// framing: a page that sets a password or carries a ticket must not be clickjacked.
func pageCSP(scripts ...string) string {
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	csp := apiCSP + "; style-src " + hash(pageStyle)
	if len(scripts) > 0 {
		var hs []string
		for _, s := range scripts {
			hs = append(hs, hash(s))
		}
		csp += "; script-src " + strings.Join(hs, " ")
	}
	return csp
}
