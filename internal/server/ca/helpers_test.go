package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
)

// Keys are made once per test binary: RSA generation is slow under the race detector.
var testKeys = sync.OnceValue(func() map[string]crypto.Signer {
	must := func(k crypto.Signer, err error) crypto.Signer {
		if err != nil {
			panic(err)
		}
		return k
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return map[string]crypto.Signer{
		"rsa2048": must(rsa.GenerateKey(rand.Reader, 2048)),
		"rsa1024": must(rsa.GenerateKey(rand.Reader, 1024)),
		"p256":    must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)),
		"p384":    must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader)),
		"p224":    must(ecdsa.GenerateKey(elliptic.P224(), rand.Reader)),
		"ed25519": ed,
	}
})

// newCSR makes a real PKCS#10 request that asks for far more than it will get: another
// subject, DNS and email SANs and CA basic constraints.
func newCSR(t testing.TB, key crypto.Signer) []byte {
	t.Helper()
	bc, err := asn1.Marshal(struct {
		IsCA bool `asn1:"optional"`
	}{true})
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:         pkix.Name{CommonName: "administrator", Organization: []string{"Evil Corp"}},
		DNSNames:        []string{"evil.example"},
		EmailAddresses:  []string{"root@evil.example"},
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Critical: true, Value: bc}},
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func testAuthority(t testing.TB, hostnames ...string) (*Authority, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ca")
	a, err := LoadOrCreate(dir, hostnames, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return a, dir
}

// issue makes a client certificate for key, issued at the given time.
func issue(t testing.TB, a *Authority, key crypto.Signer, id string, at time.Time) *x509.Certificate {
	t.Helper()
	cert, err := a.IssueClient(newCSR(t, key), id, at)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func problemCode(err error) api.Code {
	var p *api.Problem
	if errors.As(err, &p) {
		return p.Code
	}
	return ""
}
