// Package proxytest runs the network middle boxes of corporate networks for tests, on free
// loopback ports: a real forward proxy (tinyproxy from Debian, optionally with Basic
// authentication), a PAC script server, and a TLS-inspecting proxy that re-signs every
// connection with its own CA.
package proxytest

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/internal/testenv"
)

// Tinyproxy is a running tinyproxy.
type Tinyproxy struct {
	// URL is the proxy without credentials, http://127.0.0.1:PORT.
	URL  string
	Addr string
	log  string
	cmd  *exec.Cmd
}

// StartTinyproxy runs tinyproxy for the rest of the test; user and password non-empty require
// Basic authentication. It skips the test when tinyproxy is not installed (fails under
// scripts/test.sh).
func StartTinyproxy(t testing.TB, user, password string) *Tinyproxy {
	t.Helper()
	bin := testenv.NeedTool(t, "tinyproxy")
	dir := t.TempDir()
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	p := &Tinyproxy{URL: "http://" + addr, Addr: addr, log: filepath.Join(dir, "tinyproxy.log")}
	conf := fmt.Sprintf("Port %s\nListen 127.0.0.1\nTimeout 30\nLogFile %q\nLogLevel Connect\nMaxClients 50\nAllow 127.0.0.1\n", port, p.log)
	if user != "" {
		conf += fmt.Sprintf("BasicAuth %s %s\n", user, password)
	}
	cf := filepath.Join(dir, "tinyproxy.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, "-d", "-c", cf)
	var out bytes.Buffer
	p.cmd.Stdout, p.cmd.Stderr = &out, &out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("proxytest: start tinyproxy: %v", err)
	}
	t.Cleanup(p.Stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("proxytest: tinyproxy did not start on %s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends tinyproxy (the test's cleanup does it too).
func (p *Tinyproxy) Stop() {
	if p.cmd.Process != nil && p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}

// Tunnels counts the CONNECT requests to hostport that tinyproxy logged.
func (p *Tinyproxy) Tunnels(hostport string) int {
	data, _ := os.ReadFile(p.log)
	return strings.Count(string(data), "CONNECT "+hostport+" ")
}

// Log is tinyproxy's log so far.
func (p *Tinyproxy) Log() string {
	data, _ := os.ReadFile(p.log)
	return string(data)
}

// ServePAC serves script as a PAC file on loopback and returns its URL; the counter counts
// downloads.
func ServePAC(t testing.TB, script string) (string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/x-ns-proxy-autoconfig")
		_, _ = io.WriteString(w, script)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/proxy.pac", &n
}

// Interceptor is a TLS-inspecting proxy: it accepts CONNECT, presents a certificate for the
// requested host signed by its own CA, and relays to the real server over a second TLS
// connection, as corporate inspection appliances do.
type Interceptor struct {
	URL    string // the proxy, http://127.0.0.1:PORT
	CAPEM  []byte // its CA certificate
	CAFile string // the same, in a file
	CAName string // its CA's common name
	// Intercepted counts connections it re-signed.
	Intercepted atomic.Int32
}

// StartInterceptor runs an intercepting proxy that trusts upstream for the real servers.
func StartInterceptor(t testing.TB, upstream *x509.CertPool) *Interceptor {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Example Corp TLS Inspection CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	ic := &Interceptor{CAPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), CAName: ca.Subject.CommonName}
	ic.CAFile = filepath.Join(t.TempDir(), "inspection-ca.pem")
	if err := os.WriteFile(ic.CAFile, ic.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	forge := func(host string) (*tls.Certificate, error) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: host},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		if ip := net.ParseIP(host); ip != nil {
			tmpl.IPAddresses = []net.IP{ip}
		} else {
			tmpl.DNSNames = []string{host}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			return nil, err
		}
		return &tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}, nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		host, _, _ := net.SplitHostPort(r.Host)
		cert, err := forge(host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		raw, brw, err := Hijack(w)
		if err != nil {
			return
		}
		defer raw.Close()
		down := tls.Server(bufferedConn{raw, brw.Reader}, &tls.Config{Certificates: []tls.Certificate{*cert}, NextProtos: []string{"http/1.1"}})
		if err := down.Handshake(); err != nil {
			return // the client refused the forged certificate: what a careful client does
		}
		ic.Intercepted.Add(1)
		up, err := tls.Dial("tcp", r.Host, &tls.Config{RootCAs: upstream, ServerName: host, NextProtos: []string{"http/1.1"}})
		if err != nil {
			return
		}
		defer up.Close()
		go func() { _, _ = io.Copy(up, down); up.CloseWrite() }()
		_, _ = io.Copy(down, up)
	}))
	t.Cleanup(srv.Close)
	ic.URL = srv.URL
	return ic
}

// Hijack takes over a CONNECT request's connection and answers 200. Reads must go through the
// returned reader: the server may already have buffered the client's first bytes.
func Hijack(w http.ResponseWriter) (net.Conn, *bufio.ReadWriter, error) {
	raw, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, err
	}
	_, err = brw.WriteString("HTTP/1.1 200 Connection established\r\n\r\n")
	if err == nil {
		err = brw.Flush()
	}
	if err != nil {
		raw.Close()
		return nil, nil, err
	}
	return raw, brw, nil
}

// bufferedConn reads through a bufio.Reader that may hold bytes already read from the conn.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
