package service

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/config"
)

// Daily is what the window needs once set up: expiry warnings, renewal in one step, the events
// feed and the start-up and tray settings. *Service implements it.
type Daily interface {
	DailySettings() DailySettings
	SaveDailySettings(DailySettings) error
	// WarningWindow is how long before expiry a certificate needs attention (policy, default 90 days).
	WarningWindow() time.Duration
	// Attention lists the identities of every store with their expiry, those needing attention first.
	Attention(ctx context.Context, now time.Time) ([]CertAttention, error)
	RenewCertificate(ctx context.Context, req RenewRequest) (RenewResult, error)
	// WatchEvents follows the events feed until ctx ends or the session does; see Watch.
	WatchEvents(ctx context.Context, o WatchOptions, notify func(Notice)) error
}

var _ Daily = (*Service)(nil)

// RenewalWindow is how long before expiry the gateway lets a certificate be renewed (magd:
// 90 days; each certificate's renewable_from says it exactly).
const RenewalWindow = 90 * 24 * time.Hour

// Expiry levels.
const (
	ExpiryOK      = "ok"
	ExpirySoon    = "soon"
	ExpiryExpired = "expired"
)

// Expiry is what the app says about one expiry date.
type Expiry struct {
	Level string
	// Days left, rounded up (0 on the last day, negative once expired).
	Days int
	// Renewable: the gateway would renew it now (a certificate of this account, in its window).
	Renewable bool
	// Sentence says it in plain words, e.g. "Expires in 12 days — renew now"; empty when OK.
	Sentence string
}

func daysLeft(now, at time.Time) int {
	d := at.Sub(now)
	if d < 0 {
		return -int((-d + 24*time.Hour - 1) / (24 * time.Hour))
	}
	return int(d / (24 * time.Hour))
}

func inDays(n int) string {
	switch n {
	case 0:
		return "today"
	case 1:
		return "tomorrow"
	}
	return fmt.Sprintf("in %d days", n)
}

// CertExpiry is the expiry of a certificate: mine tells whether it belongs to the logged-in
// account (only those can be renewed here), window is the warning window.
func CertExpiry(notAfter, now time.Time, window time.Duration, mine bool) Expiry {
	e := Expiry{Level: ExpiryOK, Days: daysLeft(now, notAfter)}
	switch {
	case notAfter.IsZero():
		return Expiry{Level: ExpiryOK}
	case !now.Before(notAfter):
		e.Level = ExpiryExpired
		e.Sentence = "Expired on " + notAfter.Local().Format("2 January 2006")
		if mine {
			e.Sentence += " — it can no longer be renewed: request a new certificate"
		}
	case notAfter.Sub(now) <= window:
		e.Level = ExpirySoon
		e.Sentence = "Expires " + inDays(e.Days)
		opens := notAfter.Add(-RenewalWindow)
		switch {
		case mine && !now.Before(opens):
			e.Renewable = true
			e.Sentence += " — renew now"
		case mine:
			e.Sentence += " — renewal opens on " + opens.Local().Format("2 January 2006")
		}
	}
	return e
}

// SessionWarning is how long before the session's end the app warns.
const SessionWarning = 15 * time.Minute

// SessionExpiry is the expiry of the session (its absolute end: sessions last at most a day).
func SessionExpiry(s api.SessionInfo, now time.Time) Expiry {
	if s.ExpiresAt.IsZero() {
		return Expiry{Level: ExpiryOK}
	}
	left := s.ExpiresAt.Sub(now)
	switch {
	case left <= 0:
		return Expiry{Level: ExpiryExpired, Sentence: "Your session has ended — log in again"}
	case left <= SessionWarning:
		mins := int((left + time.Minute - 1) / time.Minute)
		return Expiry{Level: ExpirySoon, Sentence: fmt.Sprintf("Your session ends in %d minutes — log in again to keep working", mins)}
	}
	return Expiry{Level: ExpiryOK}
}

// CertAttention is an identity with its expiry.
type CertAttention struct {
	Identity
	Expiry Expiry
}

// Mine reports whether the identity is bound to the logged-in account.
func (i Identity) Mine() bool { return i.Status == CertBound }

// WarningWindow implements Daily.
func (s *Service) WarningWindow() time.Duration {
	s.mu.Lock()
	days := s.settings.CertWarningDays
	s.mu.Unlock()
	if days <= 0 {
		days = config.DefaultCertWarningDays
	}
	return time.Duration(days) * 24 * time.Hour
}

// Attention implements Daily.
func (s *Service) Attention(ctx context.Context, now time.Time) ([]CertAttention, error) {
	ids, err := s.Identities(ctx)
	if err != nil {
		return nil, err
	}
	window := s.WarningWindow()
	out := make([]CertAttention, 0, len(ids))
	for _, id := range ids {
		out = append(out, CertAttention{Identity: id, Expiry: CertExpiry(id.NotAfter, now, window, id.Mine())})
	}
	// Those needing attention first: soon (soonest first), then expired, then the rest.
	rank := map[string]int{ExpirySoon: 0, ExpiryExpired: 1, ExpiryOK: 2}
	slices.SortStableFunc(out, func(a, b CertAttention) int {
		return cmp.Or(cmp.Compare(rank[a.Expiry.Level], rank[b.Expiry.Level]), a.NotAfter.Compare(b.NotAfter))
	})
	return out, nil
}

// RenewRequest renews one certificate of the logged-in account. Password logs in with the new
// certificate to prove it works; the old one is backed up to BackupPath (encrypted with
// BackupPassword) before it is removed, unless BackupPath is empty.
type RenewRequest struct {
	SHA256, Password, BackupPath, BackupPassword string
}

// RenewResult says what renewal did.
type RenewResult struct {
	New        Identity
	Installed  []string
	BackupPath string
	Me         api.Me // the session of the login with the new certificate
	Message    string
}

// renewer is the part of Certs that renews (the stores of this computer).
type renewer interface {
	renew(ctx context.Context, sha string, in certstore.RenewInput, send certstore.RequestFunc) (certstore.RenewOutcome, error)
}

// RenewCertificate implements Daily: a new key and CSR here, the new certificate into every
// store that holds the old one, a login with it, then the old one revoked at the gateway and
// removed here with its key (backed up first). Until the login has worked the old certificate is
// left as it was.
func (s *Service) RenewCertificate(ctx context.Context, req RenewRequest) (RenewResult, error) {
	var res RenewResult
	c, err := s.current()
	if err != nil {
		return res, err
	}
	r, ok := s.o.Certs.(renewer)
	if !ok {
		return res, newError(CodeRenewalUnsupported, "", nil)
	}
	mine, err := c.Certificates(ctx)
	if err != nil {
		return res, err
	}
	var old *api.Certificate
	for i := range mine {
		if strings.EqualFold(mine[i].SHA256, req.SHA256) {
			old = &mine[i]
		}
	}
	if old == nil || old.Status != "active" || old.BoundVia != "issuance" {
		return res, newError(CodeNotRenewable, req.SHA256, nil)
	}
	// A renewal of this certificate that never logged in (its login failed, or the app stopped
	// half-way) is finished with its certificate if it is here; asking again would leave the
	// account an extra certificate (the gateway revokes the earlier one, but not this computer).
	out, cert, ok := s.pendingRenewal(ctx, mine, old.CertificateID)
	if !ok {
		out, err = r.renew(ctx, old.SHA256, certstore.RenewInput{ServerURL: c.Server(), UserID: c.UserID(), Label: "MAG Desktop"},
			func(ctx context.Context, csr string) (*api.Certificate, error) {
				return c.RenewCertificate(ctx, old.CertificateID, csr, "MAG Desktop")
			})
		if err != nil {
			return res, err
		}
		cert = out.Bundle.TLSCertificate()
	}
	res.New = identityOf(certstore.Classified{Identity: out.Identity, Class: certstore.ClassBound, Account: c.UserID()})
	res.Installed = out.Installed
	// Prove the new certificate works: log in with it.
	me, err := s.loginWith(ctx, c, cert, req.Password)
	if err != nil {
		return res, newError(CodeRenewalLoginFailed, strings.Join(out.Installed, ", "), errors.New(Message(err)))
	}
	res.Me = me
	nc, err := s.current()
	if err != nil {
		return res, err
	}
	// The login revoked the old certificate already; revoking again makes sure of it.
	if _, err := nc.RevokeCertificate(ctx, old.CertificateID); err != nil {
		return res, newError(CodeRenewalRevokeFailed, old.SHA256, errors.New(Message(err)))
	}
	rm, err := s.RemoveIdentity(ctx, RemoveRequest{SHA256: old.SHA256, BackupPath: req.BackupPath, BackupPassword: req.BackupPassword})
	if err != nil {
		return res, newError(CodeRenewalRemoveFailed, old.SHA256, errors.New(Message(err)))
	}
	res.BackupPath = rm.BackupPath
	res.Message = "Your certificate was renewed and works: it is valid until " + res.New.NotAfter.Local().Format("2 January 2006") +
		". The old certificate was revoked and removed from this computer with its key."
	if rm.BackupPath != "" {
		res.Message += " A backup of it is in " + rm.BackupPath + "."
	}
	s.o.Log.Info("certificate renewed", "old_sha256", old.SHA256, "new_sha256", res.New.SHA256, "stores", strings.Join(out.Installed, ","))
	return res, nil
}

// pendingRenewal is the active certificate that renews oldID, not yet used, when this computer
// holds it with its key: where it is and its TLS form.
func (s *Service) pendingRenewal(ctx context.Context, mine []api.Certificate, oldID string) (certstore.RenewOutcome, *tls.Certificate, bool) {
	for _, m := range mine {
		if m.Renews != oldID || m.Status != "active" {
			continue
		}
		ids, err := s.o.Certs.Locate(ctx, m.SHA256, "")
		if err != nil {
			continue
		}
		cert, err := s.o.Certs.TLSCertificate(ctx, m.SHA256)
		if err != nil {
			continue // here without its key: renew again
		}
		out := certstore.RenewOutcome{Identity: ids[0]}
		for _, id := range ids {
			out.Installed = append(out.Installed, id.Location.Label)
		}
		return out, cert, true
	}
	return certstore.RenewOutcome{}, nil, false
}

// loginWith logs the current account in again presenting cert and adopts that session.
func (s *Service) loginWith(ctx context.Context, c *client.Client, cert *tls.Certificate, password string) (api.Me, error) {
	nc := c.WithCertificate(cert)
	resp, err := nc.Login(ctx, c.UserID(), password, "")
	if err != nil {
		nc.CloseIdleConnections()
		return api.Me{}, err
	}
	if resp.Session.CertSHA256 == "" {
		return api.Me{}, newError(CodeRenewalCertIgnored, "", nil)
	}
	return s.adopt(ctx, nc, resp)
}

// renew implements renewer over the stores of this computer.
func (l *localCerts) renew(ctx context.Context, sha string, in certstore.RenewInput, send certstore.RequestFunc) (certstore.RenewOutcome, error) {
	inv, err := l.inventory()
	if err != nil {
		return certstore.RenewOutcome{}, err
	}
	fp, err := certstore.ParseFingerprint(sha)
	if err != nil {
		return certstore.RenewOutcome{}, err
	}
	_, stores := inv.Find(ctx, fp)
	if len(stores) == 0 {
		return certstore.RenewOutcome{}, newError(CodeCertNotHere, sha, nil)
	}
	in.Stores, in.File = stores, inv.File
	return certstore.RenewIdentity(ctx, send, in)
}
