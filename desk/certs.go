package desk

import (
	"context"
	"crypto/tls"
	"log/slog"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
)

// Certs is the certificate side of the backend: the stores of this computer (package
// certstore) seen from one account.
type Certs interface {
	// ForLogin is the certificate known to belong to userID at server, or nil. It never
	// returns a certificate of another account.
	ForLogin(ctx context.Context, server, userID string) (*tls.Certificate, error)
	// List is every identity of every store, classified for the account (mine: the
	// certificates the server has bound to it; nil when not logged in).
	List(ctx context.Context, server, userID string, mine []api.Certificate) ([]Identity, error)
	// Request makes a key here, sends a CSR with c and stores the issued certificate.
	Request(ctx context.Context, c *client.Client) (Identity, error)
	Import(ctx context.Context, path, password string) (Identity, error)
	Export(ctx context.Context, sha256, path, password string) error
	Remove(ctx context.Context, req RemoveRequest) (RemoveResult, error)
	// TLSCertificate is the identity as a TLS client certificate (Account Connections).
	TLSCertificate(ctx context.Context, sha256 string) (*tls.Certificate, error)
}

// Identities implements Backend.
func (s *Service) Identities(ctx context.Context) ([]Identity, error) {
	var mine []api.Certificate
	server, user := s.Settings().ServerURL, ""
	if c, err := s.current(); err == nil {
		server, user = c.Server(), c.UserID()
		if mine, err = c.Certificates(ctx); err != nil {
			return nil, err
		}
	}
	return s.o.Certs.List(ctx, server, user, mine)
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

// newLocalCerts opens the stores of this computer under home (see certs_local.go).
var newLocalCerts = func(home string, stores []string, log *slog.Logger) Certs {
	return &localCerts{home: home, stores: stores, log: log}
}
