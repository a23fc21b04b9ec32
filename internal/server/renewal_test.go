package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// issueWithKey requests a certificate for a fresh key and returns it as a TLS client certificate.
func issueWithKey(t *testing.T, env *servertest.Env, c *http.Client, method, path, tok string, body func(csr string) any) (api.Certificate, *tls.Certificate, *api.Problem) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var out api.Certificate
	if _, p := env.Do(t, c, method, path, tok, body(csrPEM(t, key, "ignored")), &out); p != nil {
		return out, nil, p
	}
	pair, err := tls.X509KeyPair([]byte(out.CertificatePEM), mustKeyPEM(t, key))
	if err != nil {
		t.Fatal(err)
	}
	return out, &pair, nil
}

func events(t *testing.T, env *servertest.Env, c *http.Client, tok, query string) (api.EventPage, *api.Problem) {
	t.Helper()
	var page api.EventPage
	_, p := env.Do(t, c, "GET", api.PathEvents+query, tok, nil, &page)
	return page, p
}

// TestCertificateRenewal: renewal opens 90 days before expiry and closes at expiry; the renewed
// certificate is linked to the old one, which keeps working until the new one logs in, and is
// then revoked; the feed says so. Another account's certificate cannot be renewed or revoked.
func TestCertificateRenewal(t *testing.T) {
	clk, env, c, uid := oneUser(t)
	tok := mustLoginPW(t, env, c, uid, goodPW)
	old, oldPair, p := issueWithKey(t, env, c, "POST", api.PathCertificates, tok, func(csr string) any { return api.CSRRequest{CSRPEM: csr, Label: "laptop"} })
	if p != nil {
		t.Fatal(p)
	}
	if old.RenewableFrom == nil || !old.RenewableFrom.Equal(old.NotAfter.Add(-90*24*time.Hour)) {
		t.Fatalf("renewable_from %v, not_after %v", old.RenewableFrom, old.NotAfter)
	}
	renewPath := path(api.PathCertificateRenewal, "id", old.CertificateID)
	renew := func(csr string) any { return api.RenewalRequest{CSRPEM: csr} }

	for _, tc := range []struct {
		name string
		at   time.Duration // before old.NotAfter
		want api.Code
	}{
		{"a year before expiry", 364 * 24 * time.Hour, api.CodeCertRenewalNotOpen},
		{"a day before the window", 91 * 24 * time.Hour, api.CodeCertRenewalNotOpen},
	} {
		clk.Advance(old.NotAfter.Add(-tc.at).Sub(clk.Now()))
		_, _, p := issueWithKey(t, env, c, "POST", renewPath, mustLoginPW(t, env, c, uid, goodPW), renew)
		wantCode(t, tc.name, p, tc.want)
	}

	// 89 days before expiry: in the window. The feed notes it once.
	clk.Advance(old.NotAfter.Add(-89 * 24 * time.Hour).Sub(clk.Now()))
	tok = mustLoginPW(t, env, c, uid, goodPW)
	start, p := events(t, env, c, tok, "")
	if p != nil {
		t.Fatal(p)
	}
	for want := 1; want >= 0; want-- {
		if n, err := env.Server.NoteExpiringCertificates(t.Context()); err != nil || n != want {
			t.Fatalf("expiring certificates noted: %d %v, want %d", n, err, want)
		}
	}
	page, _ := events(t, env, c, tok, "?after="+start.Cursor)
	if len(page.Events) != 1 || page.Events[0].Type != api.EventCertExpiring || page.Events[0].CertificateID != old.CertificateID ||
		page.Events[0].NotAfter == nil || !page.Events[0].NotAfter.Equal(old.NotAfter) {
		t.Fatalf("expiring event: %+v", page)
	}

	// Renewed twice before either successor was used (a retry after the first one's key was
	// lost): the second replaces the first, which is revoked, so one successor stays active.
	first, firstPair, p := issueWithKey(t, env, c, "POST", renewPath, tok, renew)
	if p != nil {
		t.Fatal(p)
	}
	renewed, newPair, p := issueWithKey(t, env, c, "POST", renewPath, tok, renew)
	if p != nil {
		t.Fatal(p)
	}
	if renewed.Renews != old.CertificateID || renewed.CertificateID == old.CertificateID || !renewed.NotAfter.After(old.NotAfter) ||
		len(renewed.Superseded) != 1 || renewed.Superseded[0] != first.CertificateID || len(first.Superseded) != 0 {
		t.Fatalf("renewed: %+v (first %s)", renewed, first.CertificateID)
	}
	var list []api.Certificate
	if _, p := env.Do(t, c, "GET", api.PathCertificates, tok, nil, &list); p != nil {
		t.Fatal(p)
	}
	state := map[string]string{}
	for _, l := range list {
		state[l.CertificateID] = l.Status + "/" + l.Renews
	}
	if want := map[string]string{old.CertificateID: "active/", first.CertificateID: "revoked/", renewed.CertificateID: "active/" + old.CertificateID}; !maps.Equal(state, want) {
		t.Fatalf("certificates after renewing twice: %v, want %v", state, want)
	}
	_, p = env.Login(t, env.Client(t, firstPair), uid, goodPW)
	wantCode(t, "superseded renewal", p, api.CodeCertRevoked)
	// Until the new one is used, the old one still logs in.
	withOld, withNew := env.Client(t, oldPair), env.Client(t, newPair)
	if lr, p := env.Login(t, withOld, uid, goodPW); p != nil || lr.Session.AAL != 2 {
		t.Fatalf("old certificate before the new one was used: %v", p)
	}
	lr, p := env.Login(t, withNew, uid, goodPW)
	if p != nil || lr.Session.AAL != 2 || lr.Session.CertSHA256 != renewed.SHA256 {
		t.Fatalf("login with the renewed certificate: %v %+v", p, lr.Session)
	}
	_, p = env.Login(t, withOld, uid, goodPW)
	wantCode(t, "old certificate after renewal", p, api.CodeCertRevoked)
	page, _ = events(t, env, c, tok, "?after="+page.Cursor)
	var renewedEv *api.Event
	for i, e := range page.Events {
		if e.Type == api.EventCertRenewed {
			renewedEv = &page.Events[i]
		}
	}
	if renewedEv == nil || renewedEv.Replaced != old.CertificateID || renewedEv.CertificateID != renewed.CertificateID {
		t.Fatalf("renewed event: %+v", page.Events)
	}
	_, _, p = issueWithKey(t, env, c, "POST", renewPath, tok, renew)
	wantCode(t, "renewing the revoked certificate", p, api.CodeCertRevoked)

	// Another account can neither renew nor revoke it.
	other := env.CreateActiveUser(t, env.CreateOrg(t, "Other"), "o@other.example", "Otto", "Other", goodPW, false)
	otok := mustLoginPW(t, env, c, other, goodPW)
	newPath := path(api.PathCertificateRenewal, "id", renewed.CertificateID)
	_, _, p = issueWithKey(t, env, c, "POST", newPath, otok, renew)
	wantCode(t, "renewal by another account", p, api.CodeNotFound)
	_, p = env.Do(t, c, "DELETE", path(api.PathCertificate, "id", renewed.CertificateID), otok, nil, nil)
	wantCode(t, "revocation by another account", p, api.CodeNotFound)

	// Past expiry the renewed certificate can no longer be renewed; its owner may revoke it.
	clk.Advance(renewed.NotAfter.Add(time.Hour).Sub(clk.Now()))
	tok = mustLoginPW(t, env, c, uid, goodPW)
	_, _, p = issueWithKey(t, env, c, "POST", newPath, tok, renew)
	wantCode(t, "renewal after expiry", p, api.CodeCertExpired)
	var revoked api.Certificate
	for range 2 { // twice: revoking is idempotent
		if st, p := env.Do(t, c, "DELETE", path(api.PathCertificate, "id", renewed.CertificateID), tok, nil, &revoked); st != 200 || revoked.Status != "revoked" {
			t.Fatalf("revoke: %d %v %+v", st, p, revoked)
		}
	}
}

// TestEventsFeed: a long-poll returns as soon as something happens for the account (terms
// accepted for its organisation, its request decided, a login elsewhere) and otherwise after
// its wait with the same cursor; polling does not keep an idle session alive.
func TestEventsFeed(t *testing.T) {
	clk := newClock()
	env := servertest.Start(t, servertest.WithNow(clk.Now), servertest.WithSecurityQuestions(false))
	org := env.CreateOrg(t, "Acme")
	admin := env.CreateActiveUser(t, org, "boss@acme.example", "Bo", "Boss", goodPW, true)
	user := env.CreateActiveUser(t, org, "u@acme.example", "Uma", "User", goodPW, false)
	env.AddApp(t, "parts", "Parts Catalogue", "/demoapps/parts", "Be nice.", 1)
	env.Subscribe(t, org, "parts")
	c := env.Client(t, nil)
	atok, utok := mustLoginPW(t, env, c, admin, goodPW), mustLoginPW(t, env, c, user, goodPW)

	start, p := events(t, env, c, utok, "")
	if p != nil || len(start.Events) != 0 {
		t.Fatalf("start: %v %+v", p, start)
	}
	for _, bad := range []string{"?after=x", "?after=0&wait=301", "?after=0&wait=-1"} {
		_, p := events(t, env, c, utok, bad)
		wantCode(t, bad, p, api.CodeValidationFailed)
	}
	// Nothing happens: the wait runs out and the cursor stays.
	began := time.Now()
	page, p := events(t, env, c, utok, "?wait=1&after="+start.Cursor)
	if p != nil || len(page.Events) != 0 || page.Cursor != start.Cursor || time.Since(began) < time.Second {
		t.Fatalf("idle poll after %v: %v %+v", time.Since(began), p, page)
	}

	// poll runs a long-poll in the background; act then makes it return.
	poll := func(cursor string, act func()) (api.EventPage, time.Duration) {
		t.Helper()
		got := make(chan api.EventPage, 1)
		go func() {
			var page api.EventPage
			req, _ := http.NewRequestWithContext(t.Context(), "GET", env.URL+api.PathEvents+"?wait=20&after="+cursor, nil)
			req.Header.Set("Authorization", "Bearer "+utok)
			if resp, err := c.Do(req); err == nil {
				_ = decodeJSON(resp, &page)
			}
			got <- page
		}()
		time.Sleep(200 * time.Millisecond) // let the poll start waiting
		began := time.Now()
		act()
		return <-got, time.Since(began)
	}
	const bound = 2 * time.Second
	var terms api.Terms
	env.Do(t, c, "GET", path(path(api.PathTerms, "org", org), "app", "parts"), atok, nil, &terms)
	page, took := poll(start.Cursor, func() {
		if _, p := env.Do(t, c, "POST", path(path(api.PathTermsAcceptances, "org", org), "app", "parts"), atok,
			api.AcceptTermsRequest{TermsVersionID: terms.TermsVersionID}, nil); p != nil {
			t.Error(p)
		}
	})
	if took > bound || len(page.Events) != 1 || page.Events[0].Type != api.EventAppRequestable || page.Events[0].AppName != "Parts Catalogue" {
		t.Fatalf("terms accepted, after %v: %+v", took, page)
	}
	var req api.AccessRequest
	env.Do(t, c, "POST", path(api.PathAccessRequests, "app", "parts"), utok, nil, &req)
	page, took = poll(page.Cursor, func() {
		if _, p := env.Do(t, c, "POST", path(path(api.PathDecision, "org", org), "id", req.ID), atok,
			api.DecisionRequest{Decision: api.DecisionApprove}, nil); p != nil {
			t.Error(p)
		}
	})
	if took > bound || len(page.Events) != 1 || page.Events[0].Type != api.EventAccessDecided || page.Events[0].Status != "approved" {
		t.Fatalf("access approved, after %v: %+v", took, page)
	}
	var other api.LoginResponse
	page, took = poll(page.Cursor, func() { other, _ = env.Login(t, c, user, goodPW) })
	if took > bound || len(page.Events) != 1 || page.Events[0].Type != api.EventLogin || page.Events[0].SessionID != other.Session.ID {
		t.Fatalf("login elsewhere, after %v: %+v", took, page)
	}

	// Only polling for 61 minutes: the session idles out.
	clk.Advance(59 * time.Minute)
	if _, p := events(t, env, c, utok, "?after="+page.Cursor); p != nil {
		t.Fatal(p)
	}
	clk.Advance(2 * time.Minute)
	_, p = events(t, env, c, utok, "?after="+page.Cursor)
	wantCode(t, "polling only, after 61 minutes", p, api.CodeSessionExpired)
}

func mustKeyPEM(t *testing.T, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
