package hardening

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/mag-desktop/magdesk/api"
)

// TestNoCrossAccountAccess: ids that belong to another account or organisation are "not found"
// (or forbidden) for everyone else, even with a valid session and a path of their own: another
// organisation's access request, another user's TOTP enrolment, applications the caller's
// organisation does not use.
func TestNoCrossAccountAccess(t *testing.T) {
	w := newWorld(t)
	c := w.rawClient(t)
	post := func(path, token string, body any) rawReq {
		return rawReq{method: "POST", path: path, ctype: "application/json", body: mustJSON(body), authz: "Bearer " + token}
	}
	cases := []struct {
		name string
		req  rawReq
		want api.Code
	}{
		{"another org's request, decided through my org", post(fill(api.PathDecision, map[string]string{"org": w.otherOrg, "id": w.requestID}),
			w.otherTok, api.DecisionRequest{Decision: api.DecisionApprove}), api.CodeNotFound},
		{"another org's request, through its org", post(fill(api.PathDecision, map[string]string{"org": w.org, "id": w.requestID}),
			w.otherTok, api.DecisionRequest{Decision: api.DecisionApprove}), api.CodeForbidden},
		{"another user's TOTP enrolment", post(fill(api.PathTOTPVerify, map[string]string{"enrollment": w.enrollment}),
			w.adminTok, api.CodeRequest{Code: "123456"}), api.CodeNotFound},
		{"terms of an app my org does not use", rawReq{method: "GET", path: fill(api.PathTerms, map[string]string{"org": w.otherOrg, "app": appGranted}),
			authz: "Bearer " + w.otherTok}, api.CodeNotFound},
		{"accepting terms of an app my org does not use", post(fill(api.PathTermsAcceptances, map[string]string{"org": w.otherOrg, "app": appTerms}),
			w.otherTok, api.AcceptTermsRequest{TermsVersionID: w.termsVersion}), api.CodeNotFound},
		{"launching an app my org does not use", post(fill(api.PathLaunch, map[string]string{"app": appGranted}), w.otherTok, struct{}{}),
			api.CodeNotFound},
		{"requesting an app my org does not use", post(fill(api.PathAccessRequests, map[string]string{"app": appAvail}), w.otherTok, struct{}{}),
			api.CodeNotFound},
		{"member reading the org's requests", rawReq{method: "GET", path: fill(api.PathOrgAccessRequests, map[string]string{"org": w.org}),
			authz: "Bearer " + w.userTok}, api.CodeForbidden},
	}
	for _, tc := range cases {
		a, err := w.send(c, tc.req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		p, err := problemOf(a)
		if err != nil || p.Code != tc.want {
			t.Errorf("%s: %d %v %+v, want %s", tc.name, a.status, err, p, tc.want)
		}
	}
	// Nothing changed: the request is still pending in its own organisation.
	a, err := w.send(c, rawReq{method: "GET", path: fill(api.PathOrgAccessRequests, map[string]string{"org": w.org}), authz: "Bearer " + w.adminTok})
	var reqs []api.AccessRequest
	if err != nil || a.status != http.StatusOK || json.Unmarshal(a.body, &reqs) != nil {
		t.Fatalf("list: %d %v", a.status, err)
	}
	if len(reqs) != 1 || reqs[0].ID != w.requestID || reqs[0].Status != "pending" {
		t.Fatalf("pending requests of the org after the attempts: %+v", reqs)
	}
	// And the other organisation sees none of them.
	a, err = w.send(c, rawReq{method: "GET", path: fill(api.PathOrgAccessRequests, map[string]string{"org": w.otherOrg}) + "?status=all", authz: "Bearer " + w.otherTok})
	if err != nil || a.status != http.StatusOK || json.Unmarshal(a.body, &reqs) != nil || len(reqs) != 0 {
		t.Fatalf("the other org's list: %d %v %s", a.status, err, a.body)
	}
}
