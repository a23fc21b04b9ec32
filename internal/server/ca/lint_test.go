package ca

import (
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
)

// TestCertificatesPassRFC5280Lints runs zlint's RFC 5280 lints on the CA certificate, the
// server certificate and an issued client certificate (RSA and ECDSA keys): no error and no
// warning (a missing Subject or Authority Key Identifier is one).
func TestCertificatesPassRFC5280Lints(t *testing.T) {
	a, _ := testAuthority(t, "gw.example")
	block, _ := pem.Decode(a.CACertPEM())
	reg, err := lint.GlobalRegistry().Filter(lint.FilterOptions{IncludeSources: lint.SourceList{lint.RFC5280}})
	if err != nil {
		t.Fatal(err)
	}
	if len(reg.Names()) < 50 {
		t.Fatalf("only %d RFC 5280 lints registered", len(reg.Names()))
	}
	now := time.Now()
	cases := []struct {
		name string
		der  []byte
	}{
		{"CA", block.Bytes},
		{"server", a.ServerCertificate().Certificate[0]},
		{"client RSA", issue(t, a, testKeys()["rsa2048"], "crt_rsa", now).Raw},
		{"client ECDSA", issue(t, a, testKeys()["p256"], "crt_ec", now).Raw},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := x509.ParseCertificate(tc.der); err != nil {
				t.Fatal(err)
			}
			c, err := zx509.ParseCertificate(tc.der)
			if err != nil {
				t.Fatal(err)
			}
			for name, r := range zlint.LintCertificateEx(c, reg).Results {
				if r.Status == lint.Warn || r.Status == lint.Error || r.Status == lint.Fatal {
					t.Errorf("%s: %s %s", name, r.Status, r.Details)
				}
			}
		})
	}
}
