package server

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/ca"
	"github.com/mag-desktop/magdesk/internal/server/mail"
	"github.com/mag-desktop/magdesk/internal/server/store"
)

// peerCert is the client certificate presented on this TLS connection, if any.
func peerCert(r *http.Request) *x509.Certificate {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil
	}
	return r.TLS.PeerCertificates[0]
}

func certProblem(code api.Code, detail, sha string) *api.Problem {
	p := api.NewProblem(code, detail)
	p.CertSHA256 = sha
	return p
}

// knownCert verifies a presented certificate against our CA and our records.
func (s *Server) knownCert(ctx context.Context, cert *x509.Certificate) (store.Certificate, []string, error) {
	sha := ca.SHA256Hex(cert)
	if err := s.ca.VerifyClient(cert, s.now()); err != nil {
		var p *api.Problem
		if errors.As(err, &p) {
			cp := *p
			cp.CertSHA256 = sha
			return store.Certificate{}, nil, &cp
		}
		return store.Certificate{}, nil, certProblem(api.CodeCertUntrusted, "This certificate was not issued by this server. Log in without it.", sha)
	}
	c, err := s.st.CertificateBySHA256(ctx, sha)
	if errors.Is(err, store.ErrNotFound) {
		return c, nil, certProblem(api.CodeCertNotRegistered, "This certificate is not registered to any account. Log in without it, or request a new one.", sha)
	}
	if err != nil {
		return c, nil, err
	}
	if c.Status == store.CertRevoked {
		return c, nil, certProblem(api.CodeCertRevoked, "This certificate was revoked. Remove it from this computer and request a new one.", sha)
	}
	bound, err := s.st.BoundAccountIDs(ctx, c.ID)
	return c, bound, err
}

// wrongAccount is Error 2035: the certificate belongs to other accounts. The other account is
// never named.
func wrongAccount(sha string) *api.Problem {
	p := certProblem(api.CodeCertWrongAccount,
		"The certificate this computer offered is connected to a different account. Remove it from this computer, connect it to this account, or request a new certificate.", sha)
	p.Remediation = []api.Remediation{
		{Action: "connect_certificate", Title: "Use this certificate for this account (Account Connections)", Method: "POST", Href: api.PathCertificateConnections},
		{Action: "request_new_certificate", Title: "Request a new certificate for this account", Method: "POST", Href: api.PathCertificates},
		{Action: "remove_local_certificate", Title: "Remove the old certificate from this computer", ClientSide: true, CertSHA256: sha},
		{Action: "retry_login_without_certificate", Title: "Log in without a certificate", ClientSide: true},
	}
	return p
}

// checkLoginCert decides what a certificate means for a login whose password has verified.
func (s *Server) checkLoginCert(ctx context.Context, r *http.Request, acct store.Account, cert *x509.Certificate) (string, error) {
	c, bound, err := s.knownCert(ctx, cert)
	if err != nil {
		return "", err
	}
	if slices.Contains(bound, acct.ID) {
		return c.SHA256, nil
	}
	if len(bound) > 0 {
		if err := s.audit(ctx, s.st.Q, r, "login.cert_wrong_account", acct.UserID, c.ID, ""); err != nil {
			return "", err
		}
		return "", wrongAccount(c.SHA256)
	}
	return "", certProblem(api.CodeCertNotRegistered, "This certificate is not registered to any account. Log in without it, or request a new one.", c.SHA256)
}

func apiCert(c store.Certificate, withPEM bool, chain []byte) api.Certificate {
	out := api.Certificate{CertificateID: c.ID, SHA256: c.SHA256, Serial: c.SerialHex, Subject: c.Subject, NotBefore: c.NotBefore,
		NotAfter: c.NotAfter, Status: c.Status, BoundVia: c.BoundVia, BoundAccounts: c.BoundAccounts}
	if c.Status == store.CertActive {
		from := renewableFrom(c)
		out.RenewableFrom = &from
	}
	if withPEM {
		out.CertificatePEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.DER}))
		out.ChainPEM = string(chain)
	}
	return out
}

func (s *Server) handleIssueCert(w http.ResponseWriter, r *http.Request, a *authCtx) error {
	var req api.CSRRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	c, err := s.issueCert(r, a, req, false, nil)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, apiCert(c, true, s.ca.CACertPEM()))
}

// issueCert issues and records a certificate for the caller's CSR; also, when set, runs in the
// same transaction (a renewal links the new certificate to the old one).
func (s *Server) issueCert(r *http.Request, a *authCtx, req api.CSRRequest, renewal bool, also func(q store.Q, c store.Certificate) error) (store.Certificate, error) {
	if len(req.Label) > 100 {
		return store.Certificate{}, invalid("The label is too long (100 characters at most).")
	}
	ctx := r.Context()
	now := s.now()
	// Checked before the request is parsed (its signature check is the costly part), and again
	// in the transaction that stores the certificate, against concurrent requests.
	if err := s.issuanceAllowed(ctx, s.st.Q, a.acct.ID, now, renewal); err != nil {
		return store.Certificate{}, err
	}
	id := newID("crt")
	cert, err := s.ca.IssueClient([]byte(req.CSRPEM), id, now)
	if err != nil {
		var p *api.Problem
		if errors.As(err, &p) {
			return store.Certificate{}, p
		}
		return store.Certificate{}, api.NewProblem(api.CodeCSRInvalid, "The certificate request could not be read: send a PEM PKCS#10 request.")
	}
	c := store.Certificate{ID: id, SerialHex: cert.SerialNumber.Text(16), SHA256: ca.SHA256Hex(cert), Subject: cert.Subject.String(),
		Status: store.CertActive, IssuedTo: a.acct.ID, Label: req.Label, DER: cert.Raw, NotBefore: cert.NotBefore.UTC(),
		NotAfter: cert.NotAfter.UTC(), CreatedAt: now, BoundVia: "issuance", BoundAccounts: 1}
	err = s.st.Tx(ctx, func(q store.Q) error {
		if err := s.issuanceAllowed(ctx, q, a.acct.ID, now, renewal); err != nil {
			return err
		}
		if err := q.CreateCertificate(ctx, c); err != nil {
			return err
		}
		if also != nil {
			if err := also(q, c); err != nil {
				return err
			}
		}
		return s.audit(ctx, q, r, "cert.issued", a.acct.UserID, id, "sha256="+c.SHA256)
	})
	if err != nil {
		return store.Certificate{}, err
	}
	if err := s.outbox.Send(ctx, mail.Message{To: a.acct.Email, Subject: "Certificate registered",
		Body: "Hello " + a.acct.DisplayName() + ",\n\nA certificate was issued to " + a.acct.UserID + ".\nSHA-256: " + c.SHA256 +
			"\nIf this was not you, contact your organisation administrator at once.\n",
		Template: "cert_issued", Date: now}); err != nil {
		return store.Certificate{}, err
	}
	return c, nil
}

// issuanceAllowed refuses a certificate beyond the hourly budget of the account, or a new one
// (not a renewal, which replaces one) beyond its number of active certificates (Config).
func (s *Server) issuanceAllowed(ctx context.Context, q store.Q, accountID string, now time.Time, renewal bool) error {
	recent, active, err := q.IssuanceCounts(ctx, accountID, now.Add(-time.Hour), now)
	if err != nil {
		return err
	}
	if recent >= s.cfg.CertsPerHour {
		p := api.NewProblem(api.CodeRateLimited, fmt.Sprintf(
			"This account was issued %d certificates in the last hour, the most it may get. Wait an hour and try again.", recent))
		p.RetryAfter = int(time.Hour.Seconds())
		return p
	}
	if !renewal && active >= s.cfg.MaxActiveCerts {
		return api.NewProblem(api.CodeCertLimitReached, fmt.Sprintf(
			"This account already has %d active certificates, the most it may have. Revoke one you no longer use (My Account > Credentials), then request a new one.", active))
	}
	return nil
}

func (s *Server) handleListCerts(w http.ResponseWriter, r *http.Request, a *authCtx) error {
	certs, err := s.st.AccountCertificates(r.Context(), a.acct.ID)
	if err != nil {
		return err
	}
	pending, err := s.st.PendingRenewals(r.Context(), a.acct.ID)
	if err != nil {
		return err
	}
	out := make([]api.Certificate, 0, len(certs))
	for _, c := range certs {
		ac := apiCert(c, true, nil)
		ac.Renews = pending[c.ID]
		out = append(out, ac)
	}
	return writeJSON(w, http.StatusOK, out)
}
