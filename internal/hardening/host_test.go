package hardening

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/mag-desktop/magdesk/api"
)

// TestForgedHostHeader: links magd hands out (launch URLs, the activation links of emails sent
// on request) point at its own address whatever Host header a caller sends, so a forged Host
// cannot turn them into links to an attacker's site.
func TestForgedHostHeader(t *testing.T) {
	w := newWorld(t)
	c := w.rawClient(t)
	evil := "evil.example:443"
	a, err := w.send(c, rawReq{method: "POST", path: fill(api.PathLaunch, map[string]string{"app": appGranted}), ctype: "application/json",
		body: []byte("{}"), authz: "Bearer " + w.userTok, header: http.Header{"X-Forwarded-Host": {evil}, "Forwarded": {"host=" + evil}}})
	if err != nil || a.status != http.StatusOK {
		t.Fatalf("launch: %d %v %s", a.status, err, a.body)
	}
	var l api.LaunchResponse
	if err := json.Unmarshal(a.body, &l); err != nil || !strings.HasPrefix(l.LaunchURL, w.env.URL+"/") {
		t.Fatalf("launch URL %q with forwarded-host headers, want it under %s", l.LaunchURL, w.env.URL)
	}
	// The Host header itself: net/http sends req.Host as Host.
	req, err := http.NewRequest("POST", w.env.URL+fill(api.PathLaunch, map[string]string{"app": appGranted}), strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = evil
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+w.userTok)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&l); err != nil || strings.Contains(l.LaunchURL, "evil") {
			t.Fatalf("launch URL %q with Host: %s", l.LaunchURL, evil)
		}
	}
	// An activation email sent on request ("Link doesn't work?") with a forged Host.
	req, err = http.NewRequest("POST", w.env.URL+api.PathRecoveryActivation, strings.NewReader(string(mustJSON(api.RecoveryActivationRequest{
		UserID: w.pending, Email: "carol@acme.example"}))))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = evil
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-Host", evil)
	resp2, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode/100 != 2 {
		t.Fatalf("recovery/activation: %d", resp2.StatusCode)
	}
	sent := 0
	for _, m := range w.env.Mails(t) {
		if strings.Contains(m.Body, "evil") {
			t.Errorf("an email links to the forged host: %q\n%s", m.Subject, m.Body)
		}
		if m.Template == "activation" && m.To == "carol@acme.example" && strings.Contains(m.Body, w.env.URL+"/activate#token=") {
			sent++
		}
	}
	if sent != 2 {
		t.Fatalf("%d activation emails to carol link to %s, want 2 (at creation and on request)", sent, w.env.URL)
	}
}
