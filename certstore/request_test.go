package certstore

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
)

// fakeIssuer signs CSRs like magd (it ignores the requested subject).
func fakeIssuer(t *testing.T, ca *testCA, swapKey bool) RequestFunc {
	return func(ctx context.Context, csrPEM string) (*api.Certificate, error) {
		blk, _ := pem.Decode([]byte(csrPEM))
		csr, err := x509.ParseCertificateRequest(blk.Bytes)
		if err != nil || csr.CheckSignature() != nil {
			return nil, errors.New("bad csr")
		}
		pub := csr.PublicKey
		if swapKey {
			pub = ca.issue(t, "x", "x", issueOpt{}).Key.Public()
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(ca.serial.Add(1)), Subject: pkix.Name{CommonName: "cert-1"},
			NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
		if err != nil {
			return nil, err
		}
		return &api.Certificate{CertificatePEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), ChainPEM: string(CertPEM(ca.cert))}, nil
	}
}

func TestRequestIdentityAndLoginSelection(t *testing.T) {
	ctx := context.Background()
	ca := newTestCA(t, "Gateway CA")
	fs, _ := OpenFileStore(t.TempDir())
	const server = "https://gw.example:8443"
	out, err := RequestIdentity(ctx, fakeIssuer(t, ca, false), RequestInput{ServerURL: server, UserID: "doej_0001", File: fs})
	if err != nil || out.Identity.KeyAlgorithm != "ECDSA P-256" {
		t.Fatalf("request: %+v %v", out, err)
	}
	// A certificate of the second account, imported with its record.
	second := ca.issue(t, "Jane Doe", "c-2", issueOpt{})
	fs.ImportRecord(ctx, second, Record{Source: SourceDemo, ServerURL: server, UserID: "doej_0002"})

	b, id, err := IdentityForLogin(ctx, fs, server+"/", "doej_0001", time.Now())
	if err != nil || id.SHA256 != out.Identity.SHA256 || FingerprintOf(b.Cert) != id.SHA256 {
		t.Fatalf("login identity: %v", err)
	}
	b, _, err = IdentityForLogin(ctx, fs, server, "doej_0002", time.Now())
	if err != nil || FingerprintOf(b.Cert) != FingerprintOf(second.Cert) {
		t.Fatalf("second account: %v", err)
	}
	// Never another account's, nor another server's, nor an expired one.
	for _, c := range []struct {
		server, user string
		at           time.Time
	}{{server, "someone_else", time.Now()}, {"https://other.example", "doej_0001", time.Now()}, {server, "doej_0001", time.Now().Add(48 * time.Hour)}} {
		if _, _, err := IdentityForLogin(ctx, fs, c.server, c.user, c.at); !errors.Is(err, ErrNoIdentity) || !strings.Contains(err.Error(), "request a certificate") {
			t.Errorf("%+v: err = %v", c, err)
		}
	}
	// A certificate for another key is refused and nothing is stored.
	n, _ := fs.List(ctx)
	if _, err := RequestIdentity(ctx, fakeIssuer(t, ca, true), RequestInput{ServerURL: server, UserID: "doej_0001", File: fs}); !errors.Is(err, ErrVerifyFailed) {
		t.Fatalf("swapped key: %v", err)
	}
	if m, _ := fs.List(ctx); len(m) != len(n) {
		t.Fatal("stored after a refusal")
	}
}

func TestRequestInstallsIntoNSS(t *testing.T) {
	ctx := context.Background()
	ca := newTestCA(t, "Gateway CA")
	fs, _ := OpenFileStore(t.TempDir())
	nss := NewNSSStore(newNSSDB(t), "profile", nil)
	out, err := RequestIdentity(ctx, fakeIssuer(t, ca, false), RequestInput{ServerURL: "https://gw", UserID: "u1", File: fs, Install: []Store{nss}})
	if err != nil || len(out.Installed) != 1 || len(out.Warnings) != 0 {
		t.Fatalf("%+v %v", out, err)
	}
	ids, _ := nss.List(ctx)
	if len(ids) != 1 || ids[0].SHA256 != out.Identity.SHA256 {
		t.Fatal("not in NSS")
	}
}
