package cli

import (
	"context"
	"crypto/tls"
)

// loginCertificate resolves login --cert auto|none|SHA256 to the certificate to present for
// userID, or nil for none (placeholder; the CERTSTORE owner replaces this file).
func loginCertificate(ctx context.Context, e *Env, userID, mode string) (*tls.Certificate, error) {
	switch mode {
	case "", "none":
		return nil, nil
	}
	return nil, usageErrorf("--cert %s: certificates are not in this build; use --cert none", mode)
}
