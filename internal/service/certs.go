package service

import (
	"context"
	"crypto/tls"
	"os"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/support"
)

// Certs is the certificate side of the backend: the stores of this computer (package
// certstore) seen from one account.
type Certs interface {
	// ForLogin is the certificate known to belong to userID at server, or nil. It never
	// returns a certificate of another account.
	ForLogin(ctx context.Context, server, userID string) (*tls.Certificate, error)
	// List is every identity of every store, classified for the account (mine: the
	// certificates the server has bound to it; nil when not logged in).
	List(ctx context.Context, in ListInput) ([]Identity, error)
	// Request makes a key here, sends a CSR with c and stores the issued certificate.
	Request(ctx context.Context, c *client.Client) (Identity, error)
	Import(ctx context.Context, path, password string) (Identity, error)
	Export(ctx context.Context, sha256, path, password string) error
	Remove(ctx context.Context, req RemoveRequest) (RemoveResult, error)
	// TLSCertificate is the identity as a TLS client certificate (Account Connections).
	TLSCertificate(ctx context.Context, sha256 string) (*tls.Certificate, error)
	// SupportInventory lists every store for a support bundle (fingerprints, never keys).
	SupportInventory(ctx context.Context) ([]support.Cert, []string)
}

// ListInput is what the classification of identities needs to know.
type ListInput struct {
	ServerURL, UserID string
	// CAPEM is the gateway's CA, to tell its certificates from others (nil: by their SAN).
	CAPEM []byte
	// Mine is what the gateway has bound to the account (UserID empty: not logged in).
	Mine []api.Certificate
}

// Identities implements Backend.
func (s *Service) Identities(ctx context.Context) ([]Identity, error) {
	st := s.Settings()
	in := ListInput{ServerURL: st.ServerURL}
	if d := s.demoServer(); d != nil {
		in.CAPEM = d.CAPEM
	} else if st.CABundle != "" {
		in.CAPEM, _ = os.ReadFile(st.CABundle)
	}
	if c, err := s.current(); err == nil {
		in.ServerURL, in.UserID = c.Server(), c.UserID()
		if in.Mine, err = c.Certificates(ctx); err != nil {
			return nil, err
		}
	}
	return s.o.Certs.List(ctx, in)
}

// RequestCertificate implements Backend.
func (s *Service) RequestCertificate(ctx context.Context) (Identity, error) {
	c, err := s.current()
	if err != nil {
		return Identity{}, err
	}
	return s.o.Certs.Request(ctx, c)
}

// ImportIdentity implements Backend.
func (s *Service) ImportIdentity(ctx context.Context, path, password string) (Identity, error) {
	return s.o.Certs.Import(ctx, path, password)
}

// ExportIdentity implements Backend.
func (s *Service) ExportIdentity(ctx context.Context, sha256, path, password string) error {
	return s.o.Certs.Export(ctx, sha256, path, password)
}

// RemoveIdentity implements Backend.
func (s *Service) RemoveIdentity(ctx context.Context, req RemoveRequest) (RemoveResult, error) {
	r, err := s.o.Certs.Remove(ctx, req)
	if err == nil {
		s.o.Log.Info("certificate removed", "sha256", req.SHA256, "backup", req.BackupPath != "", "verified", r.Verified)
	}
	return r, err
}

// ConnectIdentity implements Backend: Account Connections presents the certificate on the
// connection and the owning account's credentials in the body.
func (s *Service) ConnectIdentity(ctx context.Context, sha256, fromUserID, password, otp string) error {
	c, err := s.current()
	if err != nil {
		return err
	}
	cert, err := s.o.Certs.TLSCertificate(ctx, sha256)
	if err != nil {
		return err
	}
	cc := c.WithCertificate(cert)
	defer cc.CloseIdleConnections()
	_, err = cc.ConnectCertificate(ctx, api.ConnectionRequest{UserID: fromUserID, Password: password, OTP: otp})
	if err == nil {
		s.o.Log.Info("certificate connected", "sha256", sha256, "from_user", fromUserID, "to_user", c.UserID())
	}
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
