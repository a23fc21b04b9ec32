package hardening

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"testing"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
)

// csrPEM makes a PKCS#10 request for key.
func csrPEM(t testing.TB, key crypto.Signer) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "hardening"}}, key)
	if err != nil {
		t.Fatalf("create CSR: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func newP256(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// badCSR is a certificate request the server must refuse, and the code it must give.
type badCSR struct {
	name string
	pem  string
	code string
}

// oddCSRs are requests with a wrong signature, weak or unsupported keys, or not a CSR at all.
func oddCSRs(t testing.TB) []badCSR {
	t.Helper()
	good := csrPEM(t, newP256(t))
	blk, _ := pem.Decode([]byte(good))
	sig := append([]byte(nil), blk.Bytes...)
	sig[len(sig)-3] ^= 0x5a // inside the signature BIT STRING: the request no longer verifies
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other := newP256(t)
	cert := selfSigned(t, other)
	p := func(typ string, b []byte) string { return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b})) }
	return []badCSR{
		{"wrong signature", p("CERTIFICATE REQUEST", sig), "CSR_SIGNATURE_INVALID"},
		{"RSA-1024", csrPEM(t, rsa1024), "CSR_KEY_UNSUPPORTED"},
		{"P-224", csrPEM(t, p224), "CSR_KEY_UNSUPPORTED"},
		{"Ed25519", csrPEM(t, ed), "CSR_KEY_UNSUPPORTED"},
		{"certificate instead of CSR", p("CERTIFICATE", cert), "CSR_INVALID"},
		{"CSR body under a certificate label", p("CERTIFICATE", blk.Bytes), "CSR_INVALID"},
		{"truncated DER", p("CERTIFICATE REQUEST", blk.Bytes[:len(blk.Bytes)/2]), "CSR_INVALID"},
		{"garbage in PEM", p("CERTIFICATE REQUEST", []byte("not DER at all")), "CSR_INVALID"},
		{"no PEM", "-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n", "CSR_INVALID"},
		{"empty", "", "CSR_INVALID"},
		{"private key instead of CSR", p("PRIVATE KEY", mustPKCS8(t, other)), "CSR_INVALID"},
		// Keys that cost the server CPU to check: refused on their size before any signature.
		{"RSA-4104", p("CERTIFICATE REQUEST", rsaCSR(t, 4104, 65537)), "CSR_KEY_UNSUPPORTED"},
		{"RSA-170000", p("CERTIFICATE REQUEST", rsaCSR(t, 170_000, 65537)), "CSR_KEY_UNSUPPORTED"},
		{"RSA exponent 2^40+1", p("CERTIFICATE REQUEST", rsaCSR(t, 2048, 1<<40+1)), "CSR_KEY_UNSUPPORTED"},
		{"RSA exponent 3", p("CERTIFICATE REQUEST", rsaCSR(t, 2048, 3)), "CSR_KEY_UNSUPPORTED"},
		{"RSA even exponent", p("CERTIFICATE REQUEST", rsaCSR(t, 2048, 65538)), "CSR_KEY_UNSUPPORTED"},
	}
}

// rsaCSR builds a PKCS#10 request by hand around an RSA public key of any size and exponent
// (an odd random modulus; nobody holds its private key) with a signature of the right length
// that does not verify: making such keys for real takes hours.
func rsaCSR(t testing.TB, bits, e int) []byte {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(bits)))
	if err != nil {
		t.Fatal(err)
	}
	n.SetBit(n, bits-1, 1).SetBit(n, 0, 1)
	pub, err := asn1.Marshal(struct {
		N *big.Int
		E int
	}{n, e})
	if err != nil {
		t.Fatal(err)
	}
	type spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	type tbs struct {
		Version    int
		Subject    asn1.RawValue
		PublicKey  spki
		Attributes []asn1.RawValue `asn1:"tag:0"`
	}
	subject, err := asn1.Marshal(pkix.Name{CommonName: "hardening"}.ToRDNSequence())
	if err != nil {
		t.Fatal(err)
	}
	rsaEncryption := pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}, Parameters: asn1.NullRawValue}
	der, err := asn1.Marshal(struct {
		TBS       tbs
		Algorithm pkix.AlgorithmIdentifier
		Signature asn1.BitString
	}{
		TBS: tbs{Subject: asn1.RawValue{FullBytes: subject}, PublicKey: spki{Algorithm: rsaEncryption,
			PublicKey: asn1.BitString{Bytes: pub, BitLength: 8 * len(pub)}}},
		Algorithm: pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, Parameters: asn1.NullRawValue},
		Signature: asn1.BitString{Bytes: make([]byte, (bits+7)/8), BitLength: 8 * ((bits + 7) / 8)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParseCertificateRequest(der); err != nil {
		t.Fatalf("hand-made CSR does not parse: %v", err)
	}
	return der
}

func mustPKCS8(t testing.TB, k crypto.Signer) []byte {
	t.Helper()
	b, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func selfSigned(t testing.TB, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "self"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// identity requests a certificate for c's account with a fresh P-256 key and returns it as a
// TLS client certificate.
func identity(t *testing.T, c *client.Client) tls.Certificate {
	t.Helper()
	key := newP256(t)
	issued, err := c.RequestCertificate(ctxT(t), csrPEM(t, key), "hardening")
	if err != nil {
		t.Fatalf("request a certificate: %v", err)
	}
	return identityOf(t, issued, key)
}

// identityOf pairs an issued certificate with its key.
func identityOf(t *testing.T, issued *api.Certificate, key crypto.Signer) tls.Certificate {
	t.Helper()
	blk, _ := pem.Decode([]byte(issued.CertificatePEM))
	if blk == nil {
		t.Fatalf("no certificate in %q", issued.CertificatePEM)
	}
	return tls.Certificate{Certificate: [][]byte{blk.Bytes}, PrivateKey: key}
}
