package ca

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadOrCreateFirstRun(t *testing.T) {
	now := time.Now()
	dir := filepath.Join(t.TempDir(), "data", "ca")
	a, err := LoadOrCreate(dir, []string{"Mag.Example.Test.", "10.1.2.3", "mag.example.test"}, now)
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]os.FileMode{"": 0o700, caKeyFile: 0o600, serverKeyFile: 0o600, caCertFile: 0o644, serverCertFile: 0o644} {
		if got := mode(t, filepath.Join(dir, file)); got != want {
			t.Errorf("%s: mode %v, want %v", file, got, want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("dir holds %d entries, want exactly the 4 files (no temporaries)", len(entries))
	}

	block, _ := pem.Decode(readFile(t, filepath.Join(dir, caKeyFile)))
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatal("ca-key.pem is not a PKCS#8 PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if k, ok := key.(*ecdsa.PrivateKey); err != nil || !ok || k.Curve != elliptic.P256() {
		t.Fatalf("ca-key.pem holds %T (%v), want an ECDSA P-256 key", key, err)
	}

	if !bytes.Equal(a.CACertPEM(), readFile(t, filepath.Join(dir, caCertFile))) {
		t.Error("CACertPEM differs from ca.pem")
	}
	ca := a.cert
	if !regexp.MustCompile(`^MAG Desktop Reference CA [0-9a-f]{8}$`).MatchString(ca.Subject.CommonName) {
		t.Errorf("CA name %q", ca.Subject.CommonName)
	}
	if !ca.IsCA || ca.CheckSignatureFrom(ca) != nil || ca.NotAfter.Sub(now) < 3649*24*time.Hour {
		t.Errorf("CA is not a self-signed CA valid 10 years: IsCA=%v NotAfter=%v", ca.IsCA, ca.NotAfter)
	}

	srv := a.ServerCertificate().Leaf
	if got, want := srv.DNSNames, []string{"localhost", "mag.example.test"}; !slices.Equal(got, want) {
		t.Errorf("server DNS names %v, want %v", got, want)
	}
	if len(srv.IPAddresses) != 3 {
		t.Errorf("server IPs %v, want 127.0.0.1, ::1, 10.1.2.3", srv.IPAddresses)
	}
	if d := srv.NotAfter.Sub(now); d < 364*24*time.Hour || d > 366*24*time.Hour {
		t.Errorf("server certificate valid for %v, want 1 year", d)
	}
	for _, host := range []string{"localhost", "mag.example.test", "127.0.0.1", "::1", "10.1.2.3"} {
		if _, err := srv.Verify(x509.VerifyOptions{Roots: a.Pool(), DNSName: host, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("server certificate for %s: %v", host, err)
		}
	}
	if _, err := srv.Verify(x509.VerifyOptions{Roots: a.Pool(), DNSName: "other.example"}); err == nil {
		t.Error("server certificate verifies for a name it was not issued for")
	}
}

func TestLoadOrCreateReloadsAndReissues(t *testing.T) {
	start := time.Now()
	dir := filepath.Join(t.TempDir(), "ca")
	first, err := LoadOrCreate(dir, []string{"a.example"}, start)
	if err != nil {
		t.Fatal(err)
	}
	caKey := readFile(t, filepath.Join(dir, caKeyFile))
	tests := []struct {
		name      string
		hostnames []string
		at        time.Time
		reissue   bool
	}{
		{"same names", []string{"a.example"}, start, false},
		{"same names, other spelling", []string{"A.EXAMPLE.", "a.example"}, start.Add(24 * time.Hour), false},
		{"name added", []string{"a.example", "b.example"}, start, true},
		{"name removed", nil, start, true},
		{"ip added", []string{"192.0.2.7"}, start, true},
		{"35 days left", []string{"192.0.2.7"}, start.Add(330 * 24 * time.Hour), false},
		{"28 days left", []string{"192.0.2.7"}, start.Add(337 * 24 * time.Hour), true},
	}
	prev := first.ServerCertificate().Leaf
	for _, tc := range tests {
		a, err := LoadOrCreate(dir, tc.hostnames, tc.at)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !bytes.Equal(a.CACertPEM(), first.CACertPEM()) {
			t.Fatalf("%s: the CA changed", tc.name)
		}
		if !bytes.Equal(readFile(t, filepath.Join(dir, caKeyFile)), caKey) {
			t.Fatalf("%s: the CA key file changed", tc.name)
		}
		srv := a.ServerCertificate().Leaf
		if reissued := srv.SerialNumber.Cmp(prev.SerialNumber) != 0; reissued != tc.reissue {
			t.Errorf("%s: reissued = %v, want %v", tc.name, reissued, tc.reissue)
		}
		if mode(t, filepath.Join(dir, serverKeyFile)) != 0o600 {
			t.Errorf("%s: server key mode is not 0600", tc.name)
		}
		onDisk, err := readCert(filepath.Join(dir, serverCertFile))
		if err != nil || !onDisk.Equal(srv) {
			t.Errorf("%s: server.pem does not hold the certificate in use (%v)", tc.name, err)
		}
		prev = srv
	}
}

func TestLoadOrCreateRefusesDamage(t *testing.T) {
	otherDir := filepath.Join(t.TempDir(), "other")
	if _, err := LoadOrCreate(otherDir, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	garbage := func(path string) error { return os.WriteFile(path, []byte("not a pem file\n"), 0o600) }
	truncate := func(path string) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(path, b[:len(b)/2], 0o600)
	}
	badDER := func(path string) error {
		b, _ := os.ReadFile(path)
		block, _ := pem.Decode(b)
		block.Bytes = block.Bytes[:len(block.Bytes)-10]
		return os.WriteFile(path, pem.EncodeToMemory(block), 0o600)
	}
	replaceWithDir := func(path string) error {
		if err := os.Remove(path); err != nil {
			return err
		}
		return os.Mkdir(path, 0o700)
	}
	remove := os.Remove
	otherCA := func(path string) error {
		return os.WriteFile(path, readFile(t, filepath.Join(otherDir, caCertFile)), 0o644)
	}
	tests := []struct {
		file   string
		damage func(string) error
		want   string
	}{
		{caCertFile, garbage, "ca.pem is damaged"},
		{caCertFile, truncate, "ca.pem is damaged"},
		{caCertFile, badDER, "ca.pem is damaged"},
		{caCertFile, replaceWithDir, "ca.pem"},
		{caCertFile, remove, "ca.pem is missing"},
		{caCertFile, otherCA, "ca.pem does not belong to the key"},
		{caKeyFile, garbage, "ca-key.pem is damaged"},
		{caKeyFile, badDER, "ca-key.pem is damaged"},
		{caKeyFile, remove, "ca-key.pem is missing"},
		{serverCertFile, garbage, "server.pem is damaged"},
		{serverKeyFile, truncate, "server-key.pem is damaged"},
	}
	for _, tc := range tests {
		_, dir := testAuthority(t)
		path := filepath.Join(dir, tc.file)
		if err := tc.damage(path); err != nil {
			t.Fatal(err)
		}
		keyBefore, _ := os.ReadFile(filepath.Join(dir, caKeyFile))
		_, err := LoadOrCreate(dir, nil, time.Now())
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), dir) {
			t.Errorf("%s damaged: err = %v; want one naming the file with %q", tc.file, err, tc.want)
		}
		if keyAfter, _ := os.ReadFile(filepath.Join(dir, caKeyFile)); !bytes.Equal(keyBefore, keyAfter) {
			t.Errorf("%s damaged: the CA key file was changed", tc.file)
		}
	}
}

func TestLoadOrCreateRejects(t *testing.T) {
	if _, err := LoadOrCreate(t.TempDir(), []string{"bad host!"}, time.Now()); err == nil || !strings.Contains(err.Error(), "bad host!") {
		t.Errorf("bad hostname: %v", err)
	}
	_, dir := testAuthority(t)
	if _, err := LoadOrCreate(dir, nil, time.Now().AddDate(11, 0, 0)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired CA: %v", err)
	}
	// A file where the directory should be.
	file := filepath.Join(t.TempDir(), "ca")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(file, nil, time.Now()); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("dir is a file: %v", err)
	}
}

func TestServerNames(t *testing.T) {
	names, ips, err := serverNames([]string{" Z.example ", "a.example", "::1", "127.0.0.1", "::ffff:10.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"localhost", "a.example", "z.example"}) {
		t.Errorf("names %v", names)
	}
	want := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback, net.IPv4(10, 0, 0, 1)}
	if len(ips) != len(want) {
		t.Fatalf("ips %v, want %v", ips, want)
	}
	for i := range want {
		if !ips[i].Equal(want[i]) {
			t.Errorf("ip %d: %v, want %v", i, ips[i], want[i])
		}
	}
	for _, bad := range []string{"-a.example", "a..example", "a_b.example", "ex ample", strings.Repeat("a", 64) + ".example"} {
		if _, _, err := serverNames([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
