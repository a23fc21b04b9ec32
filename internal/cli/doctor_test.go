package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mag-desktop/magdesk/internal/netconf"
	"github.com/mag-desktop/magdesk/internal/netconf/proxytest"
	"github.com/mag-desktop/magdesk/internal/secrets"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
	"github.com/mag-desktop/magdesk/internal/service"
	"github.com/zalando/go-keyring"
)

// TestDoctorCommand: the proxy of the settings file is the one every request uses, and the
// doctor says so; when it is gone the doctor names the broken hop and exits 3.
func TestDoctorCommand(t *testing.T) {
	env := servertest.Start(t)
	tp := proxytest.StartTinyproxy(t, "", "")
	ca := proxiedHome(t, env, tp.URL)
	doctor := func(args ...string) (int, string, string) { return magdesk(t, env.URL, ca, "", args...) }
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

// proxiedHome gives the CLI a fresh home whose settings send every request through proxyURL,
// and returns the path of the gateway's CA file.
func proxiedHome(t *testing.T, env *servertest.Env, proxyURL string) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("MAGDESK_HOME", home)
	t.Setenv("HOME", t.TempDir())
	settings := `{"proxy_mode": "fixed", "proxy_url": "` + proxyURL + `"}`
	if err := os.WriteFile(filepath.Join(home, "settings.json"), []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, env.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return ca
}

func magdesk(t *testing.T, server, ca, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"--server", server, "--ca", ca}, args...),
		IO{In: strings.NewReader(stdin), Out: &out, Err: &errb}, nil)
	return code, out.String(), errb.String()
}

// TestProxyLogin: a proxy that wants Basic credentials refuses the CLI with a clear message and
// the command that fixes it; after proxy-login the credentials come from the keyring.
func TestProxyLogin(t *testing.T) {
	if os.Getenv("MAGDESK_REAL_KEYRING") != "1" {
		keyring.MockInit()
	}
	t.Setenv(secrets.ProfileEnv, "proxy-login test "+t.Name())
	env := servertest.Start(t)
	tp := proxytest.StartTinyproxy(t, "carol", "tundra-kettle-9")
	ca := proxiedHome(t, env, tp.URL)
	t.Cleanup(func() { _ = secrets.In(secrets.OS(), netconf.KeyringService).Delete(tp.Addr) })
	code, _, errs := magdesk(t, env.URL, ca, "some password\n", "login", "--user", "bob", "--password-stdin")
	if code != ExitError || !strings.Contains(errs, "asks for a user name and password") || !strings.Contains(errs, "magdesk proxy-login") {
		t.Fatalf("without credentials: exit %d, %s", code, errs)
	}
	if code, _, errs := magdesk(t, env.URL, ca, "wrong-one\n", "proxy-login", tp.Addr, "--user", "carol", "--password-stdin"); code != ExitOK {
		t.Fatalf("proxy-login: exit %d %s", code, errs)
	}
	code, out, _ := magdesk(t, env.URL, ca, "", "doctor")
	if code != ExitProblem || !strings.Contains(out, "refused the proxy user name or password") {
		t.Fatalf("wrong credentials: exit %d\n%s", code, out)
	}
	if code, _, errs := magdesk(t, env.URL, ca, "tundra-kettle-9\n", "proxy-login", tp.Addr, "--user", "carol", "--password-stdin"); code != ExitOK {
		t.Fatalf("proxy-login: exit %d %s", code, errs)
	}
	code, out, _ = magdesk(t, env.URL, ca, "", "doctor")
	if !strings.Contains(out, "The gateway answers") || strings.Contains(out, "tundra-kettle-9") {
		t.Fatalf("with credentials: exit %d\n%s", code, out)
	}
	if n := tp.Tunnels(strings.TrimPrefix(env.URL, "https://")); n < 1 {
		t.Errorf("no tunnel through tinyproxy:\n%s", tp.Log())
	}
}
