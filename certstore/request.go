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
	var out RequestOutcome
	b, err := issueIdentity(ctx, "request certificate", in.UserID, send)
	if err != nil {
		return out, err
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

// issueIdentity generates an ECDSA P-256 key here, sends a CSR for it and checks that the issued
// certificate is for that key.
func issueIdentity(ctx context.Context, op, userID string, send RequestFunc) (*Bundle, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, newErr(CodeUnsupported, op, err, "cannot generate a key")
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: userID}}, key)
	if err != nil {
		return nil, newErr(CodeUnsupported, op, err, "cannot build the certificate request")
	}
	issued, err := send(ctx, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})))
	if err != nil {
		return nil, err
	}
	certs := parsePEMCerts([]byte(issued.CertificatePEM + "\n" + issued.ChainPEM))
	if len(certs) == 0 {
		return nil, newErr(CodeCorrupt, op, nil, "the gateway returned no readable certificate")
	}
	b := &Bundle{Key: key, Cert: certs[0], Chain: certs[1:]}
	if !publicKeyEqual(b.Cert.PublicKey, key.Public()) {
		return nil, newErr(CodeVerifyFailed, op, nil, "the gateway returned a certificate for another key; nothing was stored")
	}
	return b, nil
}

// RenewInput says which stores hold the certificate being renewed and for whom.
type RenewInput struct {
	ServerURL, UserID, Label string
	// Stores are the stores that hold the old certificate; the new one goes into each of them
	// (into the file store with the account record, so that logins choose it).
	Stores []Store
	File   *FileStore
}

// RenewOutcome is the new identity, in memory for the first login with it, and where it went.
type RenewOutcome struct {
	Bundle    *Bundle
	Identity  Identity
	Installed []string
}

// RenewIdentity makes a new key here, sends a CSR for it (send is the gateway's renewal call)
// and installs the issued certificate into every store that holds the old one. A store that
// refuses it fails the renewal: the user must find the new certificate where the old one was.
func RenewIdentity(ctx context.Context, send RequestFunc, in RenewInput) (RenewOutcome, error) {
	var out RenewOutcome
	b, err := issueIdentity(ctx, "renew certificate", in.UserID, send)
	if err != nil {
		return out, err
	}
	out.Bundle = b
	for _, st := range in.Stores {
		var id Identity
		if st == Store(in.File) {
			id, err = in.File.ImportRecord(ctx, b, Record{Source: SourceRequest, ServerURL: in.ServerURL, UserID: in.UserID, Label: in.Label, CreatedAt: time.Now().UTC()})
		} else {
			id, err = st.Import(ctx, b)
		}
		if err != nil {
			return out, err
		}
		if out.Identity.SHA256 == "" {
			out.Identity = id
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
