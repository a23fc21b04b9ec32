package logging

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"unicode"
)

// Redacted replaces every value the redacting handler removes.
const Redacted = "[REDACTED]"

// sensitiveWords are key words whose values are never logged. Keys are split into words
// (snake, kebab, dot and camel case), so "session_token", "sessionToken" and "otp" match while
// "keyring" does not.
var sensitiveWords = map[string]bool{
	"password": true, "passwd": true, "passphrase": true, "pw": true, "pin": true,
	"token": true, "secret": true, "otp": true, "totp": true, "code": true,
	"key": true, "pem": true, "cookie": true, "authorization": true,
	"answer": true, "answers": true, "credential": true, "credentials": true, "bearer": true,
}

// harmlessCodeWords mark keys like "status_code" or "error_code": catalogue codes, not secrets.
var harmlessCodeWords = map[string]bool{"status": true, "error": true, "err": true, "problem": true, "mag": true, "exit": true, "http": true}

// SensitiveKey reports whether an attribute named key may carry a secret.
func SensitiveKey(key string) bool {
	words := splitWords(key)
	hit := false
	for _, w := range words {
		if sensitiveWords[w] {
			hit = true
		}
	}
	if !hit {
		return false
	}
	// "status_code", "error_code": the only sensitive word is "code", qualified as a catalogue code.
	onlyCode := true
	for _, w := range words {
		if sensitiveWords[w] && w != "code" {
			onlyCode = false
		}
	}
	if onlyCode {
		for _, w := range words {
			if harmlessCodeWords[w] {
				return false
			}
		}
	}
	return true
}

func splitWords(key string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(key)
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return words
}

var (
	pemKeyRE = regexp.MustCompile(`(?s)-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)`)
	// Session tokens (mst_ + base64url) and secrets carried in URLs and form-like text:
	// magdesk://activate?token=..., #token=..., password=..., secret=... (otpauth:// links).
	tokenRE  = regexp.MustCompile(`mst_[A-Za-z0-9_-]+`)
	paramRE  = regexp.MustCompile(`(?i)\b(token|access_token|password|passwd|secret|code|otp|key)=([^&#\s"']+)`)
	bearerRE = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}`)
)

// Scrub removes secrets from free text: PEM private keys, session tokens, secrets in URL
// parameters and Authorization header values.
func Scrub(s string) string {
	s = pemKeyRE.ReplaceAllString(s, "[REDACTED PRIVATE KEY]")
	s = tokenRE.ReplaceAllString(s, "mst_"+Redacted)
	s = paramRE.ReplaceAllString(s, "${1}="+Redacted)
	s = bearerRE.ReplaceAllString(s, "${1} "+Redacted)
	return s
}

// redactHandler drops the values of sensitive attributes and scrubs all text before it reaches
// the next handler.
type redactHandler struct{ next slog.Handler }

// NewRedactingHandler wraps next so that no secret reaches it.
func NewRedactingHandler(next slog.Handler) slog.Handler { return redactHandler{next} }

func (h redactHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h redactHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Scrub(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = redactAttr(a)
	}
	return redactHandler{h.next.WithAttrs(red)}
}

func (h redactHandler) WithGroup(name string) slog.Handler {
	return redactHandler{h.next.WithGroup(name)}
}

func redactAttr(a slog.Attr) slog.Attr {
	if SensitiveKey(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, ga := range g {
			red[i] = redactAttr(ga)
		}
		return slog.Group(a.Key, red...)
	case slog.KindString:
		return slog.String(a.Key, Scrub(v.String()))
	case slog.KindAny:
		// Errors, structs, byte slices: log their text form, scrubbed (a struct's fields cannot
		// be checked by name here, so its formatted text is the only safe form).
		return slog.String(a.Key, Scrub(anyText(v.Any())))
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func anyText(v any) string {
	switch x := v.(type) {
	case error:
		return x.Error()
	case []byte:
		return string(x)
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprintf("%+v", v)
}
