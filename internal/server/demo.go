package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"strings"

	"github.com/mag-desktop/magdesk/internal/server/ca"
	"github.com/mag-desktop/magdesk/internal/server/demorp"
	"github.com/mag-desktop/magdesk/internal/server/store"
)

// DemoInfo is what --demo seeded: accounts with their generated passwords, a pending account's
// activation link, and a certificate bound only to the demo user's second account.
type DemoInfo struct {
	OrgID, OrgName                string
	AdminUserID, AdminPassword    string
	UserUserID, UserPassword      string
	PendingUserID, ActivationLink string // the magdesk://activate?token=... link
	SecondUserID, SecondPassword  string // the demo user's second account (same name and email)
	SecondCertPEM, SecondKeyPEM   []byte // bound ONLY to the second account; kept in memory, never written by magd
}

// demoApps has one application per status, as the demo user sees it.
// Each is a relying party of magd served by magd itself (internal/server/demorp): OpenID
// Connect, or SAML for the service desk.
var demoApps = []struct{ id, name, desc, status, protocol string }{
	{"flightplan", "Flight Planning", "Plan and file flight schedules with partners.", "pending_terms", "oidc"},
	{"supplychain", "Supply Chain Portal", "Purchase orders, invoices and shipping notices.", "available", "oidc"},
	{"partscatalog", "Parts Catalogue", "Search certified aircraft parts.", "access_requested", "oidc"},
	{"engdocs", "Engineering Documents", "Drawings and specifications shared with suppliers.", "access_granted", "oidc"},
	{"servicedesk", "Service Desk", "Report and follow up support tickets (signs in with SAML).", "access_granted", "saml"},
	{"finance", "Finance Reports", "Quarterly supplier finance reports.", "access_denied", "oidc"},
	{"archive", "Legacy Archive", "Read-only archive of retired programmes.", "suspended", "oidc"},
}

// demoPassword is a random password that passes the policy: 4 groups of 5 letters and digits.
func demoPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%5 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return sb.String()
}

func (s *Server) seedDemo(ctx context.Context) (*DemoInfo, error) {
	if n, err := s.st.CountOrgs(ctx); err != nil || n > 0 {
		if err == nil {
			s.log.Warn("--demo: the data folder already has data; nothing seeded")
		}
		return nil, err
	}
	d := &DemoInfo{OrgName: "Demo Aerospace"}
	var err error
	if d.OrgID, err = s.CreateOrg(ctx, d.OrgName); err != nil {
		return nil, err
	}
	active := func(first, last, email string, admin bool) (store.Account, string, error) {
		acct, err := s.insertUser(ctx, NewUser{OrgID: d.OrgID, Email: email, FirstName: first, LastName: last, OrgAdmin: admin}, store.AccountPending)
		if err != nil {
			return acct, "", err
		}
		pw := demoPassword()
		phc, err := s.hash(ctx, pw)
		if err != nil {
			return acct, "", err
		}
		return acct, pw, s.st.Activate(ctx, acct.ID, phc)
	}
	admin, adminPW, err := active("Alex", "Morgan", "alex.morgan@demo-aerospace.example", true)
	if err != nil {
		return nil, err
	}
	user, userPW, err := active("Dana", "Pilot", "dana.pilot@demo-aerospace.example", false)
	if err != nil {
		return nil, err
	}
	second, secondPW, err := active("Dana", "Pilot", "dana.pilot@demo-aerospace.example", false)
	if err != nil {
		return nil, err
	}
	d.AdminUserID, d.AdminPassword = admin.UserID, adminPW
	d.UserUserID, d.UserPassword = user.UserID, userPW
	d.SecondUserID, d.SecondPassword = second.UserID, secondPW
	pending, err := s.insertUser(ctx, NewUser{OrgID: d.OrgID, Email: "pat.newcomer@demo-aerospace.example",
		FirstName: "Pat", LastName: "Newcomer"}, store.AccountPending)
	if err != nil {
		return nil, err
	}
	d.PendingUserID = pending.UserID
	tok, err := s.issueActivation(ctx, pending, "demo")
	if err != nil {
		return nil, err
	}
	d.ActivationLink = ActivationLink(tok)
	if err := s.seedDemoApps(ctx, admin, user); err != nil {
		return nil, err
	}
	if d.SecondCertPEM, d.SecondKeyPEM, err = s.demoCertificate(ctx, second); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Server) seedDemoApps(ctx context.Context, admin, user store.Account) error {
	now := s.now()
	for _, a := range demoApps {
		terms := a.name + " — Terms and Conditions\n\n1. Use " + a.name + " only for your organisation's business.\n" +
			"2. Keep your credentials to yourself; never share a certificate or a one-time code.\n" +
			"3. Your organisation administrator accepts these terms for everyone in " + user.OrgName + ".\n"
		if err := s.AddApp(ctx, NewApp{ID: a.id, Name: a.name, Description: a.desc, URL: demorp.Prefix + a.id + "/", Terms: terms,
			RequiredAAL: 1}); err != nil {
			return err
		}
		if err := s.Subscribe(ctx, user.OrgID, a.id); err != nil {
			return err
		}
		if a.status == "pending_terms" {
			continue
		}
		app, err := s.st.AppByID(ctx, a.id)
		if err != nil {
			return err
		}
		err = s.st.Tx(ctx, func(q store.Q) error {
			if err := q.Accept(ctx, store.Acceptance{ID: newID("acc"), OrgID: user.OrgID, AppID: a.id, TermsVersionID: app.CurrentTermsID,
				AcceptedBy: admin.ID, AcceptedAt: now}); err != nil {
				return err
			}
			switch a.status {
			case "access_requested", "access_denied":
				id := newID("req")
				if err := q.CreateAccessRequest(ctx, store.AccessRequest{ID: id, AccountID: user.ID, AppID: a.id, CreatedAt: now}); err != nil {
					return err
				}
				if a.status == "access_denied" {
					return q.DecideAccessRequest(ctx, id, store.RequestDenied, "Only the finance team uses this application.", admin.ID, now)
				}
			case "access_granted":
				return q.Grant(ctx, user.ID, a.id, "active", now)
			case "suspended":
				return q.Grant(ctx, user.ID, a.id, "suspended", now)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// demoCertificate issues a certificate to acct through the CA, like POST /v1/me/certificates.
func (s *Server) demoCertificate(ctx context.Context, acct store.Account) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: acct.DisplayName()}}, key)
	if err != nil {
		return nil, nil, err
	}
	id := newID("crt")
	now := s.now()
	cert, err := s.ca.IssueClient(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}), id, now)
	if err != nil {
		return nil, nil, err
	}
	c := store.Certificate{ID: id, SerialHex: cert.SerialNumber.Text(16), SHA256: ca.SHA256Hex(cert), Subject: cert.Subject.String(),
		Status: store.CertActive, IssuedTo: acct.ID, Label: "demo", DER: cert.Raw, NotBefore: cert.NotBefore.UTC(), NotAfter: cert.NotAfter.UTC(), CreatedAt: now}
	if err := s.st.CreateCertificate(ctx, c); err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, errors.Join(errors.New("encode demo key"), err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
