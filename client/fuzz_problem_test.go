package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/service"
)

// fuzzAnswer is what the fuzzed server sends next.
type fuzzAnswer struct {
	status int
	ctype  string
	body   []byte
}

// FuzzProblemOverTLS serves fuzzed answers (status, Content-Type, body) from a local TLS server
// to a real client call (GET /v1/me through resty and net/http), so the whole path of an error
// answer is exercised end to end. It must never panic; every non-2xx answer is a classified
// *client.Error with a message for the user; and a problem+json answer with a code is reported
// as exactly that problem.
func FuzzProblemOverTLS(f *testing.F) {
	f.Add(403, api.ProblemContentType, []byte(`{"status":403,"code":"CERT_WRONG_ACCOUNT","mag_code":2035,"title":"Wrong certificate","detail":"x","remediation":[{"action":"a","client_side":true}]}`))
	f.Add(423, api.ProblemContentType, []byte(`{"code":"ACCOUNT_LOCKED","retry_after":30,"detail":"wait"}`))
	f.Add(401, "application/problem+json; charset=utf-8", []byte(`{"code":"MFA_REQUIRED","mfa_ticket":"t","methods":["totp"]}`))
	f.Add(409, api.ProblemContentType, []byte(`{"code":"SESSION_ACCOUNT_MISMATCH","status":409}`))
	f.Add(400, api.ProblemContentType, []byte(`{"code":"VALIDATION_FAILED","errors":[{"field":"a","code":"X","message":"b"},null,7]}`))
	f.Add(400, "application/json", []byte(`{"code":"","detail":"no code"}`))
	f.Add(500, "text/html", []byte(`<!doctype html><html><body>Internal Server Error</body></html>`))
	f.Add(502, "", []byte("Bad Gateway"))
	f.Add(404, api.ProblemContentType, []byte(`{"code":"NOT_FOUND"`))
	f.Add(418, api.ProblemContentType, []byte(`[{"code":"NOT_FOUND"}]`))
	f.Add(400, api.ProblemContentType, []byte(`{"code":"\u0000\ud800","status":-1,"mag_code":1e400}`))
	f.Add(200, "application/json", []byte(`{"account":{"user_id":"jdoe"},"session":{}}`))
	f.Add(200, "application/json", []byte(`{"account":{"user_id":"someone_else"}}`))
	f.Add(201, "text/plain", []byte(`ok`))
	f.Add(302, "text/html", []byte(`<a href="https://elsewhere">moved</a>`))
	f.Add(451, api.ProblemContentType, bytes.Repeat([]byte(`{"code":"X",`), 1000))

	var mu sync.Mutex
	var next fuzzAnswer
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		a := next
		mu.Unlock()
		if a.ctype != "" {
			w.Header().Set("Content-Type", a.ctype)
		} else {
			w.Header()["Content-Type"] = nil // no sniffing: really no Content-Type
		}
		w.WriteHeader(a.status)
		_, _ = w.Write(a.body)
	}))
	f.Cleanup(srv.Close)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	c, err := client.New(client.Options{ServerURL: srv.URL, CAPEM: caPEM, Timeout: 5 * time.Second, Retries: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(c.CloseIdleConnections)

	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte) {
		if status < 0 {
			status = -status
		}
		status = 200 + status%400 // 200..599: statuses a server can send with a body
		if status == http.StatusNoContent || status == http.StatusNotModified || status == http.StatusResetContent {
			body = nil
		}
		ctype = strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return -1
			}
			return r
		}, ctype)
		mu.Lock()
		next = fuzzAnswer{status: status, ctype: ctype, body: body}
		mu.Unlock()
		c.SetSession("jdoe", "mst_fuzz")
		me, err := c.Me(context.Background())
		if status < 300 {
			if err == nil && (me == nil || !strings.EqualFold(me.Account.UserID, "jdoe")) {
				t.Fatalf("status %d: accepted an answer for %+v", status, me)
			}
			return
		}
		if err == nil {
			t.Fatalf("status %d was taken for success", status)
		}
		ce, ok := client.AsError(err)
		if !ok || ce.Kind == 0 || ce.Kind.String() == "unknown" {
			t.Fatalf("status %d: unclassified error %#v", status, err)
		}
		if msg := service.Message(err); strings.TrimSpace(msg) == "" || strings.Contains(msg, "%!") {
			t.Fatalf("status %d: bad message %q", status, msg)
		}
		// A well-formed problem with a code is reported as exactly that problem.
		mt, _, _ := mime.ParseMediaType(ctype)
		var p api.Problem
		if (mt == api.ProblemContentType || mt == "application/json") && json.Unmarshal(body, &p) == nil && p.Code != "" {
			var got *api.Problem
			if !errors.As(err, &got) || got.Code != p.Code || !client.HasCode(err, p.Code) {
				t.Fatalf("status %d: problem %q answered, client reports %#v", status, p.Code, err)
			}
		}
	})
}
