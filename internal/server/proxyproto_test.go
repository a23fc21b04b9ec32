package server_test

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/pires/go-proxyproto"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// from is an HTTPS client of env whose connections leave from the loopback address ip, as a
// client on another machine would.
func from(t *testing.T, env *servertest.Env, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, TLSClientConfig: &tls.Config{RootCAs: env.CAPool, MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: servertest.CheckContract(t, tr), Timeout: 30 * time.Second}
}

// TestProxyProtocol: behind HAProxy (send-proxy-v2) magd tells clients apart by their own
// addresses again: a source that sprays guesses is throttled, another client of the same
// proxy is not, and the audit log names the client's address, not HAProxy's. A client on the
// proxy's own host is a client like any other once the header names it.
func TestProxyProtocol(t *testing.T) {
	for _, sprayerIP := range []string{"127.0.0.2", "127.0.0.1"} {
		t.Run("sprayer at "+sprayerIP, func(t *testing.T) {
			env := servertest.StartBalanced(t, 1, servertest.WithSecurityQuestions(false))
			sprayer, other := from(t, env, sprayerIP), from(t, env, "127.0.0.3")
			for i := range 20 {
				_, p := env.Login(t, sprayer, fmt.Sprintf("sprayed_%02d", i), "not the password at all")
				wantCode(t, fmt.Sprintf("guess %d", i+1), p, api.CodeInvalidCredentials)
			}
			_, p := env.Login(t, sprayer, "sprayed_99", "not the password at all")
			wantCode(t, "the sprayer's 21st user id", p, api.CodeAccountLocked)
			_, p = env.Login(t, other, "sprayed_99", "not the password at all")
			wantCode(t, "another client of the proxy", p, api.CodeInvalidCredentials)

			evs, err := env.Server.AuditEvents(t.Context(), "login.failed")
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			for _, e := range evs {
				seen[e.IP]++
			}
			if seen[sprayerIP] != 20 || seen["127.0.0.3"] != 1 || len(seen) != 2 {
				t.Fatalf("audited failures by address: %v, want 20 from %s and 1 from 127.0.0.3", seen, sprayerIP)
			}
		})
	}
}

// TestProxyHeaderOnlyFromProxies: a client that connects to an instance directly cannot choose
// its address with a PROXY header of its own; without one it is served as itself.
func TestProxyHeaderOnlyFromProxies(t *testing.T) {
	env := servertest.StartBalanced(t, 1, servertest.WithSecurityQuestions(false))
	addr := env.Instances[0].Addr()
	for _, tc := range []struct {
		name   string
		header bool
		wantOK bool
	}{
		{"no header", false, true},
		{"a header claiming another address", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.4")}, Timeout: 5 * time.Second}
			raw, err := d.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			if tc.header {
				h := proxyproto.HeaderProxyFromAddrs(2, &net.TCPAddr{IP: net.ParseIP("10.9.9.9"), Port: 4000}, raw.RemoteAddr())
				if _, err := h.WriteTo(raw); err != nil {
					t.Fatal(err)
				}
			}
			_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
			c := tls.Client(raw, &tls.Config{RootCAs: env.CAPool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
			err = c.Handshake()
			if err == nil {
				_, err = fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", api.PathMeta)
			}
			var reply bytes.Buffer
			if err == nil {
				_, err = reply.ReadFrom(c)
			}
			ok := bytes.HasPrefix(reply.Bytes(), []byte("HTTP/1.1 200"))
			if ok != tc.wantOK {
				t.Fatalf("served: %v, want %v (err %v, reply %.80q)", ok, tc.wantOK, err, reply.String())
			}
		})
	}
}
