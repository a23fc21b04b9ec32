package service

import (
	"context"
	"crypto/tls"
	"os"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/support"
)

// Certs is the certificate side of the service: the stores of this computer (package
// certstore) seen from one account.
type Certs interface {
	// ForLogin is the certificate known to belong to userID at server, or nil. It never
	// returns a certificate of another account.
	ForLogin(ctx context.Context, server, userID string) (*tls.Certificate, error)
	// List is every identity of every store, classified for the account, and what could not
	// be read.
	List(ctx context.Context, in ListInput) ([]certstore.Classified, []string, error)
	// Request makes a key here, sends a CSR with c and stores the issued certificate.
	Request(ctx context.Context, c *client.Client, o RequestOptions) (certstore.RequestOutcome, error)
	// Import stores a PKCS#12 file; owner says whose it is, once its fingerprint is known.
	Import(ctx context.Context, req ImportRequest, owner func(certstore.Fingerprint) (server, user string)) (certstore.RequestOutcome, error)
	// Locate is the copies of an identity in every store, or in the one named.
	Locate(ctx context.Context, sha256, store string) ([]certstore.Identity, error)
	Export(ctx context.Context, sha256, path, password string) (ExportResult, error)
	Remove(ctx context.Context, req RemoveRequest) (RemoveResult, error)
	// TLSCertificate is the identity as a TLS client certificate (Account Connections).
	TLSCertificate(ctx context.Context, sha256 string) (*tls.Certificate, error)
	// Reassign notes that the identity now belongs to userID at server, with or without an
	// earlier note.
	Reassign(sha256, server, userID string) error
	// SupportInventory lists every store for a support bundle (fingerprints, never keys).
	SupportInventory(ctx context.Context) ([]support.Cert, []string)
}

// ListInput is what the classification of identities needs to know.
type ListInput struct {
	ServerURL, UserID string
	// CAPEM is the gateway's CA, to tell its certificates from others (nil: by their SAN).
	CAPEM []byte
	// Mine is what the gateway has bound to the account; Checked says it was read.
	Mine    []api.Certificate
	Checked bool
}

// CertReport is every identity of every store, classified for one account.
type CertReport struct {
	Server string `json:"server,omitempty"`
	User   string `json:"user,omitempty"`
	// Checked is true when the gateway's list of the account's certificates was read;
	// otherwise the identities are judged by the local records only.
	Checked    bool                   `json:"checked_with_gateway"`
	Identities []certstore.Classified `json:"identities"`
	Warnings   []string               `json:"warnings,omitempty"`
}

// RequestOptions are the choices of a certificate request.
type RequestOptions struct {
	Label string
	// Install also puts the identity into this computer's browser stores.
	Install bool
}

// ImportRequest imports a PKCS#12 file into the app's store.
type ImportRequest struct {
	Path, Password string
	// UserID is the account the certificate belongs to, as the user says; empty: the
	// logged-in account when the gateway confirms the certificate is bound to it.
	UserID  string
	Install bool
}

// ExportResult says where an identity was exported from and to.
type ExportResult struct {
	SHA256 string `json:"sha256"`
	File   string `json:"file"`
	Store  string `json:"store"`
}

// ConnectRequest is Account Connections: the identity, and the credentials of the account
// that owns it now.
type ConnectRequest struct {
	SHA256, FromUserID, Password, OTP string
}

// certInput is the server, CA and account the identities are classified for.
func (s *Service) certInput(ctx context.Context, user string) (ListInput, []string) {
	var in ListInput
	o, err := s.clientOptions()
	if err == nil {
		in.ServerURL, _ = client.NormalizeServerURL(o.ServerURL)
		in.CAPEM = o.CAPEM
		if o.CAFile != "" {
			if pem, err := os.ReadFile(o.CAFile); err == nil {
				in.CAPEM = append(append([]byte(nil), in.CAPEM...), pem...)
			}
		}
	}
	in.UserID = user
	c, err := s.current()
	if err == nil {
		in.ServerURL, in.UserID = c.Server(), c.UserID()
		in.Mine, err = c.Certificates(ctx)
		in.Checked = err == nil
	}
	if err != nil && in.UserID != "" {
		return in, []string{ServerListNotRead(err)}
	}
	return in, nil
}

// CertificateReport lists every identity of every store and classifies it for the logged-in
// account (checked with the gateway), else for user by the local records only.
func (s *Service) CertificateReport(ctx context.Context, user string) (CertReport, error) {
	in, warnings := s.certInput(ctx, user)
	ids, more, err := s.o.Certs.List(ctx, in)
	if err != nil {
		return CertReport{}, err
	}
	if ids == nil {
		ids = []certstore.Classified{}
	}
	return CertReport{Server: in.ServerURL, User: in.UserID, Checked: in.Checked, Identities: ids,
		Warnings: append(more, warnings...)}, nil
}

// Identities implements Backend.
func (s *Service) Identities(ctx context.Context) ([]Identity, error) {
	rep, err := s.CertificateReport(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make([]Identity, 0, len(rep.Identities))
	for _, c := range rep.Identities {
		out = append(out, identityOf(c))
	}
	return out, nil
}

// RequestIdentity asks the gateway for a certificate of the logged-in account.
func (s *Service) RequestIdentity(ctx context.Context, o RequestOptions) (certstore.RequestOutcome, error) {
	c, err := s.current()
	if err != nil {
		return certstore.RequestOutcome{}, err
	}
	out, err := s.o.Certs.Request(ctx, c, o)
	if err == nil {
		s.o.Log.Info("certificate requested", "sha256", out.Identity.SHA256, "user", c.UserID(), "installed", out.Installed)
	}
	return out, err
}

// RequestCertificate implements Backend.
func (s *Service) RequestCertificate(ctx context.Context) (Identity, error) {
	out, err := s.RequestIdentity(ctx, RequestOptions{Label: "MAG Desktop"})
	if err != nil {
		return Identity{}, err
	}
	c, err := s.current()
	if err != nil {
		return Identity{}, err
	}
	return identityOf(certstore.Classified{Identity: out.Identity, Class: certstore.ClassBound, Account: c.UserID()}), nil
}

// Import stores a PKCS#12 file with the account it belongs to noted: the one the user named,
// else the logged-in account if the gateway has the certificate bound to it.
func (s *Service) Import(ctx context.Context, req ImportRequest) (certstore.RequestOutcome, error) {
	out, _, err := s.importOwned(ctx, req)
	return out, err
}

// importOwned is Import, and the account noted as the owner ("" when unknown).
func (s *Service) importOwned(ctx context.Context, req ImportRequest) (certstore.RequestOutcome, string, error) {
	var owner string
	out, err := s.o.Certs.Import(ctx, req, func(fp certstore.Fingerprint) (server, user string) {
		server, user = s.ownerOf(ctx, fp, req.UserID)
		owner = user
		return server, user
	})
	return out, owner, err
}

// ownerOf is whose an imported identity is: the account the user named, on the configured
// server; else the logged-in account when the gateway has it bound to it; else nobody known.
func (s *Service) ownerOf(ctx context.Context, fp certstore.Fingerprint, named string) (server, user string) {
	if named != "" {
		if o, err := s.clientOptions(); err == nil {
			server, _ = client.NormalizeServerURL(o.ServerURL)
		}
		return server, named
	}
	c, err := s.current()
	if err != nil {
		return "", ""
	}
	mine, err := c.Certificates(ctx)
	if err != nil {
		return "", ""
	}
	for _, m := range mine {
		if got, err := certstore.ParseFingerprint(m.SHA256); err == nil && got == fp {
			return c.Server(), c.UserID()
		}
	}
	return "", ""
}

// ImportIdentity implements Backend.
func (s *Service) ImportIdentity(ctx context.Context, path, password string) (Identity, error) {
	out, owner, err := s.importOwned(ctx, ImportRequest{Path: path, Password: password})
	if err != nil {
		return Identity{}, err
	}
	class := certstore.ClassNotBound
	if owner != "" {
		class = certstore.ClassBound
	}
	return identityOf(certstore.Classified{Identity: out.Identity, Class: class, Account: owner}), nil
}

// LocateIdentity is the copies of an identity in every store, or only in store (its path or
// label), to show what a removal will touch.
func (s *Service) LocateIdentity(ctx context.Context, sha256, store string) ([]certstore.Identity, error) {
	return s.o.Certs.Locate(ctx, sha256, store)
}

// Export writes an identity with its key, from the first store that can export it, to an
// encrypted PKCS#12 file that is read back and checked.
func (s *Service) Export(ctx context.Context, sha256, path, password string) (ExportResult, error) {
	return s.o.Certs.Export(ctx, sha256, path, password)
}

// ExportIdentity implements Backend.
func (s *Service) ExportIdentity(ctx context.Context, sha256, path, password string) error {
	_, err := s.Export(ctx, sha256, path, password)
	return err
}

// RemoveIdentity implements Backend.
func (s *Service) RemoveIdentity(ctx context.Context, req RemoveRequest) (RemoveResult, error) {
	return s.o.Certs.Remove(ctx, req)
}

// Connect is Account Connections: the certificate is presented on the connection and the
// owning account's credentials in the body; then the app's note of its owner moves to the
// logged-in account.
func (s *Service) Connect(ctx context.Context, req ConnectRequest) (api.Connection, error) {
	c, err := s.current()
	if err != nil {
		return api.Connection{}, err
	}
	cert, err := s.o.Certs.TLSCertificate(ctx, req.SHA256)
	if err != nil {
		return api.Connection{}, err
	}
	cc := c.WithCertificate(cert)
	defer cc.CloseIdleConnections()
	conn, err := deref(cc.ConnectCertificate(ctx, api.ConnectionRequest{UserID: req.FromUserID, Password: req.Password, OTP: req.OTP}))
	if err != nil {
		return conn, err
	}
	fp, _ := certstore.ParseFingerprint(req.SHA256)
	if err := s.o.Certs.Reassign(string(fp), c.Server(), c.UserID()); err != nil {
		s.o.Log.Warn("owner of the connected certificate not noted", "sha256", fp, "err", err)
	}
	s.o.Log.Info("certificate connected", "sha256", fp, "from_user", req.FromUserID, "to_user", c.UserID())
	return conn, nil
}

// ConnectIdentity implements Backend.
func (s *Service) ConnectIdentity(ctx context.Context, sha256, fromUserID, password, otp string) error {
	_, err := s.Connect(ctx, ConnectRequest{SHA256: sha256, FromUserID: fromUserID, Password: password, OTP: otp})
	return err
}

// CheckBackup checks a backup the user chose to make before a removal: a file, and a password
// typed twice.
func CheckBackup(req RemoveRequest, again string) error {
	if req.BackupPath == "" {
		return newError(CodeBackupNotChosen, "", nil)
	}
	return CheckBackupPassword(req.BackupPassword, again)
}
