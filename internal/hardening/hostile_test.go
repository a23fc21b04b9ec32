package hardening

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// hcase is one hostile request and what must come back.
type hcase struct {
	name string
	req  rawReq
	want api.Code // the code that must come back; "" for any catalogued 4xx
	// mayAccept: a 2xx is also right (the value is valid data for this field by design).
	mayAccept bool
	// netHTTP: refused by net/http itself before any handler runs (headers beyond
	// Server.MaxHeaderBytes): only the 4xx status is the server's to choose.
	netHTTP bool
	// cleanTo: ServeMux redirects a path with dot segments to its clean form on the same
	// server; that redirect (and only to exactly this path) is a right answer too.
	cleanTo string
}

// Poisoned strings: SQL and path metacharacters, control characters, template and log
// injection, oversized and odd Unicode.
var (
	sqlPoison  = []string{`' OR '1'='1`, `'; DROP TABLE accounts; --`, `" OR ""="`, `1) UNION SELECT token_hash FROM sessions --`, `%' AND 1=1 --`, `'||(SELECT sqlite_version())||'`}
	pathPoison = []string{"../../../../etc/passwd", `..\..\..\windows\win.ini`, "/dev/zero", "%2e%2e%2f%2e%2e%2f", "file:///etc/shadow", "a/../../b", "x\x00y", `C:\boot.ini`}
	miscPoison = []string{strings.Repeat("A", 10000), "\u202egnp.exe", "${jndi:ldap://127.0.0.1/x}", "{{7*7}}", "<script>alert(1)</script>",
		"a\r\nX-Injected: 1", "😀\u0301\ufeff", " ", ""}
	poisons = slices.Concat(sqlPoison, pathPoison, miscPoison)
	// Extra raw path segments beyond the escaped poisons.
	rawSegments = []string{"%00", "%ff%fe", "%252e%252e%252f", ";x=1", "%3B", "*", "%0d%0aX-Injected:%201", strings.Repeat("z", 4000)}
)

// contentTypes that are not JSON (or not a JSON this API takes).
var badContentTypes = []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
	"application/xml", "text/json", "application/jsonx", ";;;", "application/json-patch+json", "*/*"}

func deepArray(n int) []byte {
	return []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
}

func deepObject(field string, n int) []byte {
	return []byte(`{"` + field + `":` + strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) + "}")
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// with returns a copy of body with field set to v.
func with(body map[string]any, field string, v any) map[string]any {
	out := make(map[string]any, len(body)+1)
	maps.Copy(out, body)
	out[field] = v
	return out
}

// bodyCases are the mutations of an endpoint's body; every one must be refused.
func bodyCases(e endpoint, base rawReq) []hcase {
	var cs []hcase
	add := func(name string, r rawReq, want api.Code, ok bool) {
		cs = append(cs, hcase{name: e.name + "/" + name, req: r, want: want, mayAccept: ok})
	}
	good := []byte("{}")
	if e.body != nil {
		good = mustJSON(e.body)
	}
	withBody := func(ctype string, b []byte) rawReq {
		r := base
		r.ctype, r.body = ctype, b
		return r
	}
	add("no content type", withBody("", good), api.CodeUnsupportedMediaType, false)
	for _, ct := range badContentTypes {
		add("content type "+ct, withBody(ct, good), api.CodeUnsupportedMediaType, false)
	}
	const js = "application/json"
	type shape struct {
		name string
		body []byte
	}
	shapes := []shape{
		{"truncated", good[:len(good)/2]}, {"open brace", []byte("{")}, {"array", []byte("[]")}, {"null", []byte("null")},
		{"string", []byte(`"x"`)}, {"number", []byte("123")}, {"true", []byte("true")}, {"two objects", append(append([]byte{}, good...), good...)},
		{"trailing garbage", append(append([]byte{}, good...), "x"...)}, {"deep array", deepArray(20000)},
		{"deep object", deepObject("x", 5000)}, {"bom", append([]byte("\xef\xbb\xbf"), good...)},
		{"invalid utf-8 outside strings", []byte("{\xff\xfe}")}, {"nul bytes", []byte("\x00\x00\x00")},
		{"huge > limit", mustJSON(with(e.body, "pad", strings.Repeat("p", 70<<10)))},
		{"huge 1 MiB", bytes.Repeat([]byte(" "), 1<<20)}, {"unknown field", mustJSON(with(e.body, "is_admin", true))},
	}
	if e.body != nil {
		shapes = append(shapes, shape{"empty object", []byte("{}")}, shape{"empty", nil})
	}
	for _, s := range shapes {
		want := api.Code("")
		if strings.HasPrefix(s.name, "huge") {
			want = api.CodePayloadTooLarge
		}
		add(s.name, withBody(js, s.body), want, false)
	}
	// Nested strings: the security answers' question ids (and answers, where a valid answer
	// would not complete anything).
	if answers, ok := e.body["security_answers"].([]api.SecurityAnswer); ok {
		for i, p := range poisons {
			qa := slices.Clone(answers)
			qa[0].QuestionID = p
			add(fmt.Sprintf("security_answers[0].question_id poison %d", i), withBody(js, mustJSON(with(e.body, "security_answers", qa))), "", false)
			if e.name != "complete" {
				qa[0].QuestionID, qa[1].Answer = answers[0].QuestionID, p
				add(fmt.Sprintf("security_answers[1].answer poison %d", i), withBody(js, mustJSON(with(e.body, "security_answers", qa))), "", false)
			}
		}
	}
	keys := make([]string, 0, len(e.body))
	for k := range e.body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range []any{12345, []any{"x"}, map[string]any{"x": 1}, true, 1e308} {
			add(fmt.Sprintf("%s as %T", k, v), withBody(js, mustJSON(with(e.body, k, v))), api.CodeValidationFailed, false)
		}
		if _, isString := e.body[k].(string); !isString {
			continue
		}
		for i, p := range poisons {
			add(fmt.Sprintf("%s poison %d", k, i), withBody(js, mustJSON(with(e.body, k, p))), "", e.accepts[k])
		}
		// Invalid UTF-8 inside the string (json.Marshal would repair it, so splice it in).
		b := bytes.Replace(mustJSON(with(e.body, k, "@@BAD@@")), []byte("@@BAD@@"), []byte("\xff\xfe\xc0\xaf"), 1)
		add(k+" invalid utf-8", withBody(js, b), "", e.accepts[k])
	}
	return cs
}

// authCases attack the bearer token and the Expected-User-Id header of an authenticated endpoint.
func authCases(w *world, e endpoint, base rawReq) []hcase {
	var cs []hcase
	add := func(name, authz string, h http.Header, want api.Code) {
		r := base
		r.authz, r.header = authz, h
		cs = append(cs, hcase{name: e.name + "/" + name, req: r, want: want})
	}
	unauth := api.CodeUnauthenticated
	add("no token", "", nil, unauth)
	add("bare Bearer", "Bearer", nil, unauth)
	add("Bearer and space", "Bearer ", nil, unauth)
	add("Basic", "Basic YWRhOmNvcHBlcg==", nil, unauth)
	add("unknown token", "Bearer mst_"+strings.Repeat("A", 43), nil, unauth)
	add("token plus one", "Bearer "+e.token+"x", nil, unauth)
	add("token cut", "Bearer "+e.token[:len(e.token)-1], nil, unauth)
	add("garbage 8 KiB", "Bearer "+strings.Repeat("g", 8<<10), nil, unauth)
	add("sql token", "Bearer mst_' OR '1'='1' --", nil, unauth)
	add("revoked session", "Bearer "+w.revokedTok, nil, api.CodeSessionExpired)
	// A token in the address would end up in logs and browser history: never accepted there.
	for _, q := range []string{"access_token", "token", "session_token"} {
		r := base
		r.authz, r.path = "", base.path+"?"+q+"="+url.QueryEscape(e.token)
		cs = append(cs, hcase{name: e.name + "/token in query " + q, req: r, want: unauth})
	}
	add("other user's token", "Bearer "+w.otherTok, http.Header{api.HeaderExpectedUserID: {e.owner}}, api.CodeSessionAccountMismatch)
	for i, p := range []string{"' OR 1=1 --", "../" + e.owner, e.owner + "x", strings.Repeat("u", 5000)} {
		add(fmt.Sprintf("expected user poison %d", i), "Bearer "+e.token, http.Header{api.HeaderExpectedUserID: {p}}, api.CodeSessionAccountMismatch)
	}
	if e.admin {
		add("member not admin", "Bearer "+w.userTok, nil, api.CodeForbidden)
		add("admin of another org", "Bearer "+w.otherTok, nil, api.CodeForbidden)
	}
	return cs
}

// pathCases poison each placeholder of the path.
func pathCases(e endpoint, base rawReq) []hcase {
	var cs []hcase
	names := make([]string, 0, len(e.params))
	for k := range e.params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		segs := make([]string, 0, len(poisons)+len(rawSegments))
		for _, p := range poisons {
			if p != "" && p != " " {
				segs = append(segs, url.PathEscape(p))
			}
		}
		segs = append(segs, rawSegments...)
		for i, seg := range segs {
			r := base
			params := maps.Clone(e.params)
			params[k] = seg
			r.path = fill(e.path, params)
			cs = append(cs, hcase{name: fmt.Sprintf("%s/path %s poison %d", e.name, k, i), req: r})
		}
	}
	return cs
}

// allCases is the whole table.
func allCases(t testing.TB, w *world) []hcase {
	eps := w.endpoints(t)
	routed := routedMethods(eps)
	var cs []hcase
	for _, e := range eps {
		base := rawReq{method: e.method, path: e.filled()}
		if e.token != "" {
			base.authz = "Bearer " + e.token
		}
		if e.body != nil || e.bodyless {
			base.ctype = "application/json"
			base.body = []byte("{}")
			if e.body != nil {
				base.body = mustJSON(e.body)
			}
		}
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND"} {
			if !routed[e.path][m] {
				r := base
				r.method = m
				cs = append(cs, hcase{name: e.name + "/method " + m, req: r, want: api.CodeMethodNotAllowed})
			}
		}
		if e.token != "" {
			cs = append(cs, authCases(w, e, base)...)
		}
		cs = append(cs, pathCases(e, base)...)
		if e.body != nil || e.bodyless {
			cs = append(cs, bodyCases(e, base)...)
		}
		// Headers far beyond the server's limit, with otherwise the same request.
		long := base
		long.header = http.Header{"X-Pad": {strings.Repeat("h", 1<<20)}}
		cs = append(cs, hcase{name: e.name + "/header 1 MiB", req: long, netHTTP: true})
		if e.token != "" {
			// Long (but allowed) and many headers around a wrong token.
			big := base
			big.authz = "Bearer mst_" + strings.Repeat("B", 43)
			big.header = http.Header{"X-Pad": {strings.Repeat("h", 48<<10)}}
			cs = append(cs, hcase{name: e.name + "/header 48 KiB", req: big, want: api.CodeUnauthenticated})
			many := big
			many.header = http.Header{}
			for i := range 300 {
				many.header.Set(fmt.Sprintf("X-H-%d", i), strings.Repeat("v", 100))
			}
			cs = append(cs, hcase{name: e.name + "/300 headers", req: many, want: api.CodeUnauthenticated})
		}
	}
	// Query strings the org admin list reads.
	for i, p := range append(slices.Clone(sqlPoison), "pending&status=all", strings.Repeat("s", 3000)) {
		cs = append(cs, hcase{name: fmt.Sprintf("org-requests/status poison %d", i), want: api.CodeValidationFailed,
			req: rawReq{method: "GET", path: fill(api.PathOrgAccessRequests, map[string]string{"org": w.org}) + "?status=" + url.QueryEscape(p),
				authz: "Bearer " + w.adminTok}})
	}
	// Replayed and forged activation tokens.
	for _, tc := range []struct {
		name, path, tok string
		want            api.Code
	}{
		{"inspect used token", api.PathActivationInspect, w.usedToken, api.CodeActivationTokenUsed},
		{"complete used token", api.PathActivationComplete, w.usedToken, api.CodeActivationTokenUsed},
		{"inspect token case-flipped", api.PathActivationInspect, flipCase(w.pendingToken), api.CodeActivationTokenInvalid},
		{"inspect token + 1", api.PathActivationInspect, w.pendingToken + "A", api.CodeActivationTokenInvalid},
		{"inspect session token as activation token", api.PathActivationInspect, w.userTok, api.CodeActivationTokenInvalid},
	} {
		body := map[string]any{"token": tc.tok}
		if tc.path == api.PathActivationComplete {
			body = map[string]any{"token": tc.tok, "password": pwUser, "password_confirm": pwUser, "security_answers": []any{}}
		}
		cs = append(cs, hcase{name: "activation/" + tc.name, want: tc.want,
			req: rawReq{method: "POST", path: tc.path, ctype: "application/json", body: mustJSON(body)}})
	}
	// Certificate requests that must be refused, with the exact code.
	for _, b := range oddCSRs(t) {
		cs = append(cs, hcase{name: "cert-request/csr " + b.name, want: api.Code(b.code),
			req: rawReq{method: "POST", path: api.PathCertificates, ctype: "application/json", authz: "Bearer " + w.userTok,
				body: mustJSON(map[string]any{"csr_pem": b.pem})}})
	}
	// Paths nobody routes.
	for _, p := range []string{"/v1/nope", "/v1/me/applications/x/y/z", "/v1/orgs", "/.git/config",
		"/%2e%2e/%2e%2e/etc/passwd", "/v1/" + strings.Repeat("a/", 1000)} {
		cs = append(cs, hcase{name: "unrouted " + p[:min(len(p), 40)], want: api.CodeNotFound, req: rawReq{method: "GET", path: p}})
	}
	for p, clean := range map[string]string{"/v1/me/certificates/../../meta": api.PathMeta, "/v1/../../../etc/passwd": "/etc/passwd",
		"/v1//me": "/v1/me"} {
		cs = append(cs, hcase{name: "dot segments " + p, cleanTo: clean, req: rawReq{method: "GET", path: p}})
	}
	return cs
}

func flipCase(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 32
		case c >= 'A' && c <= 'Z':
			b[i] = c + 32
		}
	}
	return string(b)
}

// manyCerts lifts the per-account issuance limits: the hostile cases that are valid data (odd
// labels) each get a certificate for the same account.
var manyCerts = servertest.WithConfig(func(c *server.Config) { c.CertsPerHour, c.MaxActiveCerts = 1000, 1000 })

// TestHostileInput sends every case of the table to a real magd over TLS: each answer must be a
// catalogued 4xx problem+json without internals, never a 500, and the server must still answer.

func TestHostileInput(t *testing.T) {
	t.Parallel() // independent of the environment; overlaps with the other slow network tests
	w := newWorld(t, manyCerts)
	cs := allCases(t, w)
	covered := map[string]bool{}
	for _, e := range w.endpoints(t) {
		covered[e.path] = true
	}
	for name, p := range specPaths(t) {
		// The OpenID Connect endpoints answer in OAuth's error format, not problem+json:
		// TestOIDCEndpointsHostile attacks them.
		if !covered[p] && !strings.HasPrefix(p, "/oidc/") {
			t.Errorf("api.%s (%s) has no hostile cases", name, p)
		}
	}
	c := w.rawClient(t)
	meta, err := w.client(t).Meta(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if !meta.Features.Recovery {
		// Not offered yet: those paths must still answer a catalogued 4xx, whatever the code.
		t.Log("the server does not offer recovery (features.recovery=false): recovery cases only need a catalogued 4xx")
	}
	var refused, accepted, failed int
	for _, tc := range cs {
		if !meta.Features.Recovery && strings.HasPrefix(tc.name, "recover-") {
			tc.want = ""
		}
		ok := t.Run(tc.name, func(t *testing.T) {
			a, err := w.send(c, tc.req)
			if err != nil {
				t.Fatalf("%s %.120s: no answer: %v", tc.req.method, tc.req.path, err)
			}
			if tc.mayAccept && a.status >= 200 && a.status < 300 {
				if a.header.Get("Cache-Control") != "no-store" {
					t.Fatalf("%s %.120s: %d without Cache-Control: no-store", tc.req.method, tc.req.path, a.status)
				}
				accepted++
				return
			}
			if tc.cleanTo != "" && a.status/100 == 3 && a.header.Get("Location") == tc.cleanTo {
				refused++
				return
			}
			if tc.netHTTP && a.status == http.StatusRequestHeaderFieldsTooLarge {
				refused++
				return
			}
			p, err := problemOf(a)
			if err == nil && tc.want != "" && p.Code != tc.want {
				err = fmt.Errorf("code %s (%s), want %s", p.Code, p.Detail, tc.want)
			}
			if err != nil {
				t.Fatalf("%s %.120s: %v", tc.req.method, tc.req.path, err)
			}
			refused++
		})
		if !ok {
			failed++
		}
	}
	w.metaUp(t, c)
	// Nothing the attacks sent consumed the pending activation or ended the user's session.
	if a, err := w.send(c, rawReq{method: "GET", path: api.PathMe, authz: "Bearer " + w.userTok}); err != nil || a.status != http.StatusOK {
		t.Errorf("the user's session after the attacks: %d %v %.200q", a.status, err, a.body)
	}
	if a, err := w.send(c, rawReq{method: "POST", path: api.PathActivationInspect, ctype: "application/json",
		body: mustJSON(map[string]string{"token": w.pendingToken})}); err != nil || a.status != http.StatusOK {
		t.Errorf("the pending activation after the attacks: %d %v %.200q", a.status, err, a.body)
	}
	t.Logf("hostile input: %d cases tried: %d refused with a catalogued problem, %d accepted as valid data, %d failed",
		len(cs), refused, accepted, failed)
	fmt.Printf("hardening: hostile input: %d cases tried against %d endpoints (%d refused, %d accepted as data, %d failed)\n",
		len(cs), len(covered), refused, accepted, failed)
}

// TestMetacharactersAreData: free text full of SQL and path metacharacters is stored and given
// back exactly, not interpreted. (NUL is refused as input on every engine: PostgreSQL cannot
// store it; TestHostileInput covers that.)
func TestMetacharactersAreData(t *testing.T) {
	w := newWorld(t)
	ctx := ctxT(t)
	admin, _ := w.login(t, w.admin, pwAdmin)
	reason := strings.Join(sqlPoison, " ") + " ../../etc/passwd \x01 😀"
	if _, err := admin.Decide(ctx, w.org, w.requestID, api.DecisionDeny, reason); err != nil {
		t.Fatalf("deny with a poisoned reason: %v", err)
	}
	c := w.rawClient(t)
	a, err := w.send(c, rawReq{method: "GET", path: fill(api.PathOrgAccessRequests, map[string]string{"org": w.org}) + "?status=all",
		authz: "Bearer " + w.adminTok})
	if err != nil || a.status != http.StatusOK {
		t.Fatalf("list: %d %v", a.status, err)
	}
	var reqs []api.AccessRequest
	if err := json.Unmarshal(a.body, &reqs); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range reqs {
		if r.ID == w.requestID {
			found = true
			if r.Reason != reason || r.Status != "denied" {
				t.Fatalf("stored request = %+v, want reason %q", r, reason)
			}
		}
	}
	if !found || len(reqs) < 2 {
		t.Fatalf("requests after the poisoned decision: %+v", reqs)
	}
}

// TestHostileInputConcurrently fires the whole table as 8 concurrent streams over one HTTP/2
// connection, shuffled: the answers may differ from the sequential HTTP/1.1 run (lockouts race),
// but none may be a 500 or an answer that is not problem+json, and the server must still answer
// afterwards. (Headers beyond the server's limit stay out: the HTTP/2 client refuses to send them.)
func TestHostileInputConcurrently(t *testing.T) {
	t.Parallel() // independent of the environment; overlaps with the other slow network tests
	w := newWorld(t, manyCerts)
	cs := allCases(t, w)
	cs = slices.DeleteFunc(cs, func(tc hcase) bool { return tc.netHTTP })
	rand.New(rand.NewPCG(7, 7)).Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
	c := w.h2Client(t)
	if a, err := w.send(c, rawReq{method: "GET", path: api.PathMeta}); err != nil || a.status != http.StatusOK || a.proto != "HTTP/2.0" {
		t.Fatalf("meta over HTTP/2: %d %q %v", a.status, a.proto, err)
	}
	work := make(chan hcase)
	var mu sync.Mutex
	var bad []string
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tc := range work {
				a, err := w.send(c, tc.req)
				switch {
				case err != nil:
					err = fmt.Errorf("no answer: %w", err)
				case a.status/100 == 2 || a.status/100 == 3:
					continue // the order changed what is valid (a consumed token, an existing request)
				default:
					_, err = problemIn(a, 400, 599)
				}
				if err != nil {
					mu.Lock()
					bad = append(bad, tc.name+": "+err.Error())
					mu.Unlock()
				}
			}
		}()
	}
	for _, tc := range cs {
		work <- tc
	}
	close(work)
	wg.Wait()
	for _, b := range bad[:min(len(bad), 20)] {
		t.Error(b)
	}
	w.metaUp(t, c)
	t.Logf("%d hostile cases as 8 concurrent HTTP/2 streams: %d bad answers", len(cs), len(bad))
}

// TestOIDCEndpointsHostile sends poisoned forms, tokens and queries to the OpenID Connect
// endpoints: every answer is a refusal below 500 that does not echo the input, and the server
// still answers afterwards.
func TestOIDCEndpointsHostile(t *testing.T) {
	w := newWorld(t)
	c := w.rawClient(t)
	var cs []rawReq
	for _, p := range poisons {
		form := url.Values{"grant_type": {p}, "code": {p}, "client_id": {p}, "client_secret": {p}, "redirect_uri": {p}}.Encode()
		cs = append(cs,
			rawReq{method: "POST", path: api.PathOIDCToken, ctype: "application/x-www-form-urlencoded", body: []byte(form)},
			rawReq{method: "POST", path: api.PathOIDCToken, ctype: "application/json", body: mustJSON(map[string]string{"grant_type": p})},
			rawReq{method: "GET", path: api.PathOIDCKeys + "?kid=" + url.QueryEscape(p)},
			rawReq{method: "GET", path: api.PathOIDCDiscovery + "?x=" + url.QueryEscape(p)})
		if !strings.ContainsAny(p, "\r\n\x00") { // net/http sends no such header
			cs = append(cs, rawReq{method: "GET", path: api.PathOIDCUserinfo, authz: "Bearer " + p})
		}
	}
	for i, r := range cs {
		a, err := w.send(c, r)
		switch {
		case err != nil:
			t.Errorf("case %d %s %s: %v", i, r.method, r.path, err)
		case a.status >= 500:
			t.Errorf("case %d %s %s: status %d: %.300s", i, r.method, r.path, a.status, a.body)
		// OAuth errors may name the value they refuse (JSON, nosniff); a page must not.
		case strings.HasPrefix(a.header.Get("Content-Type"), "text/html") && bytes.Contains(a.body, []byte("<script>alert(1)")):
			t.Errorf("case %d %s %s: the page reflects the input: %.300s", i, r.method, r.path, a.body)
		case r.path == api.PathOIDCToken || r.path == api.PathOIDCUserinfo:
			if a.status < 400 {
				t.Errorf("case %d %s %s: status %d, want a refusal", i, r.method, r.path, a.status)
			}
		}
	}
	w.metaUp(t, c)
	t.Logf("%d hostile OpenID Connect cases", len(cs))
}
