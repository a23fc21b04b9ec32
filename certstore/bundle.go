package certstore

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"

	"software.sslmate.com/src/go-pkcs12"
)

// Bundle is an identity in memory: the private key, its certificate and the chain.
// It holds a secret; never log or persist it unencrypted.
type Bundle struct {
	Key   crypto.Signer
	Cert  *x509.Certificate
	Chain []*x509.Certificate
}

// maxPKCS12 bounds what we try to parse; real identities are a few KiB.
const maxPKCS12 = 1 << 20

// ParsePKCS12 decodes a PKCS#12 file. The leaf is the certificate whose public key matches the
// private key, whatever the order of the bags. Wrong password, truncation and garbage each give
// a distinct *Error.
func ParsePKCS12(data []byte, password string) (*Bundle, error) {
	const op = "read PKCS#12"
	if len(data) == 0 {
		return nil, newErr(CodeCorrupt, op, nil, "the file is empty: export the identity again")
	}
	if len(data) > maxPKCS12 {
		return nil, newErr(CodeCorrupt, op, nil, "the file is %d bytes, too large for a PKCS#12 identity: check you chose the right file", len(data))
	}
	if n := macIterations(data); n > maxIterations {
		return nil, newErr(CodeUnsupported, op, nil, "the file asks for %d key-derivation rounds (more than %d): it was not made by a usual tool; export it again", n, maxIterations)
	}
	key, leaf, cas, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		if errors.Is(err, pkcs12.ErrIncorrectPassword) || errors.Is(err, pkcs12.ErrDecryption) {
			return nil, newErr(CodeWrongPassword, op, nil, "the password does not open this PKCS#12 file (or the file is damaged): type it again; it is the password chosen when the file was exported, not your account password")
		}
		return nil, newErr(CodeCorrupt, op, err, "the file is not a readable PKCS#12 identity (damaged, truncated, or another format): export it again")
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, newErr(CodeUnsupported, op, nil, "the private key type %T is not supported: use an RSA, ECDSA or Ed25519 identity", key)
	}
	all := append([]*x509.Certificate{leaf}, cas...)
	var b Bundle
	b.Key = signer
	for _, c := range all {
		if b.Cert == nil && publicKeyEqual(c.PublicKey, signer.Public()) {
			b.Cert = c
			continue
		}
		b.Chain = append(b.Chain, c)
	}
	if b.Cert == nil {
		return nil, newErr(CodeCorrupt, op, nil, "no certificate in the file belongs to its private key: export the identity again with its certificate")
	}
	return &b, nil
}

// maxIterations bounds the MAC key derivation a file may ask for, so that a hostile file
// can't keep the app busy for hours (NSS writes 600,000; OpenSSL 2,048).
var maxIterations = 2_000_000

// macIterations reads the MAC iteration count of a PKCS#12 file (0 when absent or unreadable).
func macIterations(data []byte) int {
	var pfx struct {
		Version  int
		AuthSafe asn1.RawValue
		MacData  struct {
			Mac        asn1.RawValue
			MacSalt    []byte
			Iterations int `asn1:"optional,default:1"`
		} `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(data, &pfx); err != nil {
		return 0
	}
	return pfx.MacData.Iterations
}

// EncodePKCS12 writes b as PKCS#12 with go-pkcs12's Modern encoder (PBES2/AES-256, HMAC-SHA-256),
// which NSS, OpenSSL 3 and Windows 10+ read.
func EncodePKCS12(b *Bundle, password string) ([]byte, error) {
	return encodeWith(pkcs12.Modern, b, password)
}

func encodeWith(enc *pkcs12.Encoder, b *Bundle, password string) ([]byte, error) {
	data, err := enc.Encode(b.Key, b.Cert, b.Chain, password)
	if err != nil {
		return nil, newErr(CodeUnsupported, "write PKCS#12", err, "the identity could not be encoded")
	}
	return data, nil
}

// Equal reports whether two bundles hold the same certificate and the same private key.
func (b *Bundle) Equal(o *Bundle) bool {
	if b == nil || o == nil || b.Cert == nil || o.Cert == nil {
		return false
	}
	if !bytes.Equal(b.Cert.Raw, o.Cert.Raw) {
		return false
	}
	k1, err1 := x509.MarshalPKCS8PrivateKey(b.Key)
	k2, err2 := x509.MarshalPKCS8PrivateKey(o.Key)
	return err1 == nil && err2 == nil && bytes.Equal(k1, k2)
}

// TLSCertificate is the bundle as a tls.Certificate for a client connection.
func (b *Bundle) TLSCertificate() *tls.Certificate {
	c := &tls.Certificate{PrivateKey: b.Key, Leaf: b.Cert, Certificate: [][]byte{b.Cert.Raw}}
	for _, ca := range b.Chain {
		c.Certificate = append(c.Certificate, ca.Raw)
	}
	return c
}

// ParsePEMIdentity reads a certificate (and optional chain) and a private key from PEM, as
// magd's demo hands them out.
func ParsePEMIdentity(certPEM, keyPEM []byte) (*Bundle, error) {
	return bundleFromPEM(append(append([]byte{}, certPEM...), keyPEM...))
}

// bundleFromPEM reads certificates and one private key (PKCS#8, SEC1 or PKCS#1) from PEM text
// such as `openssl pkcs12 -nodes` prints; the leaf is the certificate matching the key.
func bundleFromPEM(data []byte) (*Bundle, error) {
	const op = "read PEM identity"
	var key crypto.Signer
	var certs []*x509.Certificate
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			break
		}
		switch blk.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, newErr(CodeCorrupt, op, err, "a certificate is damaged")
			}
			certs = append(certs, c)
		case "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY":
			k, err := parsePrivateKey(blk.Bytes)
			if err != nil {
				return nil, newErr(CodeCorrupt, op, err, "the private key is damaged or of an unsupported type")
			}
			key = k
		}
	}
	if key == nil {
		return nil, newErr(CodeCorrupt, op, nil, "no private key found")
	}
	b := &Bundle{Key: key}
	for _, c := range certs {
		if b.Cert == nil && publicKeyEqual(c.PublicKey, key.Public()) {
			b.Cert = c
		} else {
			b.Chain = append(b.Chain, c)
		}
	}
	if b.Cert == nil {
		return nil, newErr(CodeCorrupt, op, nil, "no certificate matches the private key")
	}
	return b, nil
}

func parsePrivateKey(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
		return nil, errors.New("unsupported key type")
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return x509.ParsePKCS1PrivateKey(der)
}

// CertPEM encodes a certificate as PEM.
func CertPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func publicKeyEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

// nssKeyID is the CKA_ID NSS gives a key: SHA-1 of the RSA modulus or of the EC public point.
// It lets us find a certificate's key in `certutil -K` without a nickname.
func nssKeyID(pub crypto.PublicKey) string {
	var raw []byte
	switch k := pub.(type) {
	case *rsa.PublicKey:
		raw = k.N.Bytes()
	case *ecdsa.PublicKey:
		ek, err := k.ECDH()
		if err != nil {
			return ""
		}
		raw = ek.Bytes()
	case ed25519.PublicKey:
		raw = k
	default:
		return ""
	}
	sum := sha1.Sum(raw)
	return hex.EncodeToString(sum[:])
}

// randomPassword is a high-entropy password for files only software reads (the file store,
// transient files handed to certutil/pk12util/security).
func randomPassword() string {
	buf := make([]byte, 24)
	_, _ = rand.Read(buf) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(buf)
}
