package client_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/netconf/proxytest"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
	"github.com/mag-desktop/magdesk/internal/service"
)

// connectProxy is a minimal HTTPS (CONNECT) proxy on loopback; it counts tunnels.
func connectProxy(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	var tunnels atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		up, err := net.DialTimeout("tcp", r.Host, 5*time.Second)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		tunnels.Add(1)
		down, brw, err := proxytest.Hijack(w)
		if err != nil {
			up.Close()
			return
		}
		go func() { _, _ = io.Copy(up, brw); up.Close() }()
		_, _ = io.Copy(down, up)
		down.Close()
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &tunnels
}

func TestThroughHTTPSProxy(t *testing.T) {
	env := servertest.Start(t)
	proxy, tunnels := connectProxy(t)
	c, err := client.New(client.Options{ServerURL: env.URL, CAPEM: env.CAPEM, ProxyURL: proxy})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if _, err := c.Meta(context.Background()); err != nil {
		t.Fatalf("meta through the proxy: %v", err)
	}
	// At least one: a retry after a slow handshake on a loaded machine opens another.
	if tunnels.Load() == 0 {
		t.Fatal("the request did not go through the proxy")
	}
	// A proxy that is down is "offline", with a message, not a hang.
	down, err := client.New(client.Options{ServerURL: env.URL, CAPEM: env.CAPEM, ProxyURL: "http://127.0.0.1:1", Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := down.Meta(context.Background()); !client.IsOffline(err) || service.Message(err) == "" {
		t.Fatalf("proxy down: %v", err)
	}
}
