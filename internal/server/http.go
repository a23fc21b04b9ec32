package server

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/store"
)

// handler is an endpoint that reports failures as errors; *api.Problem values reach the client,
// anything else is logged and answered with INTERNAL.
type handler func(w http.ResponseWriter, r *http.Request) error

type ctxKey int

const requestIDKey ctxKey = 0

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey).(string)
	return id
}

// wrap runs every request: request id, body limit, timeout, panic recovery and security headers.
func (s *Server) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := randomHex(8)
		w.Header().Set(api.HeaderRequestID, id)
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Strict-Transport-Security", "max-age=31536000")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", apiCSP)
		h.Set("X-Frame-Options", "DENY")
		// The Date header carries the server's clock, which is how clients tell users that
		// their clock is wrong before one-time codes fail.
		h.Set("Date", s.now().UTC().Format(http.TimeFormat))
		timeout := requestTimeout
		if eventsRequest(r) {
			timeout += api.EventsMaxWait * time.Second
		}
		start := time.Now()
		aw := &answered{ResponseWriter: w}
		w = aw
		ctx, cancel := context.WithTimeout(context.WithValue(context.WithValue(r.Context(), requestIDKey, id), answeredKey, aw), timeout)
		defer cancel()
		r = r.WithContext(ctx)
		defer func() { s.metrics.observe(r, cmp.Or(aw.status, http.StatusOK), aw.code, time.Since(start)) }()
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic in handler", "path", logPath(r), "request_id", id, "panic", fmt.Sprint(v))
				s.problem(w, r, api.NewProblem(api.CodeInternal, "Something went wrong on the server. Try again; if it keeps happening, give the request id to your administrator."))
			}
		}()
		if strings.HasPrefix(r.URL.Path, "/v1/") && !urlIsText(r) {
			s.problem(w, r, invalid("The address holds a character that is not text (a NUL, or bytes that are not UTF-8); check the link or the value you typed."))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// urlIsText: an API path or query holding NUL or bytes that are not UTF-8 names nothing magd
// stores (PostgreSQL cannot even compare such text), so it is refused the same way on every
// engine. (The browser pages hash or check what their paths carry before any lookup.)
func urlIsText(r *http.Request) bool {
	ok := func(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
	if !ok(r.URL.Path) {
		return false
	}
	for k, vs := range r.URL.Query() {
		if !ok(k) || slices.ContainsFunc(vs, func(v string) bool { return !ok(v) }) {
			return false
		}
	}
	return true
}

// holdsNUL reports whether a decoded request holds a string with U+0000 anywhere: PostgreSQL
// cannot store it, and no field of the API has a use for it.
func holdsNUL(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		return strings.ContainsRune(v.String(), 0)
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil() && holdsNUL(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if holdsNUL(v.Field(i)) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if holdsNUL(v.Index(i)) {
				return true
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if holdsNUL(it.Key()) || holdsNUL(it.Value()) {
				return true
			}
		}
	}
	return false
}

// h adapts a handler to http.Handler.
func (s *Server) h(fn handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// fail answers with the problem behind err.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var p *api.Problem
	switch {
	case errors.As(err, &p):
	case errors.Is(err, store.ErrFull), errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		p = api.NewProblem(api.CodeStorageFull, "The server has run out of disk space; nothing was changed. Try again later.")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		p = api.NewProblem(api.CodeServerBusy, "The server took too long to answer. Try again in a moment.")
		p.RetryAfter = 2
	default:
		s.log.Error("request failed", "path", logPath(r), "request_id", requestID(r), "err", err)
		p = api.NewProblem(api.CodeInternal, "Something went wrong on the server. Try again; if it keeps happening, give the request id to your administrator.")
	}
	s.problem(w, r, p)
}

// logPath is the request path fit for a log: a launch ticket in it is a bearer secret.
func logPath(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/launch/") {
		return "/launch/(ticket)"
	}
	return r.URL.Path
}

// problem writes a problem+json answer.
func (s *Server) problem(w http.ResponseWriter, r *http.Request, p *api.Problem) {
	cp := *p
	cp.RequestID = requestID(r)
	noteProblem(r, cp.Code)
	if cp.Status == 0 {
		cp.Status = http.StatusInternalServerError
	}
	if cp.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(cp.RetryAfter))
	}
	if cp.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="magd"`)
	}
	w.Header().Set("Content-Type", api.ProblemContentType)
	w.WriteHeader(cp.Status)
	_ = json.NewEncoder(w).Encode(&cp)
}

// writeJSON writes a JSON answer.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

func invalid(detail string, fields ...api.FieldError) *api.Problem {
	p := api.NewProblem(api.CodeValidationFailed, detail)
	p.Errors = fields
	return p
}

// decode reads exactly one JSON object into v: Content-Type application/json, no unknown
// fields, nothing after it, within the body limit.
func decode(r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return api.NewProblem(api.CodeUnsupportedMediaType, "Send the request body as JSON with Content-Type: application/json.")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return decodeProblem(err)
		}
		return invalid("The request body must hold exactly one JSON object.")
	}
	if holdsNUL(reflect.ValueOf(v)) {
		return invalid("A text field holds a NUL character (U+0000); remove it and try again.")
	}
	return nil
}

func decodeProblem(err error) *api.Problem {
	var mbe *http.MaxBytesError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return api.NewProblem(api.CodePayloadTooLarge, fmt.Sprintf("The request body is larger than %d bytes.", mbe.Limit))
	case errors.Is(err, io.EOF):
		return invalid("The request body is empty; send a JSON object.")
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("The request body is not valid JSON.")
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "(body)"
		}
		return invalid("A field has the wrong type.", api.FieldError{Field: field, Code: api.CodeValidationFailed,
			Message: "expected " + jsonKind(te.Type)})
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return invalid("The request has a field this server does not know.", api.FieldError{Field: name,
			Code: api.CodeValidationFailed, Message: "unknown field"})
	default:
		return invalid("The request body could not be read as JSON.")
	}
}

// jsonKind names a Go type the way a JSON client thinks of it (never a Go type name).
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8,
		reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}

// noBody is for POSTs that take no input: an empty body or {} is fine, anything else is refused
// rather than silently ignored.
func noBody(r *http.Request) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return decodeProblem(err)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	if b[0] != '{' {
		return invalid("This request takes no input; send no body or {}.")
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	var empty struct{}
	return decode(r, &empty)
}

// randomToken returns 256 random bits, base64url without padding (43 characters).
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newID makes an opaque id with a readable prefix.
func newID(prefix string) string { return prefix + "_" + randomHex(10) }

// tokenHash is how tokens are stored: hex SHA-256.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// subKey derives a purpose-bound key from the server secret.
func subKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// clientIP is the remote address without the port (no proxy headers are trusted).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// audit records a security event; a failure to audit is logged, never hidden.
func (s *Server) audit(ctx context.Context, q store.Q, r *http.Request, typ, actor, subject, details string) error {
	e := store.AuditEvent{ID: newID("evt"), At: s.now(), Type: typ, Actor: actor, Subject: subject, Details: details}
	if r != nil {
		e.IP, e.RequestID = clientIP(r), requestID(r)
	}
	return q.Audit(ctx, e)
}
