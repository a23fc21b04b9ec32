package hardening

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/service"
)

// sslscanReport is what the TLS test reads from sslscan's text output.
type sslscanReport struct {
	protocols map[string]bool // "TLSv1.2" -> enabled
	ciphers   []scannedCipher
	lines     []string
}

type scannedCipher struct {
	protocol string
	bits     int
	name     string
}

var (
	protoLine  = regexp.MustCompile(`^(SSLv[23]|TLSv1\.[0-3])\s+(enabled|disabled)\s*$`)
	cipherLine = regexp.MustCompile(`^(?:Preferred|Accepted)\s+(SSLv[23]|TLSv1\.[0-3])\s+(\d+) bits\s+(\S+)`)
)

func parseSSLScan(out string) sslscanReport {
	r := sslscanReport{protocols: map[string]bool{}}
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		r.lines = append(r.lines, l)
		if m := protoLine.FindStringSubmatch(l); m != nil {
			r.protocols[m[1]] = m[2] == "enabled"
		}
		if m := cipherLine.FindStringSubmatch(l); m != nil {
			bits, _ := strconv.Atoi(m[2])
			r.ciphers = append(r.ciphers, scannedCipher{protocol: m[1], bits: bits, name: m[3]})
		}
	}
	return r
}

// weakCipher says why a suite is weak, or "".
func weakCipher(c scannedCipher) string {
	n := strings.ToUpper(c.name)
	switch {
	case c.protocol != "TLSv1.2" && c.protocol != "TLSv1.3":
		return "offered with " + c.protocol
	case c.bits < 128:
		return "fewer than 128 bits"
	case strings.Contains(n, "RC4"), strings.Contains(n, "3DES"), strings.Contains(n, "DES-CBC"), strings.Contains(n, "NULL"),
		strings.Contains(n, "EXP"), strings.Contains(n, "ANON"), strings.HasPrefix(n, "ADH"), strings.HasPrefix(n, "AECDH"),
		strings.Contains(n, "MD5"), strings.Contains(n, "IDEA"), strings.Contains(n, "SEED"):
		return "a broken algorithm"
	case strings.HasSuffix(n, "-SHA") || strings.Contains(n, "CBC"):
		return "CBC with a SHA-1 MAC"
	case !strings.HasPrefix(n, "TLS_") && !strings.HasPrefix(n, "ECDHE-") && !strings.HasPrefix(n, "DHE-"):
		return "no forward secrecy"
	}
	return ""
}

// TestSSLScan runs Debian's sslscan against a running magd: only TLS 1.2 and 1.3, and only
// strong, forward-secret AEAD suites.
func TestSSLScan(t *testing.T) {
	t.Parallel() // independent of the environment; overlaps with the other slow network tests
	bin, err := exec.LookPath("sslscan")
	if err != nil {
		t.Skip("sslscan is not installed (apt-get install sslscan)")
	}
	w := newWorld(t)
	host := strings.TrimPrefix(w.env.URL, "https://")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--no-colour", host).CombinedOutput()
	if err != nil {
		t.Fatalf("sslscan %s: %v\n%s", host, err, out)
	}
	r := parseSSLScan(string(out))
	for _, p := range []string{"SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"} {
		want := p == "TLSv1.2" || p == "TLSv1.3"
		got, seen := r.protocols[p]
		if !seen || got != want {
			t.Errorf("%s: enabled=%v (reported %v), want enabled=%v\n%s", p, got, seen, want, out)
		}
	}
	if len(r.ciphers) < 2 {
		t.Fatalf("sslscan listed %d cipher suites:\n%s", len(r.ciphers), out)
	}
	protos := map[string]int{}
	for _, c := range r.ciphers {
		protos[c.protocol]++
		if why := weakCipher(c); why != "" {
			t.Errorf("weak cipher suite %s %s (%d bits): %s", c.protocol, c.name, c.bits, why)
		}
	}
	if protos["TLSv1.2"] == 0 || protos["TLSv1.3"] == 0 {
		t.Errorf("suites per protocol: %v", protos)
	}
	for _, l := range r.lines {
		if (strings.Contains(l, "vulnerable to heartbleed") && !strings.Contains(l, "not vulnerable")) ||
			strings.Contains(l, "Insecure session renegotiation") || strings.HasPrefix(l, "Compression enabled") {
			t.Errorf("sslscan reports %q", l)
		}
	}
	t.Logf("sslscan: protocols %v, %d suites, all strong", protos, len(r.ciphers))
}

// TestWeakSSLScanOutputIsCaught: the parser and the rules flag what a weak server looks like.
func TestWeakSSLScanOutputIsCaught(t *testing.T) {
	r := parseSSLScan(`  SSL/TLS Protocols:
SSLv3     disabled
TLSv1.0   enabled
TLSv1.2   enabled
  Supported Server Cipher(s):
Preferred TLSv1.2  128 bits  ECDHE-RSA-AES128-GCM-SHA256   Curve 25519 DHE 253
Accepted  TLSv1.2  128 bits  ECDHE-RSA-AES128-SHA          Curve 25519 DHE 253
Accepted  TLSv1.2  112 bits  DES-CBC3-SHA
Accepted  TLSv1.0  128 bits  RC4-MD5
Accepted  TLSv1.2  256 bits  AES256-GCM-SHA384
Accepted  TLSv1.2  128 bits  ADH-AES128-GCM-SHA256
`)
	if !r.protocols["TLSv1.0"] || r.protocols["SSLv3"] || len(r.ciphers) != 6 {
		t.Fatalf("parsed %+v", r)
	}
	var weak []string
	for _, c := range r.ciphers {
		if weakCipher(c) != "" {
			weak = append(weak, c.name)
		}
	}
	if strings.Join(weak, ",") != "ECDHE-RSA-AES128-SHA,DES-CBC3-SHA,RC4-MD5,AES256-GCM-SHA384,ADH-AES128-GCM-SHA256" {
		t.Fatalf("flagged %v", weak)
	}
}

// forward relays TCP from a listener on laddr to the real magd, until the test ends.
func forward(t *testing.T, laddr, to string) string {
	t.Helper()
	ln, err := net.Listen("tcp", laddr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", laddr, err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				up, err := net.DialTimeout("tcp", to, 5*time.Second)
				if err != nil {
					return
				}
				defer up.Close()
				_ = c.SetDeadline(time.Now().Add(20 * time.Second))
				_ = up.SetDeadline(time.Now().Add(20 * time.Second))
				go func() { _, _ = io.Copy(up, c) }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	return ln.Addr().String()
}

// TestClientRefusesUntrustedServers: the real client refuses magd's certificate without its
// CA, and refuses it under a name the certificate does not carry (127.0.0.2 relayed to the
// real magd), with IsUntrustedServer; no request reaches the server. Old TLS is refused too.
func TestClientRefusesUntrustedServers(t *testing.T) {
	w := newWorld(t)
	host := strings.TrimPrefix(w.env.URL, "https://")
	ctx := ctxT(t)
	cases := []struct {
		name string
		opts client.Options
	}{
		{"CA not trusted", client.Options{ServerURL: w.env.URL}},
		{"name not in the certificate", client.Options{ServerURL: "https://" + forward(t, "127.0.0.2:0", host), CAPEM: w.env.CAPEM}},
	}
	for _, tc := range cases {
		tc.opts.Timeout, tc.opts.Retries = 10*time.Second, -1
		c, err := client.New(tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Login(ctx, w.user, pwUser, "")
		if !client.IsUntrustedServer(err) || client.IsOffline(err) {
			t.Errorf("%s: login error = %v, want an untrusted server", tc.name, err)
		}
		c.CloseIdleConnections()
		t.Logf("%s: %s", tc.name, service.Message(err))
	}
	// The same client trusting the CA under the right name works (the refusals were about trust).
	c := w.client(t)
	if _, err := c.Meta(ctx); err != nil {
		t.Fatalf("trusted: %v", err)
	}
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		conn, err := tls.Dial("tcp", host, &tls.Config{RootCAs: w.env.CAPool, MinVersion: v, MaxVersion: v})
		if err == nil {
			conn.Close()
			t.Errorf("magd accepted a %s handshake", tls.VersionName(v))
		}
	}
}

// TestClientRefusesAReplacedServer: a different magd (another CA: a reinstalled or rogue
// gateway) answering on the trusted address is refused as untrusted, not taken for the old one.
func TestClientRefusesAReplacedServer(t *testing.T) {
	first := magdOn(t, t.TempDir(), "127.0.0.1:0")
	addr := strings.TrimPrefix(first.URL(), "https://")
	c, err := client.New(client.Options{ServerURL: first.URL(), CAPEM: first.CACertPEM(), Timeout: 10 * time.Second, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if _, err := c.Meta(ctxT(t)); err != nil {
		t.Fatalf("the trusted server: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	c.CloseIdleConnections()
	other := magdOn(t, t.TempDir(), addr) // same address, a new CA
	defer other.Close()
	_, err = c.Meta(ctxT(t))
	// Without the old CA's signature the client cannot tell a replaced server from a
	// TLS-inspecting proxy: either refusal is right, taking it for the old one is not.
	if !client.IsUntrustedServer(err) && !client.IsIntercepted(err) {
		t.Fatalf("a replaced server on %s: %v, want an untrusted or intercepted server", addr, err)
	}
}
