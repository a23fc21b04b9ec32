package hardening

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// endpoint is one endpoint of the API as the attacks see it: a request that is well-formed, so that
// each mutation of it is the only thing wrong with what is sent.
type endpoint struct {
	name         string
	method, path string            // api.Path* with its {placeholders}
	params       map[string]string // good values of the placeholders
	token        string            // the caller's session token; "" for public endpoints
	owner        string            // user id of token
	admin        bool              // org admin only
	body         map[string]any    // a well-formed body; nil when the endpoint takes none
	bodyless     bool              // a POST without a documented body (the client sends {})
	// accepts lists string fields in which any text is valid input, so that a poisoned value
	// may be answered 2xx (recovery endpoints answer alike whether or not anything matched).
	accepts map[string]bool
}

func (e endpoint) filled() string { return fill(e.path, e.params) }

func fill(path string, params map[string]string) string {
	for k, v := range params {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	return path
}

// endpoints is every endpoint of the API with a caller and a well-formed request.
func (w *world) endpoints(t testing.TB) []endpoint {
	csr := csrPEM(t, newP256(t))
	ticket := strings.Repeat("Q", 43)
	answers := servertest.Answers
	const strong = "amber falcon river thirteen"
	org := map[string]string{"org": w.org}
	return []endpoint{
		{name: "meta", method: "GET", path: api.PathMeta},
		{name: "questions", method: "GET", path: api.PathSecurityQuestions},
		{name: "inspect", method: "POST", path: api.PathActivationInspect, body: map[string]any{"token": w.pendingToken}},
		{name: "complete", method: "POST", path: api.PathActivationComplete, body: map[string]any{"token": w.pendingToken,
			"password": strong, "password_confirm": strong, "security_answers": answers}},
		{name: "login", method: "POST", path: api.PathLogin, body: map[string]any{"user_id": w.user, "password": "wrong " + pwUser}},
		{name: "mfa", method: "POST", path: api.PathLoginMFA, body: map[string]any{"mfa_ticket": ticket, "otp": "123456"}},
		{name: "recover-activation", method: "POST", path: api.PathRecoveryActivation,
			body: map[string]any{"user_id": w.pending, "email": "carol@acme.example"}, accepts: map[string]bool{"user_id": true, "email": true}},
		{name: "recover-ids", method: "POST", path: api.PathRecoveryUserIDs, body: map[string]any{"email": "bob@acme.example"},
			accepts: map[string]bool{"email": true}},
		{name: "recover-pw-start", method: "POST", path: api.PathRecoveryPasswordStart, body: map[string]any{"user_id": w.user},
			accepts: map[string]bool{"user_id": true}},
		{name: "recover-pw-complete", method: "POST", path: api.PathRecoveryPasswordComplete, body: map[string]any{
			"recovery_id": "rec_00000000000000000000", "code": "12345678", "security_answers": answers[:2],
			"password": strong, "password_confirm": strong}},
		{name: "me", method: "GET", path: api.PathMe, token: w.userTok, owner: w.user},
		{name: "logout", method: "DELETE", path: api.PathSessionCurrent, token: w.spareTok, owner: w.user},
		{name: "apps", method: "GET", path: api.PathMyApplications, token: w.userTok, owner: w.user},
		{name: "access-request", method: "POST", path: api.PathAccessRequests, params: map[string]string{"app": appAvail},
			token: w.adminTok, owner: w.admin, bodyless: true},
		{name: "launch", method: "POST", path: api.PathLaunch, params: map[string]string{"app": appGranted},
			token: w.userTok, owner: w.user, bodyless: true},
		{name: "terms", method: "GET", path: api.PathTerms, params: map[string]string{"org": w.org, "app": appGranted},
			token: w.userTok, owner: w.user},
		{name: "accept-terms", method: "POST", path: api.PathTermsAcceptances, params: map[string]string{"org": w.org, "app": appAvail},
			token: w.adminTok, owner: w.admin, admin: true, body: map[string]any{"terms_version_id": w.termsVersion}},
		{name: "org-requests", method: "GET", path: api.PathOrgAccessRequests, params: org, token: w.adminTok, owner: w.admin, admin: true},
		{name: "decide", method: "POST", path: api.PathDecision, params: map[string]string{"org": w.org, "id": "req_00000000000000000000"},
			token: w.adminTok, owner: w.admin, admin: true, body: map[string]any{"decision": "approve", "reason": "fine"}},
		{name: "totp-start", method: "POST", path: api.PathTOTP, token: w.adminTok, owner: w.admin, bodyless: true},
		{name: "totp-verify", method: "POST", path: api.PathTOTPVerify, params: map[string]string{"enrollment": w.enrollment},
			token: w.userTok, owner: w.user, body: map[string]any{"code": "000000"}},
		{name: "cert-request", method: "POST", path: api.PathCertificates, token: w.userTok, owner: w.user,
			body: map[string]any{"csr_pem": csr, "label": "hardening"}, accepts: map[string]bool{"label": true}},
		{name: "cert-list", method: "GET", path: api.PathCertificates, token: w.userTok, owner: w.user},
		{name: "cert-renew", method: "POST", path: api.PathCertificateRenewal, params: map[string]string{"id": "crt_00000000000000000000"},
			token: w.userTok, owner: w.user, body: map[string]any{"csr_pem": csr, "label": "hardening"}, accepts: map[string]bool{"label": true}},
		{name: "cert-revoke", method: "DELETE", path: api.PathCertificate, params: map[string]string{"id": "crt_00000000000000000000"},
			token: w.userTok, owner: w.user},
		{name: "events", method: "GET", path: api.PathEvents, token: w.userTok, owner: w.user},
		{name: "connect", method: "POST", path: api.PathCertificateConnections, token: w.userTok, owner: w.user,
			body: map[string]any{"user_id": w.admin, "password": pwAdmin}},
	}
}

// specPaths reads every api.Path* constant from api/types.go, so that an endpoint added to the
// contract without an attack here fails the suite. The OpenID Connect provider's endpoints
// (/oidc/) answer with OAuth errors, not problem details: their hostile cases are in
// internal/server (TestFederationHostile).
func specPaths(t testing.TB) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../../api/types.go", nil, 0)
	if err != nil {
		t.Fatalf("parse api/types.go: %v", err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if !strings.HasPrefix(n.Name, "Path") || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok {
					if v, _ := strconv.Unquote(lit.Value); !strings.HasPrefix(v, "/oidc/") {
						out[n.Name] = v
					}
				}
			}
		}
	}
	if len(out) < 20 {
		t.Fatalf("found only %d api.Path* constants in api/types.go", len(out))
	}
	return out
}

// routedMethods is every method each path answers, from the endpoint list.
func routedMethods(eps []endpoint) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, e := range eps {
		if out[e.path] == nil {
			out[e.path] = map[string]bool{}
		}
		out[e.path][e.method] = true
		if e.method == http.MethodGet {
			out[e.path][http.MethodHead] = true
		}
	}
	return out
}
