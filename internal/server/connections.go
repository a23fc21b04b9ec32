package server

import (
	"errors"
	"net/http"
	"slices"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/mail"
	"github.com/mag-desktop/magdesk/internal/server/store"
)

// handleConnect is Account Connections: the certificate on this TLS connection, owned by another
// account whose credentials the caller gives, is bound to the caller's account too.
func (s *Server) handleConnect(w http.ResponseWriter, r *http.Request, a *authCtx) error {
	var req api.ConnectionRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	cert := peerCert(r)
	if cert == nil {
		return api.NewProblem(api.CodeCertRequired,
			"No certificate was offered on this connection. Choose the certificate to connect and try again.")
	}
	ctx := r.Context()
	c, bound, err := s.knownCert(ctx, cert)
	if err != nil {
		return err
	}
	if slices.Contains(bound, a.acct.ID) {
		return certProblem(api.CodeCertAlreadyConnected, "This certificate is already connected to your account; you can log in with it.", c.SHA256)
	}
	if err := s.limitIP(r, "login"); err != nil {
		return err
	}
	g, err := s.guardFor(ctx, r, req.UserID)
	if err != nil {
		return err
	}
	if err := s.check(ctx, g); err != nil {
		return err
	}
	authFailed := api.NewProblem(api.CodeConnectionSourceAuth,
		"The user ID, password or code of the account that owns this certificate is wrong.")
	src, err := s.st.AccountByUserID(ctx, g.uid)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	phc := ""
	if err == nil && src.Status == store.AccountActive {
		phc = src.PasswordPHC
	}
	ok, err := s.verify(ctx, phc, req.Password)
	if err != nil {
		return err
	}
	if !ok {
		if err := s.recordFailure(ctx, r, g); err != nil {
			return err
		}
		return authFailed
	}
	totp, err := s.st.ActiveTOTP(ctx, src.ID)
	switch {
	case err == nil:
		if req.OTP == "" {
			p := api.NewProblem(api.CodeConnectionSourceAuth, "The account that owns this certificate uses an authenticator app: enter its current code too.")
			p.Methods = []string{"totp"}
			return p
		}
		if err := s.checkTOTP(ctx, r, g, totp, req.OTP); err != nil {
			return err
		}
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	if src.ID == a.acct.ID || !slices.Contains(bound, src.ID) {
		return api.NewProblem(api.CodeConnectionSourceAuth,
			"The account you named does not own this certificate. Give the user ID and password of the account the certificate was issued to.")
	}
	err = s.st.Tx(ctx, func(q store.Q) error {
		if err := q.Bind(ctx, c.ID, a.acct.ID, "connection", s.now()); err != nil {
			return err
		}
		if err := s.clearGuard(ctx, q, r, src.UserID, c.SHA256); err != nil {
			return err
		}
		return s.audit(ctx, q, r, "cert.connected", a.acct.UserID, c.ID, "source="+src.UserID)
	})
	if errors.Is(err, store.ErrConflict) {
		return certProblem(api.CodeCertAlreadyConnected, "This certificate is already connected to your account.", c.SHA256)
	}
	if err != nil {
		return err
	}
	for _, to := range []store.Account{src, a.acct} {
		body := "Hello " + to.DisplayName() + ",\n\nThe certificate " + c.SHA256 + " of account " + src.UserID +
			" is now also connected to account " + a.acct.UserID + ". It can be used to log in to both.\n" +
			"If this was not you, contact your organisation administrator at once.\n"
		if err := s.outbox.Send(ctx, mail.Message{To: to.Email, Subject: "Certificate connected to another account", Body: body,
			Template: "cert_connected", Date: s.now()}); err != nil {
			return err
		}
	}
	return writeJSON(w, http.StatusCreated, api.Connection{CertificateID: c.ID, SHA256: c.SHA256, BoundAccounts: len(bound) + 1})
}
