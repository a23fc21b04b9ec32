package certstore

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// FuzzParseIdentity feeds arbitrary bytes to every parser that reads what users or tools hand
// us: PKCS#12 files, PEM identities, certutil and security output. None may panic, and a
// PKCS#12 that parses must hold a key that matches its certificate.
func FuzzParseIdentity(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), zeroReader{})
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Fuzz"},
		NotBefore: time.Unix(1.7e9, 0), NotAfter: time.Unix(1.8e9, 0)}
	der, _ := x509.CreateCertificate(zeroReader{}, tmpl, tmpl, key.Public(), key)
	cert, _ := x509.ParseCertificate(der)
	// One KDF round keeps each run cheap; the cap keeps mutated round counts cheap too.
	maxIterations = 64
	modern, _ := pkcs12.Modern.WithRand(zeroReader{}).WithIterations(1).Encode(key, cert, nil, "pw")
	legacy, _ := pkcs12.LegacyDES.WithRand(zeroReader{}).WithIterations(1).Encode(key, cert, nil, "pw")
	f.Add(modern, "pw")
	f.Add(legacy, "pw")
	f.Add(modern[:len(modern)/2], "pw")
	f.Add(CertPEM(cert), "")
	for _, name := range []string{"find-identity.txt", "find-certificate-login.txt"} {
		data, _ := os.ReadFile(filepath.Join("testdata", "keychain", name))
		f.Add(data, "")
	}
	f.Add([]byte("Jane Doe                                  u,u,u\n< 0> ec  d77839cd5ac1fe66a452f712836ab755b2f22b95  Jane Doe\n"), "")
	f.Fuzz(func(t *testing.T, data []byte, pw string) {
		if b, err := ParsePKCS12(data, pw); err == nil {
			if !publicKeyEqual(b.Cert.PublicKey, b.Key.Public()) {
				t.Fatal("leaf does not match the key")
			}
		} else if CodeOf(err) == "" {
			t.Fatalf("error without a code: %v", err)
		}
		if b, err := bundleFromPEM(data); err == nil && !publicKeyEqual(b.Cert.PublicKey, b.Key.Public()) {
			t.Fatal("PEM leaf does not match the key")
		}
		parseCertutilL(data)
		parseCertutilK(data)
		parseFindIdentity(data)
		for _, c := range parsePEMCerts(data) {
			MetadataOf(c)
		}
	})
}

// zeroReader makes the seed corpus deterministic.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 1
	}
	return len(p), nil
}
