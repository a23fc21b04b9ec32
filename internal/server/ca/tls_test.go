package ca

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
)

// TestTLSHandshake runs real TLS on loopback the way magd does: the server requests a client
// certificate without verifying it in the handshake, and a handler verifies it with
// VerifyClient, so that every certificate problem becomes an answer instead of a TLS alert.
func TestTLSHandshake(t *testing.T) {
	a, _ := testAuthority(t)
	other, _ := testAuthority(t)
	now := time.Now()
	key := testKeys()["p256"]
	rsaKey := testKeys()["rsa2048"]
	clientCert := func(c *x509.Certificate, k crypto.Signer) []tls.Certificate {
		return []tls.Certificate{{Certificate: [][]byte{c.Raw}, PrivateKey: k, Leaf: c}}
	}
	stolen := issue(t, a, key, "stolen", now)

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 {
			fmt.Fprint(w, "none")
			return
		}
		if err := a.VerifyClient(r.TLS.PeerCertificates[0], time.Now()); err != nil {
			fmt.Fprint(w, problemCode(err))
			return
		}
		id, _ := CertIDFromSAN(r.TLS.PeerCertificates[0])
		fmt.Fprint(w, "ok "+id)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes below are expected
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{a.ServerCertificate()}, ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()

	tests := []struct {
		name  string
		certs []tls.Certificate
		want  string
	}{
		{"ours (ECDSA)", clientCert(issue(t, a, key, "c-ec", now), key), "ok c-ec"},
		{"ours (RSA)", clientCert(issue(t, a, rsaKey, "c-rsa", now), rsaKey), "ok c-rsa"},
		{"expired", clientCert(issue(t, a, key, "c-old", now.AddDate(-2, 0, 0)), key), string(api.CodeCertExpired)},
		{"another CA", clientCert(issue(t, other, key, "c-other", now), key), string(api.CodeCertUntrusted)},
		{"no certificate", nil, "none"},
	}
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		for _, tc := range tests {
			for _, serverName := range []string{"localhost", "127.0.0.1"} {
				client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
					RootCAs: a.Pool(), ServerName: serverName, Certificates: tc.certs,
					MinVersion: version, MaxVersion: version,
				}}}
				resp, err := client.Get(srv.URL)
				if err != nil {
					t.Fatalf("%s over %s to %s: %v", tc.name, tls.VersionName(version), serverName, err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(body) != tc.want {
					t.Errorf("%s over %s: server said %q, want %q", tc.name, tls.VersionName(version), body, tc.want)
				}
				client.CloseIdleConnections()
			}
		}
	}

	// A certificate without its private key cannot be presented: the handshake proves possession.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: a.Pool(), ServerName: "localhost", Certificates: clientCert(stolen, testKeys()["p384"]),
	}}}
	if resp, err := client.Get(srv.URL); err == nil {
		resp.Body.Close()
		t.Error("a certificate presented with the wrong key was accepted")
	}

	// The server certificate is not trusted without our CA.
	if resp, err := http.Get(srv.URL); err == nil {
		resp.Body.Close()
		t.Error("the server certificate verified against the system roots")
	}
}
