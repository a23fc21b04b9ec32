package server_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// fuzzTarget is a server with an org admin session, driven in-process through its handler.
type fuzzTarget struct {
	h     http.Handler
	token string
	org   string
}

func newFuzzTarget(f *testing.F) *fuzzTarget {
	env := servertest.Start(f, servertest.WithSecurityQuestions(false), servertest.WithConfig(noPad))
	org := env.CreateOrg(f, "Fuzz Org")
	uid := env.CreateActiveUser(f, org, "f@fuzz.example", "Fay", "Fuzz", goodPW, true)
	env.AddApp(f, "app1", "App One", "/demoapps/app1", "terms", 1)
	env.Subscribe(f, org, "app1")
	lr, p := env.Login(f, env.Client(f, nil), uid, goodPW)
	if p != nil {
		f.Fatal(p)
	}
	return &fuzzTarget{h: env.Server.Handler(), token: lr.SessionToken, org: org}
}

// check sends one request and fails on a 5xx or on an error that is not a catalogued problem.
func (ft *fuzzTarget) check(t *testing.T, method, target string, body []byte, authed bool) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "https://magd.test"+target, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if authed {
		req.Header.Set("Authorization", "Bearer "+ft.token)
	}
	rec := httptest.NewRecorder()
	ft.h.ServeHTTP(rec, req)
	if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("%s %s %q: status %d: %s", method, target, body, rec.Code, rec.Body)
	}
	if rec.Code >= 400 {
		var p api.Problem
		if ct := rec.Header().Get("Content-Type"); ct != api.ProblemContentType {
			t.Fatalf("%s %s: error with Content-Type %q", method, target, ct)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatalf("%s %s: problem does not decode: %v", method, target, err)
		}
		if _, ok := api.Catalogue[p.Code]; !ok || p.Status != rec.Code || p.Detail == "" {
			t.Fatalf("%s %s: problem %+v for status %d", method, target, p, rec.Code)
		}
	}
	return rec
}

// jsonEndpoints are every JSON-taking endpoint; the fuzzer picks one by index.
func (ft *fuzzTarget) jsonEndpoints() []struct {
	path   string
	authed bool
} {
	r := strings.NewReplacer("{org}", ft.org, "{app}", "app1", "{id}", "req_x", "{enrollment}", "otp_x")
	out := []struct {
		path   string
		authed bool
	}{
		{api.PathActivationInspect, false}, {api.PathActivationComplete, false}, {api.PathLogin, false},
		{api.PathLoginMFA, false}, {api.PathCertificateConnections, true}, {api.PathTermsAcceptances, true},
		{api.PathDecision, true}, {api.PathTOTPVerify, true}, {api.PathCertificates, true},
		{api.PathRecoveryActivation, false}, {api.PathRecoveryUserIDs, false}, {api.PathRecoveryPasswordStart, false},
		{api.PathRecoveryPasswordComplete, false},
	}
	for i := range out {
		out[i].path = r.Replace(out[i].path)
	}
	return out
}

func FuzzJSONHandlers(f *testing.F) {
	ft := newFuzzTarget(f)
	for i := range ft.jsonEndpoints() {
		f.Add(uint8(i), []byte(`{}`))
		f.Add(uint8(i), []byte(`{"token":"`+strings.Repeat("A", 43)+`"}`))
	}
	f.Add(uint8(2), []byte(`{"user_id":"x","password":"y","otp":"123456","client":{"name":"n","version":"v"}}`))
	f.Add(uint8(1), []byte(`{"token":"t","password":"p","password_confirm":"p","security_answers":[{"question_id":"q01","answer":"a"}]}`))
	f.Add(uint8(3), []byte(`{"mfa_ticket":"`+strings.Repeat("b", 43)+`","otp":"000000"}`))
	f.Add(uint8(6), []byte(`{"decision":"approve","reason":"\u0000\ud800"}`))
	f.Add(uint8(5), []byte(`{"terms_version_id":"' OR 1=1 --"}`))
	f.Add(uint8(0), []byte(`{"token":1}{"token":2}`))
	f.Add(uint8(0), []byte(strings.Repeat("[", 10000)))
	f.Add(uint8(2), []byte("\xff\xfe{"))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		eps := ft.jsonEndpoints()
		ep := eps[int(which)%len(eps)]
		ft.check(t, "POST", ep.path, body, ep.authed)
	})
}

func FuzzCSR(f *testing.F) {
	ft := newFuzzTarget(f)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := csrPEM(f, key, "seed")
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(strings.Replace(good, "MII", "MIJ", 1))
	f.Add("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, csr string) {
		body, _ := json.Marshal(api.CSRRequest{CSRPEM: csr})
		rec := ft.check(t, "POST", api.PathCertificates, body, true)
		if rec.Code != http.StatusCreated && rec.Code != http.StatusBadRequest && rec.Code != http.StatusTooManyRequests && rec.Code != http.StatusConflict {
			t.Fatalf("CSR answered %d: %s", rec.Code, rec.Body)
		}
	})
}

// TestHostileRequests sends the malformed requests of the hostile-input list to every endpoint:
// each answer is a catalogued 4xx problem.
func TestHostileRequests(t *testing.T) {
	env := servertest.Start(t, servertest.WithSecurityQuestions(false), servertest.WithConfig(noPad))
	org := env.CreateOrg(t, "Org")
	uid := env.CreateActiveUser(t, org, "h@h.example", "Hal", "Host", goodPW, true)
	lr, p := env.Login(t, env.Client(t, nil), uid, goodPW)
	if p != nil {
		t.Fatal(p)
	}
	ft := &fuzzTarget{h: env.Server.Handler(), token: lr.SessionToken, org: org}
	bodies := [][]byte{nil, []byte(`{`), []byte(`[]`), []byte(`"x"`), []byte(`{"unknown_field":1}`), []byte(`{} {}`),
		bytes.Repeat([]byte(`{"a":`), 5000), append([]byte(`{"token":"`), bytes.Repeat([]byte("x"), 70000)...), []byte("{\"token\":\"\xff\"}")}
	n := 0
	for _, ep := range ft.jsonEndpoints() {
		for _, b := range bodies {
			rec := ft.check(t, "POST", ep.path, b, ep.authed)
			if rec.Code < 400 || rec.Code >= 500 {
				t.Fatalf("POST %s %.40q: %d, want a 4xx", ep.path, b, rec.Code)
			}
			n++
		}
		// Wrong content type.
		req := httptest.NewRequest("POST", "https://magd.test"+ep.path, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("Authorization", "Bearer "+ft.token)
		rec := httptest.NewRecorder()
		ft.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnsupportedMediaType && rec.Code != http.StatusNotFound {
			t.Fatalf("POST %s as text/plain: %d", ep.path, rec.Code)
		}
		n++
	}
	// Endpoints that take no input refuse a body instead of ignoring it.
	for _, target := range []string{path(api.PathAccessRequests, "app", "app1"), path(api.PathLaunch, "app", "app1"), api.PathTOTP} {
		for _, b := range [][]byte{[]byte("junk"), []byte("null"), []byte(`{"x":1}`), bytes.Repeat([]byte(" "), 70000)} {
			if rec := ft.check(t, "POST", target, b, true); rec.Code < 400 {
				t.Fatalf("POST %s with body %.20q: %d", target, b, rec.Code)
			}
			n++
		}
	}
	for _, target := range []string{"/v1/nothing", "/v1/me/applications/../../etc/passwd", "/v1/orgs/%27%20OR%201=1/access-requests", "/launch/x", "/demoapps/x?assertion=a.b"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "https://magd.test"+target, nil)
		req.Header.Set("Authorization", "Bearer "+ft.token)
		ft.h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("GET %s: %d", target, rec.Code)
		}
		n++
	}
	t.Logf("%d hostile requests answered with 4xx", n)
}
