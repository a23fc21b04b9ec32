package ca

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
)

func TestIssueClient(t *testing.T) {
	a, _ := testAuthority(t)
	now := time.Now()
	keys := testKeys()
	p256 := newCSR(t, keys["p256"])
	p256DER, _ := pem.Decode(p256)
	broken := bytes.Clone(p256DER.Bytes)
	broken[len(broken)-1] ^= 0x01 // last byte of the signature
	tests := []struct {
		name string
		csr  []byte
		want api.Code // "" = issued
	}{
		{"rsa 2048", newCSR(t, keys["rsa2048"]), ""},
		{"p-256 pem", p256, ""},
		{"p-256 der", p256DER.Bytes, ""},
		{"p-384", newCSR(t, keys["p384"]), ""},
		{"NEW CERTIFICATE REQUEST block", pem.EncodeToMemory(&pem.Block{Type: "NEW CERTIFICATE REQUEST", Bytes: p256DER.Bytes}), ""},
		{"rsa 1024", newCSR(t, keys["rsa1024"]), api.CodeCSRKeyUnsupported},
		{"p-224", newCSR(t, keys["p224"]), api.CodeCSRKeyUnsupported},
		{"ed25519", newCSR(t, keys["ed25519"]), api.CodeCSRKeyUnsupported},
		{"broken signature", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: broken}), api.CodeCSRSignatureInvalid},
		{"garbage", []byte("hello, I am a certificate request"), api.CodeCSRInvalid},
		{"garbage pem", []byte("-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgY3Ny\n-----END CERTIFICATE REQUEST-----\n"), api.CodeCSRInvalid},
		{"damaged pem", []byte("-----BEGIN CERTIFICATE REQUEST-----\n!!!\n"), api.CodeCSRInvalid},
		{"a certificate instead", a.CACertPEM(), api.CodeCSRInvalid},
		{"truncated der", p256DER.Bytes[:len(p256DER.Bytes)/2], api.CodeCSRInvalid},
		{"empty", nil, api.CodeCSRInvalid},
		{"too large", bytes.Repeat([]byte{'A'}, maxCSRSize+1), api.CodeCSRInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cert, err := a.IssueClient(tc.csr, "c-0001", now)
			if tc.want != "" {
				if got := problemCode(err); got != tc.want {
					t.Fatalf("err = %v; want %s", err, tc.want)
				}
				if p := err.(*api.Problem); p.Status != 400 || p.Detail == "" {
					t.Fatalf("problem %+v: want status 400 and a detail", p)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkIssued(t, a, cert, "c-0001", now)
		})
	}
}

// checkIssued asserts the certificate is exactly what the CA promises, whatever was asked.
func checkIssued(t *testing.T, a *Authority, cert *x509.Certificate, id string, now time.Time) {
	t.Helper()
	if cert.Subject.CommonName != id || !slices.Equal(cert.Subject.Organization, []string{"MAG Desktop"}) {
		t.Errorf("subject %q: the requested subject leaked in or ours is missing", cert.Subject)
	}
	if len(cert.DNSNames)+len(cert.EmailAddresses)+len(cert.IPAddresses) != 0 || cert.IsCA {
		t.Errorf("requested extensions leaked in: DNS %v email %v CA %v", cert.DNSNames, cert.EmailAddresses, cert.IsCA)
	}
	if len(cert.URIs) != 1 || cert.URIs[0].String() != "urn:mag:cert:"+id {
		t.Errorf("URIs %v", cert.URIs)
	}
	if got, ok := CertIDFromSAN(cert); !ok || got != id {
		t.Errorf("CertIDFromSAN = %q, %v", got, ok)
	}
	if cert.KeyUsage != x509.KeyUsageDigitalSignature || !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Errorf("key usage %v / %v", cert.KeyUsage, cert.ExtKeyUsage)
	}
	if cert.SerialNumber.BitLen() <= 96 || cert.SerialNumber.BitLen() > 128 {
		t.Errorf("serial has %d bits", cert.SerialNumber.BitLen())
	}
	if !cert.NotBefore.Equal(now.Add(-5*time.Minute).Truncate(time.Second)) || !cert.NotAfter.Equal(now.Add(365*24*time.Hour).Truncate(time.Second)) {
		t.Errorf("validity %v .. %v", cert.NotBefore, cert.NotAfter)
	}
	if err := a.VerifyClient(cert, now); err != nil {
		t.Errorf("VerifyClient: %v", err)
	}
	if sum := SHA256Hex(cert); len(sum) != 64 || strings.ToLower(sum) != sum {
		t.Errorf("SHA256Hex = %q", sum)
	}
}

func TestIssueClientRejectsBadID(t *testing.T) {
	a, _ := testAuthority(t)
	csr := newCSR(t, testKeys()["p256"])
	for _, id := range []string{"", "a b", "x/y", strings.Repeat("a", 65), "ü"} {
		if _, err := a.IssueClient(csr, id, time.Now()); err == nil || problemCode(err) != "" {
			t.Errorf("id %q: err = %v; want a plain error", id, err)
		}
	}
}

func TestVerifyClient(t *testing.T) {
	a, _ := testAuthority(t)
	other, _ := testAuthority(t)
	now := time.Now()
	key := testKeys()["p256"]
	tests := []struct {
		name string
		cert *x509.Certificate
		want api.Code
	}{
		{"ours", issue(t, a, key, "ours", now), ""},
		{"ours, last day", issue(t, a, key, "old", now.Add(-364*24*time.Hour)), ""},
		{"ours, expired", issue(t, a, key, "expired", now.Add(-366*24*time.Hour)), api.CodeCertExpired},
		{"ours, not yet valid", issue(t, a, key, "future", now.Add(time.Hour)), api.CodeCertExpired},
		{"another CA", issue(t, other, key, "foreign", now), api.CodeCertUntrusted},
		{"another CA, expired", issue(t, other, key, "foreign-old", now.Add(-400*24*time.Hour)), api.CodeCertUntrusted}, // never told to renew here,
		{"our server certificate (no clientAuth)", a.ServerCertificate().Leaf, api.CodeCertUntrusted},
		{"our CA itself", a.cert, api.CodeCertUntrusted},
		{"none", nil, api.CodeCertRequired},
	}
	for _, tc := range tests {
		err := a.VerifyClient(tc.cert, now)
		if got := problemCode(err); got != tc.want || (tc.want == "" && err != nil) {
			t.Errorf("%s: err = %v; want %q", tc.name, err, tc.want)
			continue
		}
		if p, ok := err.(*api.Problem); ok && tc.cert != nil && p.CertSHA256 != SHA256Hex(tc.cert) {
			t.Errorf("%s: problem names certificate %q", tc.name, p.CertSHA256)
		}
	}
}

func TestCertIDFromSAN(t *testing.T) {
	a, _ := testAuthority(t)
	if _, ok := CertIDFromSAN(a.ServerCertificate().Leaf); ok {
		t.Error("a certificate without a urn:mag:cert SAN has an id")
	}
}

func FuzzIssueClient(f *testing.F) {
	a, _ := testAuthority(f)
	now := time.Now()
	for _, k := range []string{"p256", "rsa2048", "p224"} {
		csr := newCSR(f, testKeys()[k])
		f.Add(csr)
		block, _ := pem.Decode(csr)
		f.Add(block.Bytes)
	}
	f.Add([]byte("-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n"))
	f.Add([]byte{0x30, 0x82, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, csr []byte) {
		cert, err := a.IssueClient(csr, "fuzz", now)
		if err != nil {
			switch problemCode(err) {
			case api.CodeCSRInvalid, api.CodeCSRSignatureInvalid, api.CodeCSRKeyUnsupported:
				return
			}
			t.Fatalf("not a CSR problem: %v", err)
		}
		if id, ok := CertIDFromSAN(cert); !ok || id != "fuzz" {
			t.Fatalf("issued certificate has id %q", id)
		}
		if err := a.VerifyClient(cert, now); err != nil {
			t.Fatalf("issued certificate does not verify: %v", err)
		}
	})
}
