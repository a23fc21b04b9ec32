package certstore

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"time"

	"github.com/mag-desktop/magdesk/api"
)

// RequestFunc sends a CSR to the gateway (client.RequestCertificate) and returns the issued
// certificate.
type RequestFunc func(ctx context.Context, csrPEM string) (*api.Certificate, error)

// RequestInput says for whom and where.
type RequestInput struct {
	ServerURL string
	UserID    string
	Label     string
	File      *FileStore
	Install   []Store // also put the identity there (the browser's store), optional
}

// RequestOutcome is the stored identity and where it was installed.
type RequestOutcome struct {
	Identity  Identity `json:"identity"`
	Installed []string `json:"installed,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
}

// RequestIdentity generates an ECDSA P-256 key locally (it never leaves this machine), sends
// a CSR, checks the issued certificate belongs to that key, stores it in the file store with
// the account record, and installs it into the stores asked for.
func RequestIdentity(ctx context.Context, send RequestFunc, in RequestInput) (RequestOutcome, error) {
	const op = "request certificate"
	var out RequestOutcome
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return out, newErr(CodeUnsupported, op, err, "cannot generate a key")
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: in.UserID}}, key)
	if err != nil {
		return out, newErr(CodeUnsupported, op, err, "cannot build the certificate request")
	}
	issued, err := send(ctx, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})))
	if err != nil {
		return out, err
	}
	certs := parsePEMCerts([]byte(issued.CertificatePEM + "\n" + issued.ChainPEM))
	if len(certs) == 0 {
		return out, newErr(CodeCorrupt, op, nil, "the gateway returned no readable certificate")
	}
	b := &Bundle{Key: key, Cert: certs[0], Chain: certs[1:]}
	if !publicKeyEqual(b.Cert.PublicKey, key.Public()) {
		return out, newErr(CodeVerifyFailed, op, nil, "the gateway returned a certificate for another key; nothing was stored")
	}
	id, err := in.File.ImportRecord(ctx, b, Record{Source: SourceRequest, ServerURL: in.ServerURL, UserID: in.UserID, Label: in.Label, CreatedAt: time.Now().UTC()})
	if err != nil {
		return out, err
	}
	out.Identity = id
	for _, st := range in.Install {
		if _, err := st.Import(ctx, b); err != nil {
			out.Warnings = append(out.Warnings, "not installed in "+st.Location().Label+": "+err.Error())
			continue
		}
		out.Installed = append(out.Installed, st.Location().Label)
	}
	return out, nil
}

// IdentityForLogin returns the identity this user requested (or imported for this account) on
// this server from the file store: the newest one that is valid now. It never offers another
// account's identity; with none it returns ErrNoIdentity.
func IdentityForLogin(ctx context.Context, fs *FileStore, serverURL, userID string, now time.Time) (*Bundle, Identity, error) {
	recs, err := fs.Records()
	if err != nil {
		return nil, Identity{}, err
	}
	list, _ := fs.List(ctx)
	server := NormalizeServerURL(serverURL)
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if r.UserID != userID || (r.ServerURL != "" && r.ServerURL != server) {
			continue
		}
		id, ok := find(list, r.SHA256)
		if !ok || !id.Key.Present || id.Expired(now) {
			continue
		}
		b, err := fs.Export(ctx, r.SHA256)
		if err != nil {
			return nil, id, err
		}
		return b, id, nil
	}
	return nil, Identity{}, newErr(CodeNoIdentityForUser, "login certificate", nil, "no certificate of %s on this computer: log in without one, then request a certificate", userID)
}
