package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mag-desktop/magdesk/internal/netconf/proxytest"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
	"github.com/mag-desktop/magdesk/internal/service"
)

// TestDoctorCommand: the proxy of the settings file is the one every request uses, and the
// doctor says so; when it is gone the doctor names the broken hop and exits 3.
func TestDoctorCommand(t *testing.T) {
	env := servertest.Start(t)
	tp := proxytest.StartTinyproxy(t, "", "")
	home := t.TempDir()
	t.Setenv("MAGDESK_HOME", home)
	t.Setenv("HOME", t.TempDir())
	settings := `{"proxy_mode": "fixed", "proxy_url": "` + tp.URL + `"}`
	if err := os.WriteFile(filepath.Join(home, "settings.json"), []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, env.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	doctor := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"--server", env.URL, "--ca", ca}, args...),
			IO{In: strings.NewReader(""), Out: &out, Err: &errb}, nil)
		return code, out.String(), errb.String()
	}
	code, out, errs := doctor("--json", "doctor")
	var rep service.DoctorReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != ExitOK {
		t.Fatalf("exit %d, %v: %s %s", code, err, out, errs)
	}
	results := map[string]service.DoctorCheck{}
	for _, c := range rep.Checks {
		results[c.ID] = c
	}
	if p := results["proxy"]; p.Status != service.CheckOK || !strings.Contains(p.Result, tp.URL) || !strings.Contains(p.Result, "your settings") {
		t.Errorf("proxy line %+v", p)
	}
	if g := results["gateway"]; g.Status != service.CheckOK {
		t.Errorf("gateway line %+v", g)
	}
	if tp.Tunnels(strings.TrimPrefix(env.URL, "https://")) == 0 {
		t.Errorf("the doctor's request did not go through tinyproxy:\n%s", tp.Log())
	}
	tp.Stop()
	code, out, _ = doctor("doctor")
	if code != ExitProblem || !strings.Contains(out, "FAIL tcp") || !strings.Contains(out, "what to do:") {
		t.Fatalf("proxy stopped: exit %d\n%s", code, out)
	}
}
