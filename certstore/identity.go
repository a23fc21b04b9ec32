package certstore

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"strings"
	"time"
)

// Fingerprint is the lower-case hex SHA-256 of a certificate's DER, as api.Certificate.SHA256.
type Fingerprint string

// FingerprintOf returns the SHA-256 fingerprint of cert.
func FingerprintOf(cert *x509.Certificate) Fingerprint {
	sum := sha256.Sum256(cert.Raw)
	return Fingerprint(hex.EncodeToString(sum[:]))
}

// ParseFingerprint accepts a SHA-256 fingerprint as users paste it: any case, with or without
// colons or spaces, an optional "sha256:" prefix.
func ParseFingerprint(s string) (Fingerprint, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "sha256:")
	t = strings.NewReplacer(":", "", " ", "", "-", "").Replace(t)
	if len(t) != 64 {
		return "", newErr(CodeInvalidInput, "", nil, "%q is not a SHA-256 fingerprint: give the 64 hex digits that the list of certificates shows", s)
	}
	if _, err := hex.DecodeString(t); err != nil {
		return "", newErr(CodeInvalidInput, "", nil, "%q is not a SHA-256 fingerprint: only hex digits 0-9 and a-f are allowed", s)
	}
	return Fingerprint(t), nil
}

// Short is the first 16 hex digits, for tables.
func (f Fingerprint) Short() string {
	if len(f) > 16 {
		return string(f[:16])
	}
	return string(f)
}

// Location is where an identity lives.
type Location struct {
	Backend  string `json:"backend"`   // "file", "nss", "windows", "keychain"
	Store    string `json:"store"`     // directory, "sql:/home/u/.pki/nssdb", `CurrentUser\MY`, keychain path
	Label    string `json:"label"`     // "Firefox profile abc.default-release"
	ReadOnly bool   `json:"read_only"` // the store can be listed but not changed
}

// Tri is yes / no / unknown.
type Tri string

// Tri values.
const (
	Yes     Tri = "yes"
	No      Tri = "no"
	Unknown Tri = "unknown"
)

// KeyInfo says what is known about the private key, without opening it.
type KeyInfo struct {
	Present    bool     `json:"present"`
	Exportable Tri      `json:"exportable"`
	Hardware   bool     `json:"hardware"`            // smart card, token, TPM: never deleted by us
	Provider   string   `json:"provider,omitempty"`  // KSP/CSP name, NSS token, keychain
	Container  string   `json:"container,omitempty"` // key container, NSS key id
	SharedWith []string `json:"shared_with,omitempty"`
}

// Metadata is what a user (or support) needs to tell identities apart.
type Metadata struct {
	SHA256       Fingerprint `json:"sha256"`
	SHA1         string      `json:"sha1"`
	Subject      string      `json:"subject"`
	SubjectCN    string      `json:"subject_cn"`
	Issuer       string      `json:"issuer"`
	IssuerCN     string      `json:"issuer_cn"`
	Serial       string      `json:"serial"`
	NotBefore    time.Time   `json:"not_before"`
	NotAfter     time.Time   `json:"not_after"`
	KeyAlgorithm string      `json:"key_algorithm"`
	KeyBits      int         `json:"key_bits"`
	KeyUsage     []string    `json:"key_usage,omitempty"`
	ExtKeyUsage  []string    `json:"ext_key_usage,omitempty"`
	DNSNames     []string    `json:"dns_names,omitempty"`
	Emails       []string    `json:"emails,omitempty"`
	URIs         []string    `json:"uris,omitempty"`
	MagCertID    string      `json:"mag_cert_id,omitempty"` // from the SAN urn:mag:cert:<id>
}

// Identity is a certificate in a store, with what is known about its private key.
type Identity struct {
	Metadata
	Location Location            `json:"location"`
	Key      KeyInfo             `json:"key"`
	Nickname string              `json:"nickname,omitempty"` // NSS nickname, keychain label, friendly name
	Cert     *x509.Certificate   `json:"-"`
	Chain    []*x509.Certificate `json:"-"`
}

// MagCertURNPrefix is the SAN URI prefix of certificates issued by a MAG gateway.
const MagCertURNPrefix = "urn:mag:cert:"

// MetadataOf extracts the metadata of cert.
func MetadataOf(cert *x509.Certificate) Metadata {
	s1 := sha1.Sum(cert.Raw)
	m := Metadata{
		SHA256:    FingerprintOf(cert),
		SHA1:      hex.EncodeToString(s1[:]),
		Subject:   cert.Subject.String(),
		SubjectCN: cert.Subject.CommonName,
		Issuer:    cert.Issuer.String(),
		IssuerCN:  cert.Issuer.CommonName,
		NotBefore: cert.NotBefore.UTC(),
		NotAfter:  cert.NotAfter.UTC(),
		DNSNames:  cert.DNSNames,
		Emails:    cert.EmailAddresses,
	}
	if cert.SerialNumber != nil {
		m.Serial = strings.ToLower(cert.SerialNumber.Text(16))
	}
	m.KeyAlgorithm, m.KeyBits = keyAlgorithm(cert.PublicKey)
	m.KeyUsage = keyUsageNames(cert.KeyUsage)
	for _, u := range cert.ExtKeyUsage {
		m.ExtKeyUsage = append(m.ExtKeyUsage, extKeyUsageName(u))
	}
	for _, u := range cert.URIs {
		s := u.String()
		m.URIs = append(m.URIs, s)
		if strings.HasPrefix(s, MagCertURNPrefix) && m.MagCertID == "" {
			m.MagCertID = strings.TrimPrefix(s, MagCertURNPrefix)
		}
	}
	return m
}

// newIdentity builds an Identity for cert at loc.
func newIdentity(cert *x509.Certificate, loc Location) Identity {
	return Identity{Metadata: MetadataOf(cert), Location: loc, Cert: cert, Key: KeyInfo{Exportable: Unknown}}
}

// Expired reports whether the certificate is outside its validity at now.
func (m Metadata) Expired(now time.Time) bool {
	return now.After(m.NotAfter) || now.Before(m.NotBefore)
}

func keyAlgorithm(pub any) (string, int) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name, k.Curve.Params().BitSize
	case ed25519.PublicKey:
		return "Ed25519", 256
	default:
		return "unknown", 0
	}
}

var keyUsageBits = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "digitalSignature"},
	{x509.KeyUsageContentCommitment, "contentCommitment"},
	{x509.KeyUsageKeyEncipherment, "keyEncipherment"},
	{x509.KeyUsageDataEncipherment, "dataEncipherment"},
	{x509.KeyUsageKeyAgreement, "keyAgreement"},
	{x509.KeyUsageCertSign, "keyCertSign"},
	{x509.KeyUsageCRLSign, "cRLSign"},
	{x509.KeyUsageEncipherOnly, "encipherOnly"},
	{x509.KeyUsageDecipherOnly, "decipherOnly"},
}

func keyUsageNames(ku x509.KeyUsage) []string {
	var out []string
	for _, b := range keyUsageBits {
		if ku&b.bit != 0 {
			out = append(out, b.name)
		}
	}
	return out
}

func extKeyUsageName(u x509.ExtKeyUsage) string {
	switch u {
	case x509.ExtKeyUsageAny:
		return "any"
	case x509.ExtKeyUsageServerAuth:
		return "serverAuth"
	case x509.ExtKeyUsageClientAuth:
		return "clientAuth"
	case x509.ExtKeyUsageCodeSigning:
		return "codeSigning"
	case x509.ExtKeyUsageEmailProtection:
		return "emailProtection"
	case x509.ExtKeyUsageTimeStamping:
		return "timeStamping"
	case x509.ExtKeyUsageOCSPSigning:
		return "OCSPSigning"
	default:
		return "other"
	}
}

// ClientAuth reports whether the certificate may be used for TLS client authentication.
func (m Metadata) ClientAuth() bool {
	if len(m.ExtKeyUsage) == 0 {
		return true
	}
	for _, u := range m.ExtKeyUsage {
		if u == "clientAuth" || u == "any" {
			return true
		}
	}
	return false
}
