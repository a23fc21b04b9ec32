package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/store"
)

// Renewal: in the last certRenewalWindow of its life an active certificate can be renewed by
// its account, with a CSR for a new key. The new certificate is linked to the old one, which
// stays valid until the new one is used to log in (or the client revokes it after checking the
// new one), so a renewal that fails half-way on the client never leaves the user without a
// working certificate. An expired certificate cannot be renewed: the user requests a new one.
const certRenewalWindow = 90 * 24 * time.Hour

// renewableFrom is when a certificate's renewal window opens.
func renewableFrom(c store.Certificate) time.Time { return c.NotAfter.Add(-certRenewalWindow) }

// ownCert loads a certificate issued to the caller's account; another account's is not found.
func (s *Server) ownCert(ctx context.Context, a *authCtx, id string) (store.Certificate, error) {
	certs, err := s.st.AccountCertificates(ctx, a.acct.ID)
	if err != nil {
		return store.Certificate{}, err
	}
	for _, c := range certs {
		if c.ID == id && c.IssuedTo == a.acct.ID {
			return c, nil
		}
	}
	return store.Certificate{}, api.NewProblem(api.CodeNotFound, "This account has no such certificate. Refresh the list of certificates.")
}

func (s *Server) handleRenewCert(w http.ResponseWriter, r *http.Request, a *authCtx) error {
	var req api.RenewalRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	old, err := s.ownCert(ctx, a, r.PathValue("id"))
	if err != nil {
		return err
	}
	now := s.now()
	switch {
	case old.Status == store.CertRevoked:
		return certProblem(api.CodeCertRevoked, "This certificate was revoked, so it cannot be renewed. Request a new certificate.", old.SHA256)
	case !now.Before(old.NotAfter):
		return certProblem(api.CodeCertExpired, "This certificate has expired, so it can no longer be renewed. Request a new certificate.", old.SHA256)
	case now.Before(renewableFrom(old)):
		return certProblem(api.CodeCertRenewalNotOpen, "This certificate can be renewed from "+
			renewableFrom(old).Format("2 January 2006")+" (90 days before it expires). Until then it keeps working.", old.SHA256)
	}
	if req.Label == "" {
		req.Label = old.Label
	}
	var superseded []string
	c, err := s.issueCert(r, a, api.CSRRequest(req), true, func(q store.Q, c store.Certificate) error {
		var err error
		if superseded, err = s.supersedeRenewals(ctx, q, r, a, old.ID); err != nil {
			return err
		}
		return q.CreateRenewal(ctx, store.Renewal{NewID: c.ID, OldID: old.ID, AccountID: a.acct.ID, CreatedAt: now})
	})
	if err != nil {
		return err
	}
	if len(superseded) > 0 {
		s.hub.notify(a.acct.ID)
	}
	out := apiCert(c, true, s.ca.CACertPEM())
	out.Renews, out.Superseded = old.ID, superseded
	return writeJSON(w, http.StatusCreated, out)
}

// supersedeRenewals revokes the earlier renewals of oldID that were never used (a renewal
// retried after its key was lost, or started twice), so that a certificate has at most one
// successor and the account no extra active certificate. The latest renewal wins: a client
// still holding an earlier successor finds it revoked and the old certificate still working.
func (s *Server) supersedeRenewals(ctx context.Context, q store.Q, r *http.Request, a *authCtx, oldID string) ([]string, error) {
	certs, err := q.DropPendingRenewals(ctx, oldID)
	if err != nil {
		return nil, err
	}
	var revoked []string
	for _, c := range certs {
		id := c.ID
		if err := q.RevokeCertificate(ctx, id); errors.Is(err, store.ErrNotFound) {
			continue // its owner revoked it already
		} else if err != nil {
			return nil, err
		}
		revoked = append(revoked, id)
		if err := s.addEvent(ctx, q, a.acct.ID, api.Event{Type: api.EventCertRevoked, CertificateID: id, CertSHA256: c.SHA256}); err != nil {
			return nil, err
		}
		if err := s.audit(ctx, q, r, "cert.revoked", a.acct.UserID, id, "superseded_renewal_of="+oldID); err != nil {
			return nil, err
		}
	}
	return revoked, nil
}

// handleRevokeCert is the account revoking a certificate issued to it (a renewed one, once the
// client has checked its successor, or one the user no longer wants).
func (s *Server) handleRevokeCert(w http.ResponseWriter, r *http.Request, a *authCtx) error {
	ctx := r.Context()
	c, err := s.ownCert(ctx, a, r.PathValue("id"))
	if err != nil {
		return err
	}
	if c.Status == store.CertRevoked {
		return writeJSON(w, http.StatusOK, apiCert(c, false, nil))
	}
	err = s.st.Tx(ctx, func(q store.Q) error {
		if err := q.RevokeCertificate(ctx, c.ID); err != nil {
			return err
		}
		if err := s.addEvent(ctx, q, a.acct.ID, api.Event{Type: api.EventCertRevoked, CertificateID: c.ID, CertSHA256: c.SHA256}); err != nil {
			return err
		}
		return s.audit(ctx, q, r, "cert.revoked", a.acct.UserID, c.ID, "by=owner")
	})
	if errors.Is(err, store.ErrNotFound) {
		err = nil // revoked a moment ago by another request
	}
	if err != nil {
		return err
	}
	s.hub.notify(a.acct.ID)
	c.Status = store.CertRevoked
	return writeJSON(w, http.StatusOK, apiCert(c, false, nil))
}

// completeRenewal runs in the transaction of a login with certificate sha: if that certificate
// renews another, the other is revoked now that the new one has proved to work.
func (s *Server) completeRenewal(ctx context.Context, q store.Q, r *http.Request, acct store.Account, sha string) error {
	c, err := q.CertificateBySHA256(ctx, sha)
	if err != nil {
		return err
	}
	ren, err := q.RenewalOf(ctx, c.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !ren.CompletedAt.IsZero()) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := q.CompleteRenewal(ctx, c.ID, s.now()); err != nil {
		return err
	}
	if err := q.RevokeCertificate(ctx, ren.OldID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := s.addEvent(ctx, q, ren.AccountID, api.Event{Type: api.EventCertRenewed, CertificateID: c.ID, CertSHA256: c.SHA256,
		Replaced: ren.OldID}); err != nil {
		return err
	}
	return s.audit(ctx, q, r, "cert.revoked", acct.UserID, ren.OldID, "renewed_by="+c.ID)
}

// NoteExpiringCertificates adds a certificate.expiring event for every active certificate whose
// renewal window opened since the last pass (the janitor calls it; the first pass covers every
// certificate already in its window). It returns how many it noted.
func (s *Server) NoteExpiringCertificates(ctx context.Context) (int, error) {
	now := s.now()
	n := 0
	var accounts []string
	err := s.st.Tx(ctx, func(q store.Q) error {
		from := now.Add(-certRenewalWindow)
		if v, err := q.Setting(ctx, "expiry_scan_at"); err != nil {
			return err
		} else if t, err := time.Parse(time.RFC3339Nano, v); err == nil && !t.After(now) {
			from = t
		}
		certs, err := q.CertificatesEnteringWindow(ctx, from, now, certRenewalWindow)
		if err != nil {
			return err
		}
		for _, c := range certs {
			na := c.NotAfter
			if err := s.addEvent(ctx, q, c.IssuedTo, api.Event{Type: api.EventCertExpiring, CertificateID: c.ID, CertSHA256: c.SHA256,
				NotAfter: &na}); err != nil {
				return err
			}
			accounts = append(accounts, c.IssuedTo)
		}
		n = len(certs)
		return q.SetSetting(ctx, "expiry_scan_at", now.Format(time.RFC3339Nano))
	})
	if err != nil {
		return 0, err
	}
	s.hub.notify(accounts...)
	return n, nil
}
