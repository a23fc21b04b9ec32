package certstore

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/url"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// testCA issues identities shaped like magd's (CN, O, SAN urn:mag:cert:<id>, clientAuth).
type testCA struct {
	cert   *x509.Certificate
	key    crypto.Signer
	serial atomic.Int64
}

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().AddDate(-10, 0, 0), NotAfter: time.Now().AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: c, key: key}
	ca.serial.Store(100)
	return ca
}

type issueOpt struct {
	rsa       bool
	notBefore time.Time
	notAfter  time.Time
	key       crypto.Signer
}

// issue makes an identity for cn with SAN urn:mag:cert:<certID>.
func (ca *testCA) issue(t testing.TB, cn, certID string, o issueOpt) *Bundle {
	t.Helper()
	key := o.key
	if key == nil {
		var err error
		if o.rsa {
			key, err = rsa.GenerateKey(rand.Reader, 2048)
		} else {
			key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if o.notBefore.IsZero() {
		o.notBefore = time.Now().Add(-time.Hour)
	}
	if o.notAfter.IsZero() {
		o.notAfter = time.Now().Add(30 * 24 * time.Hour)
	}
	u, _ := url.Parse(MagCertURNPrefix + certID)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(ca.serial.Add(1)),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"MAG Desktop"}},
		NotBefore:    o.notBefore, NotAfter: o.notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		URIs:        []*url.URL{u},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &Bundle{Key: key, Cert: c, Chain: []*x509.Certificate{ca.cert}}
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// needTool skips only when the tool is genuinely absent (CI installs it).
func needTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed (scripts/deps.sh installs it)", name)
	}
}

func TestMain(m *testing.M) {
	// The real Secret Service is used when the CI session provides one; elsewhere the mock.
	if os.Getenv("MAGDESK_REAL_KEYRING") != "1" {
		keyring.MockInit()
	}
	os.Exit(m.Run())
}
