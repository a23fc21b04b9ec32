package ca

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mag-desktop/magdesk/api"
)

// certURNPrefix starts the SAN URI that names an issued certificate: urn:mag:cert:<id>.
const certURNPrefix = "urn:mag:cert:"

// maxCSRSize bounds what IssueClient parses; a real CSR is well under 4 KiB.
const maxCSRSize = 64 << 10

// IssueClient signs a client certificate for the key in csrPEM (PEM or DER PKCS#10).
// It checks the CSR's key (RSA 2048-4096 bits with a bounded exponent, ECDSA P-256 or P-384)
// and then its signature (proof of possession) and ignores the subject and extensions requested: the certificate says
// CN=certID, O=MAG Desktop, SAN URI urn:mag:cert:<certID>, clientAuth only, valid from
// now-5m for one year. Errors about the CSR are *api.Problem with a CSR_* code.
func (a *Authority) IssueClient(csrPEM []byte, certID string, now time.Time) (*x509.Certificate, error) {
	if !validCertID(certID) {
		return nil, fmt.Errorf("ca: certificate id %q must be 1-64 letters, digits, '-', '_' or '.'", certID)
	}
	csr, err := parseCSR(csrPEM)
	if err != nil {
		return nil, err
	}
	if err := checkKey(csr); err != nil {
		return nil, err
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, api.NewProblem(api.CodeCSRSignatureInvalid,
			"The certificate request is not signed by its own key. Create a new request on this computer and send it again.")
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	ski, err := subjectKeyID(csr.PublicKey)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		SubjectKeyId:          ski,
		Subject:               pkix.Name{CommonName: certID, Organization: []string{organization}},
		URIs:                  []*url.URL{{Scheme: "urn", Opaque: strings.TrimPrefix(certURNPrefix, "urn:") + certID}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              a.capToCA(now.Add(clientValidity)),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, csr.PublicKey, a.key)
	if err != nil {
		return nil, fmt.Errorf("ca: issue client certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

func parseCSR(data []byte) (*x509.CertificateRequest, error) {
	invalid := func(why string) error {
		return api.NewProblem(api.CodeCSRInvalid, "The certificate request cannot be read ("+why+"). Send a PKCS#10 request in PEM (BEGIN CERTIFICATE REQUEST) or DER.")
	}
	if len(data) == 0 {
		return nil, invalid("it is empty")
	}
	if len(data) > maxCSRSize {
		return nil, invalid("it is larger than 64 KiB")
	}
	der := data
	if bytes.Contains(data, []byte("-----BEGIN")) {
		block, _ := pem.Decode(data)
		if block == nil {
			return nil, invalid("the PEM text is damaged")
		}
		if block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST" {
			return nil, invalid("it is a PEM " + block.Type + ", not a CERTIFICATE REQUEST")
		}
		der = block.Bytes
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, invalid("not a PKCS#10 request")
	}
	return csr, nil
}

// RSA limits. Checking the request's signature, and every later TLS handshake with the key,
// costs time that grows about with the cube of the modulus size, and the request comes from any
// logged-in account: without a maximum, one request can hold a CPU for seconds. 4096 bits is the
// largest size in common use (smart cards, OS key stores, browsers). The public exponent must be
// odd and above 2^16 (FIPS 186-5); below 2^32 keeps each verification a few dozen
// multiplications rather than one per bit of an exponent as long as the modulus.
const (
	minRSABits = 2048
	maxRSABits = 4096
	minRSAExp  = 1<<16 + 1
	maxRSAExp  = 1<<32 - 1
)

func checkKey(csr *x509.CertificateRequest) error {
	unsupported := func(what string) error {
		return api.NewProblem(api.CodeCSRKeyUnsupported,
			"The request's key is "+what+". Use an RSA key of 2048 to 4096 bits (exponent 65537), or an ECDSA key on P-256 or P-384.")
	}
	switch k := csr.PublicKey.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < minRSABits || n > maxRSABits {
			return unsupported(fmt.Sprintf("RSA with %d bits", n))
		}
		if k.E < minRSAExp || k.E > maxRSAExp || k.E%2 == 0 {
			return unsupported(fmt.Sprintf("RSA with the public exponent %d", k.E))
		}
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return unsupported("ECDSA on " + k.Curve.Params().Name)
		}
	case nil:
		return unsupported("of an unknown type")
	default:
		return unsupported(csr.PublicKeyAlgorithm.String())
	}
	return nil
}

func validCertID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// VerifyClient checks a certificate presented on a TLS connection: inside its validity period
// at now (else CERT_EXPIRED, checked first so that an expired certificate of ours says so),
// and chaining to this CA for client authentication (else CERT_UNTRUSTED).
func (a *Authority) VerifyClient(cert *x509.Certificate, now time.Time) error {
	if cert == nil {
		return api.NewProblem(api.CodeCertRequired, "No certificate was presented on this connection.")
	}
	sum := SHA256Hex(cert)
	// A certificate this CA never signed is untrusted whatever its dates: telling its owner to
	// renew it here would be wrong advice.
	if cert.CheckSignatureFrom(a.cert) != nil {
		return untrusted(sum)
	}
	if now.After(cert.NotAfter) || now.Before(cert.NotBefore) {
		p := api.NewProblem(api.CodeCertExpired, fmt.Sprintf(
			"The certificate is valid only from %s to %s. Request a new certificate and remove this one from the computer.",
			cert.NotBefore.UTC().Format(time.DateOnly), cert.NotAfter.UTC().Format(time.DateOnly)))
		p.CertSHA256 = sum
		return p
	}
	_, err := cert.Verify(x509.VerifyOptions{
		Roots:       a.pool,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	// Verify lets a certificate without any EKU (such as the CA itself) pass as clientAuth;
	// ours always name clientAuth explicitly.
	if err != nil || cert.IsCA || !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		return untrusted(sum)
	}
	return nil
}

func untrusted(sum string) error {
	p := api.NewProblem(api.CodeCertUntrusted,
		"The certificate was not issued by this server for logging in. Use a certificate issued by this server, or log in without one.")
	p.CertSHA256 = sum
	return p
}

// SHA256Hex is the lower-case hex SHA-256 of the certificate's DER: its fingerprint.
func SHA256Hex(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

// CertIDFromSAN returns the id from the certificate's urn:mag:cert:<id> SAN URI.
func CertIDFromSAN(cert *x509.Certificate) (string, bool) {
	for _, u := range cert.URIs {
		if id, ok := strings.CutPrefix(u.String(), certURNPrefix); ok && validCertID(id) {
			return id, true
		}
	}
	return "", false
}
