package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	netmail "net/mail"
	"net/url"
	"strings"
	"unicode"

	"github.com/mag-desktop/magdesk/internal/server/store"
)

// The administration operations behind `magd admin` (and the test helpers). They work on the
// database directly, so they can run in a second process beside `magd serve`.

// CreateOrg creates an organisation and returns its id.
func (s *Server) CreateOrg(ctx context.Context, name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return "", errors.New("the organisation needs a name of 1 to 200 characters")
	}
	id := newID("org")
	return id, s.st.Tx(ctx, func(q store.Q) error {
		if err := q.CreateOrg(ctx, store.Org{ID: id, Name: name, CreatedAt: s.now()}); err != nil {
			return err
		}
		return s.audit(ctx, q, nil, "org.created", "admin", id, name)
	})
}

// NewUser describes an account to create.
type NewUser struct {
	OrgID, Email, FirstName, LastName string
	OrgAdmin                          bool
}

// CreateUser creates a pending account, sends its activation email and returns the user id.
func (s *Server) CreateUser(ctx context.Context, u NewUser) (string, error) {
	acct, err := s.insertUser(ctx, u, store.AccountPending)
	if err != nil {
		return "", err
	}
	if _, err := s.issueActivation(ctx, acct, "admin"); err != nil {
		return acct.UserID, fmt.Errorf("account %s created, but the activation email failed (run `magd admin user resend-activation %s`): %w",
			acct.UserID, acct.UserID, err)
	}
	return acct.UserID, nil
}

func (s *Server) insertUser(ctx context.Context, u NewUser, status string) (store.Account, error) {
	u.FirstName, u.LastName, u.Email = strings.TrimSpace(u.FirstName), strings.TrimSpace(u.LastName), strings.TrimSpace(u.Email)
	if u.FirstName == "" || u.LastName == "" || len(u.FirstName) > 100 || len(u.LastName) > 100 {
		return store.Account{}, errors.New("the user needs a first and a last name (up to 100 characters each)")
	}
	if addr, err := netmail.ParseAddress(u.Email); err != nil || addr.Address != u.Email {
		return store.Account{}, fmt.Errorf("%q is not an email address", u.Email)
	}
	org, err := s.st.OrgByID(ctx, u.OrgID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Account{}, fmt.Errorf("there is no organisation %q (see `magd admin org add`)", u.OrgID)
	}
	if err != nil {
		return store.Account{}, err
	}
	for range 20 {
		acct := store.Account{ID: newID("acct"), UserID: makeUserID(u.FirstName, u.LastName), OrgID: org.ID, OrgName: org.Name,
			Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, OrgAdmin: u.OrgAdmin, Status: status, CreatedAt: s.now()}
		err := s.st.Tx(ctx, func(q store.Q) error {
			if err := q.CreateAccount(ctx, acct); err != nil {
				return err
			}
			return s.audit(ctx, q, nil, "account.created", "admin", acct.UserID, "org="+org.ID)
		})
		if errors.Is(err, store.ErrConflict) {
			continue // user id taken: draw other digits
		}
		return acct, err
	}
	return store.Account{}, errors.New("could not find a free user id; try again")
}

// makeUserID builds a login id like "jdoe_4821" from the names.
func makeUserID(first, last string) string {
	letters := func(s string) string {
		var b strings.Builder
		for _, r := range strings.ToLower(s) {
			if r < unicode.MaxASCII && unicode.IsLetter(r) {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	base := letters(last)
	if f := letters(first); f != "" {
		base = f[:1] + base
	}
	if len(base) > 12 {
		base = base[:12]
	}
	if base == "" {
		base = "user"
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(9000))
	return fmt.Sprintf("%s_%04d", base, n.Int64()+1000)
}

// ResendActivation sends a new activation email; the earlier link stops working.
func (s *Server) ResendActivation(ctx context.Context, userID string) error {
	acct, err := s.st.AccountByUserID(ctx, normUserID(userID))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("there is no user %q", userID)
	}
	if err != nil {
		return err
	}
	if acct.Status != store.AccountPending {
		return fmt.Errorf("user %s is already activated; they log in with their password", acct.UserID)
	}
	_, err = s.issueActivation(ctx, acct, "admin")
	return err
}

// NewApp describes an application to add.
type NewApp struct {
	ID, Name, Description, URL, Terms string
	RequiredAAL                       int
}

// AddApp adds an application with its terms; adding an existing id with different terms
// publishes a new terms version (organisations must accept it again).
func (s *Server) AddApp(ctx context.Context, a NewApp) error {
	a.ID, a.Name = strings.TrimSpace(a.ID), strings.TrimSpace(a.Name)
	if a.ID == "" || len(a.ID) > 64 || strings.Trim(a.ID, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return errors.New("the application id must be 1 to 64 characters of a-z, 0-9, - and _")
	}
	if a.Name == "" {
		return errors.New("the application needs a name")
	}
	if u, err := url.Parse(a.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http" && !strings.HasPrefix(a.URL, "/")) {
		return fmt.Errorf("%q is not an http(s) URL or a path on this server", a.URL)
	}
	if a.RequiredAAL == 0 {
		a.RequiredAAL = 1
	}
	if a.RequiredAAL != 1 && a.RequiredAAL != 2 {
		return errors.New("required AAL must be 1 or 2")
	}
	now := s.now()
	sum := sha256.Sum256([]byte(a.Terms))
	digest := hex.EncodeToString(sum[:])
	return s.st.Tx(ctx, func(q store.Q) error {
		existing, err := q.AppByID(ctx, a.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if err := q.CreateApp(ctx, store.App{ID: a.ID, Name: a.Name, Description: a.Description, LaunchURL: a.URL,
				RequiredAAL: a.RequiredAAL, CreatedAt: now}); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if cur, err := q.TermsByID(ctx, existing.CurrentTermsID); err == nil && cur.SHA256 == digest {
				return nil
			}
		}
		n, err := q.CountTermsVersions(ctx, a.ID)
		if err != nil {
			return err
		}
		tv := store.TermsVersion{ID: newID("tv"), AppID: a.ID, Version: fmt.Sprintf("%d", n+1), Title: a.Name + " Terms and Conditions",
			Body: a.Terms, SHA256: digest, PublishedAt: now}
		if err := q.PublishTerms(ctx, tv); err != nil {
			return err
		}
		return s.audit(ctx, q, nil, "terms.published", "admin", a.ID, "version="+tv.Version)
	})
}

// Subscribe subscribes an organisation to an application.
func (s *Server) Subscribe(ctx context.Context, orgID, appID string) error {
	if _, err := s.st.OrgByID(ctx, orgID); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("there is no organisation %q (see `magd admin org add`)", orgID)
	} else if err != nil {
		return err
	}
	if _, err := s.st.AppByID(ctx, appID); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("there is no application %q (see `magd admin app add`)", appID)
	} else if err != nil {
		return err
	}
	return s.st.Tx(ctx, func(q store.Q) error {
		if err := q.Subscribe(ctx, orgID, appID, s.now()); err != nil {
			return err
		}
		return s.audit(ctx, q, nil, "org.subscribed", "admin", orgID, appID)
	})
}

// AuditEvents lists the audit log, oldest first (typ "" for all).
func (s *Server) AuditEvents(ctx context.Context, typ string) ([]store.AuditEvent, error) {
	return s.st.AuditEvents(ctx, typ)
}

// RevokeCertificate revokes a client certificate: it no longer counts as a second factor,
// logins offering it get CERT_REVOKED, and the sessions that logged in with it end (in the
// database, so every magd on it sees that; one that cached such a session sees it within
// sessionCacheTTL), and with them their launch links.
func (s *Server) RevokeCertificate(ctx context.Context, certID string) error {
	err := s.st.Tx(ctx, func(q store.Q) error {
		if err := q.RevokeCertificate(ctx, certID); err != nil {
			return err
		}
		ended, err := q.EndCertificateSessions(ctx, certID, s.now())
		if err != nil {
			return err
		}
		return s.audit(ctx, q, nil, "cert.revoked", "admin", certID, fmt.Sprintf("sessions_ended=%d", ended))
	})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("there is no active certificate %q", certID)
	}
	return err
}

// SuspendAccess suspends a user's access to an application: it is listed as suspended, and
// its launch links, even those handed out before, are refused.
func (s *Server) SuspendAccess(ctx context.Context, userID, appID string) error {
	acct, err := s.st.AccountByUserID(ctx, normUserID(userID))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("there is no user %q (see `magd admin user list`)", userID)
	}
	if err != nil {
		return err
	}
	if _, err := s.st.AppByID(ctx, appID); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("there is no application %q", appID)
	} else if err != nil {
		return err
	}
	return s.st.Tx(ctx, func(q store.Q) error {
		if err := q.Grant(ctx, acct.ID, appID, "suspended", s.now()); err != nil {
			return err
		}
		return s.audit(ctx, q, nil, "access.suspended", "admin", acct.UserID, appID)
	})
}

// Orgs lists the organisations.
func (s *Server) Orgs(ctx context.Context) ([]store.Org, error) { return s.st.Orgs(ctx) }

// Users lists the accounts of an organisation.
func (s *Server) Users(ctx context.Context, orgID string) ([]store.Account, error) {
	if _, err := s.st.OrgByID(ctx, orgID); errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("there is no organisation %q (see `magd admin org list`)", orgID)
	} else if err != nil {
		return nil, err
	}
	return s.st.OrgAccounts(ctx, orgID)
}
