// Package ca is magd's certificate authority: one ECDSA P-256 CA kept in the data directory
// that issues the server's TLS certificate and the client certificates users request with a
// CSR, and verifies the client certificates presented on TLS connections.
package ca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

const (
	caValidity     = 10 * 365 * 24 * time.Hour
	serverValidity = 365 * 24 * time.Hour
	clientValidity = 365 * 24 * time.Hour
	// The server certificate is re-issued at start when it has less than this left.
	renewBefore = 30 * 24 * time.Hour
	// Backdating absorbs clock skew between magd and its clients.
	backdate = 5 * time.Minute
	// Organization written into every certificate this CA makes.
	organization = "MAG Desktop"
)

// Authority is a loaded CA with its current server certificate. It is safe for concurrent use.
type Authority struct {
	cert   *x509.Certificate
	key    crypto.Signer
	pem    []byte
	pool   *x509.CertPool
	server tls.Certificate
}

// LoadOrCreate opens the CA in dir, creating it on first use: dir (0700) with ca.pem and
// ca-key.pem (ECDSA P-256, PKCS#8, 0600, valid 10 years), and server.pem and server-key.pem
// for localhost, 127.0.0.1, ::1 and every hostname (1 year). Later calls load the CA and
// re-issue the server certificate when the hostnames changed or it expires within 30 days.
// A damaged or unreadable file is an error naming it; an existing CA key is never replaced.
func LoadOrCreate(dir string, hostnames []string, now time.Time) (*Authority, error) {
	names, ips, err := serverNames(hostnames)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ca: cannot create %s: %w", dir, err)
	}
	a, err := loadOrCreateCA(dir, now)
	if err != nil {
		return nil, err
	}
	if err := a.loadOrIssueServer(dir, names, ips, now); err != nil {
		return nil, err
	}
	return a, nil
}

// CACertPEM is the CA certificate in PEM, for clients to trust.
func (a *Authority) CACertPEM() []byte { return bytes.Clone(a.pem) }

// Pool is a pool holding only this CA.
func (a *Authority) Pool() *x509.CertPool { return a.pool.Clone() }

// ServerCertificate is the server's TLS certificate (leaf and key).
func (a *Authority) ServerCertificate() tls.Certificate { return a.server }

func loadOrCreateCA(dir string, now time.Time) (*Authority, error) {
	certPath, keyPath := filepath.Join(dir, caCertFile), filepath.Join(dir, caKeyFile)
	haveCert, haveKey, err := existBoth(certPath, keyPath)
	if err != nil {
		return nil, err
	}
	switch {
	case !haveCert && !haveKey:
		return createCA(certPath, keyPath, now)
	case !haveKey:
		return nil, fmt.Errorf("ca: %s is missing beside %s: restore it from a backup (or move the whole %s folder away to start a new CA, which invalidates every issued certificate)", keyPath, certPath, dir)
	case !haveCert:
		return nil, fmt.Errorf("ca: %s is missing beside %s: restore it from a backup (or move the whole %s folder away to start a new CA, which invalidates every issued certificate)", certPath, keyPath, dir)
	}
	cert, err := readCert(certPath)
	if err != nil {
		return nil, err
	}
	key, err := readKey(keyPath)
	if err != nil {
		return nil, err
	}
	if !cert.IsCA || !cert.BasicConstraintsValid {
		return nil, fmt.Errorf("ca: %s is not a CA certificate", certPath)
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, fmt.Errorf("ca: %s does not belong to the key in %s", certPath, keyPath)
	}
	if now.After(cert.NotAfter) {
		return nil, fmt.Errorf("ca: the CA certificate %s expired on %s: move the %s folder away to start a new CA", certPath, cert.NotAfter.Format(time.DateOnly), dir)
	}
	return newAuthority(cert, key), nil
}

func createCA(certPath, keyPath string, now time.Time) (*Authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("ca: generate CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			CommonName:   "MAG Desktop Reference CA " + hex.EncodeToString(serial.Bytes()[:4]),
			Organization: []string{organization},
		},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("ca: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	kp, err := keyPEM(key)
	if err != nil {
		return nil, err
	}
	// Key first: a crash before the certificate is written leaves a key without a certificate,
	// which LoadOrCreate reports rather than silently replacing.
	if err := writeFile(keyPath, kp, 0o600, true); err != nil {
		return nil, err
	}
	if err := writeFile(certPath, certPEM(der), 0o644, true); err != nil {
		return nil, err
	}
	return newAuthority(cert, key), nil
}

func newAuthority(cert *x509.Certificate, key crypto.Signer) *Authority {
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &Authority{cert: cert, key: key, pem: certPEM(cert.Raw), pool: pool}
}

// loadOrIssueServer keeps the server certificate on disk when it is ours, names exactly the
// wanted hosts, has a Subject Key Identifier (older versions issued none) and has more than
// renewBefore left; otherwise it issues a new one.
func (a *Authority) loadOrIssueServer(dir string, names []string, ips []net.IP, now time.Time) error {
	certPath, keyPath := filepath.Join(dir, serverCertFile), filepath.Join(dir, serverKeyFile)
	haveCert, haveKey, err := existBoth(certPath, keyPath)
	if err != nil {
		return err
	}
	if haveCert && haveKey {
		cert, err := readCert(certPath)
		if err != nil {
			return err
		}
		key, err := readKey(keyPath)
		if err != nil {
			return err
		}
		if cert.CheckSignatureFrom(a.cert) == nil && publicKeysEqual(cert.PublicKey, key.Public()) &&
			sameNames(cert, names, ips) && len(cert.SubjectKeyId) > 0 && now.Add(renewBefore).Before(cert.NotAfter) && !now.Before(cert.NotBefore) {
			a.server = tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
			return nil
		}
	}
	return a.issueServer(certPath, keyPath, names, ips, now)
}

func (a *Authority) issueServer(certPath, keyPath string, names []string, ips []net.IP, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("ca: generate server key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return err
	}
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		SubjectKeyId: ski,
		Subject:      pkix.Name{CommonName: names[0], Organization: []string{organization}},
		DNSNames:     names,
		IPAddresses:  ips,
		NotBefore:    now.Add(-backdate),
		NotAfter:     a.capToCA(now.Add(serverValidity)),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, key.Public(), a.key)
	if err != nil {
		return fmt.Errorf("ca: issue server certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	kp, err := keyPEM(key)
	if err != nil {
		return err
	}
	if err := writeFile(keyPath, kp, 0o600, false); err != nil {
		return err
	}
	if err := writeFile(certPath, certPEM(der), 0o644, false); err != nil {
		return err
	}
	a.server = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}
	return nil
}

// serverNames is the sorted, de-duplicated DNS names and IPs for the server certificate,
// localhost first so that it is the subject's common name.
func serverNames(hostnames []string) ([]string, []net.IP, error) {
	names := []string{"localhost"}
	ips := []net.IP{net.IPv4(127, 0, 0, 1).To4(), net.IPv6loopback}
	for _, h := range hostnames {
		h = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
		if ip := net.ParseIP(h); ip != nil {
			if v4 := ip.To4(); v4 != nil {
				ip = v4
			}
			if !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
			continue
		}
		if !validDNSName(h) {
			return nil, nil, fmt.Errorf("ca: hostname %q is not a valid DNS name or IP address", h)
		}
		if !slices.Contains(names, h) {
			names = append(names, h)
		}
	}
	slices.Sort(names[1:])
	return names, ips, nil
}

func validDNSName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func sameNames(cert *x509.Certificate, names []string, ips []net.IP) bool {
	got := slices.Clone(cert.DNSNames)
	want := slices.Clone(names)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) || len(cert.IPAddresses) != len(ips) {
		return false
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

// capToCA keeps a certificate from outliving the CA that signed it.
func (a *Authority) capToCA(t time.Time) time.Time {
	if t.After(a.cert.NotAfter) {
		return a.cert.NotAfter
	}
	return t
}

// randomSerial is a positive 128-bit serial number (RFC 5280 allows up to 20 octets).
func randomSerial() (*big.Int, error) {
	for {
		n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
		if err != nil {
			return nil, fmt.Errorf("ca: random serial: %w", err)
		}
		if n.BitLen() > 96 { // also keeps the name suffix below at 4 random bytes
			return n, nil
		}
	}
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// subjectKeyID is the Subject Key Identifier of a public key (RFC 5280 §4.2.1.2 says SHOULD for
// every certificate; x509 makes one only for CAs): the leftmost 160 bits of the SHA-256 of the
// subjectPublicKey bit string (RFC 7093 §2, method 1). x509 copies the CA's into the Authority
// Key Identifier of what it signs.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("ca: encode public key: %w", err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, fmt.Errorf("ca: read public key: %w", err)
	}
	sum := sha256.Sum256(spki.PublicKey.Bytes)
	return sum[:20], nil
}
