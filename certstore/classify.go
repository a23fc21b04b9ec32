package certstore

import (
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/mag-desktop/magdesk/api"
)

// Class is what an identity means for the account being logged in.
type Class string

// Classes.
const (
	ClassBound        Class = "bound_to_this_account"
	ClassWrongAccount Class = "wrong_account" // the Error 2035 case
	ClassNotBound     Class = "not_bound"     // from this gateway, binding unknown
	ClassExpired      Class = "expired"
	ClassRevoked      Class = "revoked"
	ClassForeign      Class = "foreign" // not issued by this gateway
)

// ClassifyInput is what is known about the account and the gateway.
type ClassifyInput struct {
	ServerCAs     *x509.CertPool // the gateway's CA; nil = judge by the urn:mag:cert SAN
	ServerURL     string
	CurrentUserID string
	// MyServerCerts is GET /v1/me/certificates for the current account; ServerListKnown says it
	// was fetched (an empty list is then meaningful).
	MyServerCerts   []api.Certificate
	ServerListKnown bool
	LocalRecords    []Record // the file store's index: which account requested which certificate
	Now             time.Time
}

// Classified is an identity with its class, the reason in plain words, and the account it is
// known to belong to (so that one person's several accounts can be shown side by side).
type Classified struct {
	Identity
	Class   Class  `json:"class"`
	Reason  string `json:"reason"`
	Account string `json:"account,omitempty"`
}

// Classify judges every identity against the logged-in account.
func Classify(ids []Identity, in ClassifyInput) []Classified {
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	server := map[string]api.Certificate{}
	for _, c := range in.MyServerCerts {
		server[strings.ToLower(c.SHA256)] = c
	}
	records := map[Fingerprint]Record{}
	for _, r := range in.LocalRecords {
		if in.ServerURL == "" || r.ServerURL == "" || NormalizeServerURL(r.ServerURL) == NormalizeServerURL(in.ServerURL) {
			records[r.SHA256] = r
		}
	}
	out := make([]Classified, 0, len(ids))
	for _, id := range ids {
		c := Classified{Identity: id}
		rec, hasRec := records[id.SHA256]
		if hasRec {
			c.Account = rec.UserID
		}
		sc, onServer := server[string(id.SHA256)]
		switch {
		case !fromGateway(id, in.ServerCAs, rec, hasRec):
			c.Class, c.Reason = ClassForeign, "not issued by this gateway; it is not used to log in here"
		case onServer && sc.Status == "revoked":
			c.Class, c.Reason, c.Account = ClassRevoked, "the gateway revoked it; remove it", in.CurrentUserID
		case onServer && id.Expired(in.Now):
			c.Class, c.Reason, c.Account = ClassExpired, expiredReason(id), in.CurrentUserID
		case onServer:
			c.Class, c.Reason, c.Account = ClassBound, "bound to this account ("+in.CurrentUserID+") at the gateway", in.CurrentUserID
		case id.Expired(in.Now):
			c.Class, c.Reason = ClassExpired, expiredReason(id)
		case hasRec && rec.UserID != "" && in.CurrentUserID != "" && rec.UserID != in.CurrentUserID:
			c.Class = ClassWrongAccount
			c.Reason = fmt.Sprintf("requested by account %s, not %s: offering it at login gives Error 2035; remove it from this store, or connect it to this account", rec.UserID, in.CurrentUserID)
		case in.ServerListKnown && hasRec && rec.UserID == in.CurrentUserID:
			c.Class, c.Reason = ClassNotBound, "recorded as requested by this account, but the gateway no longer lists it for this account"
		case in.ServerListKnown:
			c.Class = ClassWrongAccount
			c.Reason = fmt.Sprintf("issued by this gateway but not bound to %s (it belongs to another account): offering it at login gives Error 2035; remove it from this store, or connect it to this account", in.CurrentUserID)
		case hasRec && rec.UserID != "" && rec.UserID == in.CurrentUserID:
			c.Class, c.Reason = ClassBound, "requested by this account (local record; log in to confirm with the gateway)"
		default:
			c.Class, c.Reason = ClassNotBound, "issued by this gateway; which account it belongs to is not known (log in to check)"
		}
		out = append(out, c)
	}
	return out
}

func expiredReason(id Identity) string {
	return "expired on " + id.NotAfter.Format("2006-01-02") + "; remove it so that browsers stop offering it"
}

// fromGateway: a record that this gateway issued it to us (checked against our key when it
// arrived) is proof enough, and spares a signature check per identity; otherwise the gateway's
// CA verifies the chain (validity aside: expiry is its own class),
// or, without the CA, the certificate carries the gateway's urn:mag:cert SAN or our record.
func fromGateway(id Identity, pool *x509.CertPool, rec Record, hasRec bool) bool {
	if id.Cert == nil {
		return false
	}
	if hasRec && rec.ServerURL != "" {
		return true // records are kept only for this server's URL (see Classify)
	}
	if pool == nil {
		return id.MagCertID != "" || hasRec
	}
	inter := x509.NewCertPool()
	for _, c := range id.Chain {
		inter.AddCert(c)
	}
	mid := id.Cert.NotBefore.Add(id.Cert.NotAfter.Sub(id.Cert.NotBefore) / 2)
	_, err := id.Cert.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, CurrentTime: mid, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return err == nil
}

// WrongAccount returns the identities of class wrong_account.
func WrongAccount(cs []Classified) []Classified {
	var out []Classified
	for _, c := range cs {
		if c.Class == ClassWrongAccount {
			out = append(out, c)
		}
	}
	return out
}

// PoolFromPEM builds a pool from the gateway's CA PEM (nil when empty or unreadable).
func PoolFromPEM(caPEM []byte) *x509.CertPool {
	if len(caPEM) == 0 {
		return nil
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(caPEM) {
		return nil
	}
	return p
}
