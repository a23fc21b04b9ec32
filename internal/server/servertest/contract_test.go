package servertest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps what the checker reports instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestCheckContract sends requests through the checker to a stub server and looks at what it
// reports: answers the document allows pass, drifted ones fail, undocumented paths are left alone.
func TestCheckContract(t *testing.T) {
	meta := `{"api_version":"1","server_version":"x","features":{"totp":true},"security_questions_required":0}`
	problem := `{"title":"Too many requests","status":429,"code":"RATE_LIMITED","detail":"Wait."}`
	cases := []struct {
		name, method, path, ctype, body string
		status                          int
		wantErr                         string
	}{
		{"a documented answer", "GET", "/v1/meta", "application/json", meta, 200, ""},
		{"a problem", "POST", "/v1/auth/login", "application/problem+json", problem, 429, ""},
		{"a field missing from the document", "GET", "/v1/meta", "application/json", strings.Replace(meta, `"totp":true`, `"totp":true,"surprise":1`, 1), 200, "surprise"},
		{"a field of the wrong type", "GET", "/v1/meta", "application/json", strings.Replace(meta, `"api_version":"1"`, `"api_version":1`, 1), 200, "api_version"},
		{"a status the operation does not list", "GET", "/v1/meta", "application/problem+json", problem, 429, "429"},
		{"a problem without its code", "POST", "/v1/auth/login", "application/problem+json", strings.Replace(problem, `"code":"RATE_LIMITED",`, "", 1), 429, "code"},
		{"an HTML page", "GET", "/activate", "text/html", "<p>hi</p>", 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer stub.Close()
			rec := &recorder{TB: t}
			c := &http.Client{Transport: CheckContract(rec, http.DefaultTransport),
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			req, _ := http.NewRequest(tc.method, stub.URL+tc.path, nil)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(got) != tc.body {
				t.Errorf("the caller read %q, want the body unchanged", got)
			}
			switch {
			case tc.wantErr == "" && len(rec.errs) > 0:
				t.Errorf("reported %q, want nothing", rec.errs)
			case tc.wantErr != "" && (len(rec.errs) != 1 || !strings.Contains(rec.errs[0], tc.wantErr)):
				t.Errorf("reported %q, want one report naming %q", rec.errs, tc.wantErr)
			}
		})
	}
}
