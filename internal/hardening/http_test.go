package hardening

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// rawReq is one request exactly as a hostile caller would send it.
type rawReq struct {
	method string
	path   string // already escaped as it should go on the wire
	ctype  string // Content-Type; "" sends none
	body   []byte
	authz  string // the whole Authorization value; "" sends none
	header http.Header
}

type answer struct {
	status int
	header http.Header
	body   []byte
	proto  string
}

// rawClient speaks HTTP/1.1 over TLS trusting magd's CA, and never follows redirects, so that
// every answer is seen as sent (and header limits are the server's, not HTTP/2's).
func (w *world) rawClient(t testing.TB) *http.Client {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: w.env.CAPool, MinVersion: tls.VersionTLS12},
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}, MaxIdleConnsPerHost: 4}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// clientFrom is rawClient with its connections made from a loopback address of its own (any of
// 127.0.0.0/8 on Linux), so that the server sees another source; tls, if given, is presented.
func (w *world) clientFrom(t testing.TB, ip string, cert *tls.Certificate) *http.Client {
	t.Helper()
	cfg := &tls.Config{RootCAs: w.env.CAPool, MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	tr := &http.Transport{TLSClientConfig: cfg, DialContext: d.DialContext,
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}, MaxIdleConnsPerHost: 4}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: servertest.CheckContract(t, tr), Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// h2Client speaks HTTP/2 over TLS (one connection, multiplexed streams), never following
// redirects.
func (w *world) h2Client(t testing.TB) *http.Client {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: w.env.CAPool, MinVersion: tls.VersionTLS12}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (w *world) send(c *http.Client, r rawReq) (answer, error) {
	req, err := http.NewRequest(r.method, w.env.URL+r.path, bytes.NewReader(r.body))
	if err != nil {
		return answer{}, err
	}
	if r.body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	if r.authz != "" {
		req.Header.Set("Authorization", r.authz)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return answer{status: resp.StatusCode, header: resp.Header, body: body, proto: resp.Proto}, err
}

// leak finds what must never reach a client: stack traces, Go error strings, Go identifiers,
// driver messages.
var leak = regexp.MustCompile(`(?i)goroutine \d|panic|runtime error|\.go:\d|json: |sql: |sqlite|sql logic|` +
	`invalid character|unexpected eof|x509: |tls: |asn1: |strconv\.|<nil>|%!|\b(api|store|server|ca|password|mail)\.[A-Z]\w*`)

// problemOf checks that a is a catalogued 4xx problem+json answer and returns it.
func problemOf(a answer) (*api.Problem, error) { return problemIn(a, 400, 499) }

// problemIn is problemOf for a status range; INTERNAL is never right.
func problemIn(a answer, lo, hi int) (*api.Problem, error) {
	if a.status < lo || a.status > hi || a.status == http.StatusInternalServerError {
		return nil, fmt.Errorf("status %d, want %d..%d and not 500 (body %.300q)", a.status, lo, hi, a.body)
	}
	mt, _, err := mime.ParseMediaType(a.header.Get("Content-Type"))
	if err != nil || mt != api.ProblemContentType {
		return nil, fmt.Errorf("status %d with Content-Type %q, want %s (body %.300q)", a.status, a.header.Get("Content-Type"), api.ProblemContentType, a.body)
	}
	var p api.Problem
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("status %d: body does not decode into api.Problem: %v (%.300q)", a.status, err, a.body)
	}
	info, ok := api.Catalogue[p.Code]
	switch {
	case !ok:
		return &p, fmt.Errorf("code %q is not in api.Catalogue", p.Code)
	case info.Status != a.status || p.Status != a.status:
		return &p, fmt.Errorf("code %s: HTTP status %d, body status %d, catalogue status %d", p.Code, a.status, p.Status, info.Status)
	case strings.TrimSpace(p.Detail) == "":
		return &p, fmt.Errorf("code %s without a detail", p.Code)
	}
	if cc, nos := a.header.Get("Cache-Control"), a.header.Get("X-Content-Type-Options"); cc != "no-store" || nos != "nosniff" {
		return &p, fmt.Errorf("code %s: Cache-Control %q and X-Content-Type-Options %q, want no-store and nosniff", p.Code, cc, nos)
	}
	if o := a.header.Get("Access-Control-Allow-Origin"); o != "" {
		// Bearer tokens only: no web page of another origin gets to read an answer.
		return &p, fmt.Errorf("code %s: Access-Control-Allow-Origin %q", p.Code, o)
	}
	if m := leak.Find(a.body); m != nil {
		return &p, fmt.Errorf("code %s: the body leaks %q: %s", p.Code, m, a.body)
	}
	return &p, nil
}

// metaUp checks that the server still answers GET /v1/meta.
func (w *world) metaUp(t testing.TB, c *http.Client) {
	t.Helper()
	a, err := w.send(c, rawReq{method: http.MethodGet, path: api.PathMeta})
	if err != nil || a.status != http.StatusOK {
		t.Fatalf("GET /v1/meta after the attacks: %d %v %.200q", a.status, err, a.body)
	}
	var m api.Meta
	if err := json.Unmarshal(a.body, &m); err != nil || m.APIVersion != api.Version {
		t.Fatalf("GET /v1/meta after the attacks: %v %.200q", err, a.body)
	}
}
