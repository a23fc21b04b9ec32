package client_test

import (
	"context"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/netconf"
	"github.com/mag-desktop/magdesk/internal/netconf/proxytest"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
	"github.com/mag-desktop/magdesk/internal/testenv"
)

// TestGNOMEProxySettings: with the default mode (system), the proxy set in GNOME's settings —
// written by the real gsettings into a private keyfile backend — carries the requests.
func TestGNOMEProxySettings(t *testing.T) {
	gs := testenv.NeedTool(t, "gsettings")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("GSETTINGS_BACKEND", "keyfile")
	t.Setenv("XDG_CURRENT_DESKTOP", "ubuntu:GNOME")
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1") // the desktop's settings win over the environment
	env := servertest.Start(t)
	tp := proxytest.StartTinyproxy(t, "", "")
	host, port, _ := strings.Cut(tp.Addr, ":")
	for _, kv := range [][]string{
		{"org.gnome.system.proxy", "mode", "manual"},
		{"org.gnome.system.proxy", "ignore-hosts", "['localhost', '*.corp.example.com']"},
		{"org.gnome.system.proxy.https", "host", host},
		{"org.gnome.system.proxy.https", "port", port},
	} {
		if out, err := exec.Command(gs, append([]string{"set"}, kv...)...).CombinedOutput(); err != nil {
			testenv.Missing(t, "gsettings cannot write the proxy schema (gsettings-desktop-schemas): "+string(out))
		}
	}
	res := netconf.New(netconf.Options{Credentials: noCreds})
	c, err := client.New(client.Options{ServerURL: env.URL, CAPEM: env.CAPEM, Network: res, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if _, err := c.Meta(context.Background()); err != nil {
		t.Fatalf("meta through the GNOME proxy: %v", err)
	}
	magd := strings.TrimPrefix(env.URL, "https://")
	if n := tp.Tunnels(magd); n != 1 {
		t.Fatalf("%d tunnels, want 1:\n%s", n, tp.Log())
	}
	d, err := res.Decide(context.Background(), &url.URL{Scheme: "https", Host: magd})
	if err != nil || !strings.Contains(d.Why, netconf.SourceGNOME) {
		t.Fatalf("decision %+v, %v", d, err)
	}
}
