package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/client"
)

// loginCertificate resolves login --cert auto|none|SHA256 to the certificate to present for
// userID, or nil for none. auto takes the identity recorded for this user on this server in
// MAG Desktop's store and never another account's; with none recorded the login goes ahead
// without a certificate. A SHA-256 picks that identity from any store.
func loginCertificate(ctx context.Context, e *Env, userID, mode string) (*tls.Certificate, error) {
	switch mode {
	case "", "none":
		return nil, nil
	}
	inv, err := e.inventory()
	if err != nil {
		return nil, err
	}
	if mode == "auto" {
		server, err := client.NormalizeServerURL(e.server())
		if err != nil {
			return nil, err
		}
		b, id, err := certstore.IdentityForLogin(ctx, inv.File, server, userID, time.Now())
		if errors.Is(err, certstore.ErrNoIdentity) {
			fmt.Fprintf(e.IO.Err, "magdesk: no certificate of %s on this computer; logging in without one\n", userID)
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		e.Log.Info("login certificate", "user", userID, "sha256", id.SHA256)
		return b.TLSCertificate(), nil
	}
	fp, err := certstore.ParseFingerprint(mode)
	if err != nil {
		return nil, usageErrorf("--cert takes auto, none or a SHA-256 fingerprint: %s", fingerprintProblem(err))
	}
	// The app's own store first: it opens without starting any tool.
	if b, err := inv.File.Export(ctx, fp); err == nil {
		return b.TLSCertificate(), nil
	}
	_, stores := inv.Find(ctx, fp)
	var errs []error
	for _, st := range stores {
		b, err := st.Export(ctx, fp)
		if err == nil {
			return b.TLSCertificate(), nil
		}
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return nil, fmt.Errorf("no certificate %s with a private key on this computer: run 'magdesk certs list'", fp)
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
