package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/client"
)

// loginCertificate resolves login --cert auto|none|SHA256 to the certificate to present for
// userID, or nil for none. auto takes the identity recorded for this user on this server in
// MAG Desktop's store and never another account's; with none recorded the login goes ahead
// without a certificate. A SHA-256 picks that identity from the first store that can give it.
func loginCertificate(ctx context.Context, e *Env, userID, mode string) (*tls.Certificate, error) {
	switch mode {
	case "", "none":
		return nil, nil
	case "auto":
		server, err := client.NormalizeServerURL(e.server())
		if err != nil {
			return nil, err
		}
		cert, err := e.service().LoginCertificate(ctx, server, userID, "")
		if err == nil && cert == nil {
			fmt.Fprintf(e.IO.Err, "magdesk: no certificate of %s on this computer; logging in without one\n", userID)
		}
		return cert, err
	}
	if _, err := certstore.ParseFingerprint(mode); err != nil {
		return nil, usageErrorf("--cert takes auto, none or a SHA-256 fingerprint: %s", fingerprintProblem(err))
	}
	return e.service().LoginCertificate(ctx, "", userID, mode)
}

// fingerprintProblem is what is wrong with an argument ParseFingerprint refused: the store's
// sentence without its operation, or the error itself when it is of another kind.
func fingerprintProblem(err error) string {
	var ce *certstore.Error
	if errors.As(err, &ce) {
		return ce.Msg
	}
	return err.Error()
}
