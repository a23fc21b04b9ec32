package desk

import (
	"context"
	"crypto/tls"
	"log/slog"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
)

// localCerts is Certs over package certstore.
type localCerts struct {
	home   string
	stores []string
	log    *slog.Logger
}

var errCertsPending = userError(KindOther, "Certificate management is not available in this build.")

func (l *localCerts) ForLogin(ctx context.Context, server, userID string) (*tls.Certificate, error) {
	return nil, nil
}

func (l *localCerts) List(ctx context.Context, server, userID string, mine []api.Certificate) ([]Identity, error) {
	return nil, errCertsPending
}

func (l *localCerts) Request(ctx context.Context, c *client.Client) (Identity, error) {
	return Identity{}, errCertsPending
}

func (l *localCerts) Import(ctx context.Context, path, password string) (Identity, error) {
	return Identity{}, errCertsPending
}

func (l *localCerts) Export(ctx context.Context, sha256, path, password string) error {
	return errCertsPending
}

func (l *localCerts) Remove(ctx context.Context, req RemoveRequest) (RemoveResult, error) {
	return RemoveResult{}, errCertsPending
}

func (l *localCerts) TLSCertificate(ctx context.Context, sha256 string) (*tls.Certificate, error) {
	return nil, errCertsPending
}
