package service

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/support"
)

// localCerts is Certs over package certstore: the app's file store and the platform's stores.
type localCerts struct {
	opts certstore.InventoryOptions
	log  *slog.Logger

	mu  sync.Mutex
	inv *certstore.Inventory
}

// NewLocalCerts is Certs over the stores o opens (Home must be MAGDESK_HOME).
func NewLocalCerts(o certstore.InventoryOptions, log *slog.Logger) Certs {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &localCerts{opts: o, log: log}
}

// inventory opens the stores once; a failure is retried on the next call.
func (l *localCerts) inventory() (*certstore.Inventory, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inv != nil {
		return l.inv, nil
	}
	inv, err := certstore.OpenInventory(l.opts)
	if err != nil {
		return nil, err
	}
	l.inv = inv
	return inv, nil
}

// ForLogin implements Certs with the identity this user requested on this server, if any.
func (l *localCerts) ForLogin(ctx context.Context, server, userID string) (*tls.Certificate, error) {
	inv, err := l.inventory()
	if err != nil {
		return nil, err
	}
	b, _, err := certstore.IdentityForLogin(ctx, inv.File, server, userID, time.Now())
	if certstore.CodeOf(err) == certstore.CodeNoIdentityForUser {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return b.TLSCertificate(), nil
}

// List implements Certs: every store, classified for the account.
func (l *localCerts) List(ctx context.Context, in ListInput) ([]Identity, error) {
	inv, err := l.inventory()
	if err != nil {
		return nil, err
	}
	ids, warnings := inv.List(ctx)
	for _, w := range warnings {
		l.log.Warn("certificate store not fully read", "problem", w)
	}
	recs, err := inv.File.Records()
	if err != nil {
		return nil, err
	}
	cls := certstore.Classify(ids, certstore.ClassifyInput{ServerCAs: certstore.PoolFromPEM(in.CAPEM), ServerURL: in.ServerURL,
		CurrentUserID: in.UserID, MyServerCerts: in.Mine, ServerListKnown: in.UserID != "", LocalRecords: recs})
	out := make([]Identity, 0, len(cls))
	for _, c := range cls {
		out = append(out, identityOf(c))
	}
	return out, nil
}

func identityOf(c certstore.Classified) Identity {
	subject := c.SubjectCN
	if subject == "" {
		subject = c.Subject
	}
	issuer := c.IssuerCN
	if issuer == "" {
		issuer = c.Issuer
	}
	alg := c.KeyAlgorithm
	if c.KeyBits > 0 {
		alg = fmt.Sprintf("%s %d", alg, c.KeyBits)
	}
	return Identity{SHA256: string(c.SHA256), Subject: subject, Issuer: issuer, Serial: c.Serial,
		Store: c.Location.Label, Location: c.Location.Store, NotBefore: c.NotBefore, NotAfter: c.NotAfter,
		KeyAlgorithm: alg, Status: string(c.Class), StatusText: c.Reason, Account: c.Account,
		Exportable: c.Key.Present && c.Key.Exportable != certstore.No && !c.Key.Hardware}
}

// Request implements Certs: a key made here, a CSR to the gateway, the certificate stored in
// the app's store with the account noted.
func (l *localCerts) Request(ctx context.Context, c *client.Client) (Identity, error) {
	inv, err := l.inventory()
	if err != nil {
		return Identity{}, err
	}
	out, err := certstore.RequestIdentity(ctx, func(ctx context.Context, csr string) (*api.Certificate, error) {
		return c.RequestCertificate(ctx, csr, "MAG Desktop")
	}, certstore.RequestInput{ServerURL: c.Server(), UserID: c.UserID(), Label: "MAG Desktop", File: inv.File})
	if err != nil {
		return Identity{}, err
	}
	return identityOf(certstore.Classified{Identity: out.Identity, Class: certstore.ClassBound, Account: c.UserID()}), nil
}

// Import implements Certs: a PKCS#12 file into the app's store.
func (l *localCerts) Import(ctx context.Context, path, password string) (Identity, error) {
	inv, err := l.inventory()
	if err != nil {
		return Identity{}, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Identity{}, newError(CodeFileUnreadable, path, err)
	}
	b, err := certstore.ParsePKCS12(data, password)
	if err != nil {
		return Identity{}, err
	}
	id, err := inv.File.Import(ctx, b)
	if err != nil {
		return Identity{}, err
	}
	return identityOf(certstore.Classified{Identity: id, Class: certstore.ClassNotBound}), nil
}

// bundle finds an identity with its key in the first store that can export it.
func (l *localCerts) bundle(ctx context.Context, sha string) (*certstore.Bundle, error) {
	inv, err := l.inventory()
	if err != nil {
		return nil, err
	}
	fp, err := certstore.ParseFingerprint(sha)
	if err != nil {
		return nil, err
	}
	_, stores := inv.Find(ctx, fp)
	if len(stores) == 0 {
		return nil, newError(CodeCertNotHere, fp.Short(), nil)
	}
	var errs []error
	for _, st := range stores {
		b, err := st.Export(ctx, fp)
		if err == nil {
			return b, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// Export implements Certs: an encrypted PKCS#12 file, checked by reading it back.
func (l *localCerts) Export(ctx context.Context, sha, path, password string) error {
	b, err := l.bundle(ctx, sha)
	if err != nil {
		return err
	}
	return certstore.WritePKCS12File(path, b, password)
}

// TLSCertificate implements Certs.
func (l *localCerts) TLSCertificate(ctx context.Context, sha string) (*tls.Certificate, error) {
	b, err := l.bundle(ctx, sha)
	if err != nil {
		return nil, err
	}
	return b.TLSCertificate(), nil
}

// SupportInventory implements Certs.
func (l *localCerts) SupportInventory(ctx context.Context) ([]support.Cert, []string) {
	inv, err := l.inventory()
	if err != nil {
		return nil, []string{err.Error()}
	}
	return support.CertsFromStores(ctx, inv.Stores)
}

// Remove implements Certs: the 2035 fix in every store holding the identity. The backup is
// made from the first store; the others hold the same certificate and key.
func (l *localCerts) Remove(ctx context.Context, req RemoveRequest) (RemoveResult, error) {
	inv, err := l.inventory()
	if err != nil {
		return RemoveResult{}, err
	}
	fp, err := certstore.ParseFingerprint(req.SHA256)
	if err != nil {
		return RemoveResult{}, err
	}
	_, stores := inv.Find(ctx, fp)
	if len(stores) == 0 {
		return RemoveResult{}, newError(CodeCertNotHere, fp.Short(), nil)
	}
	res := RemoveResult{Verified: true}
	var msgs []string
	opts := certstore.RemoveOptions{BackupPath: req.BackupPath, BackupPassword: req.BackupPassword, NoBackup: req.BackupPath == ""}
	for _, st := range stores {
		out, err := certstore.RemoveIdentity(ctx, st, fp, opts)
		if err != nil {
			return res, err
		}
		if out.BackupPath != "" {
			res.BackupPath = out.BackupPath
			opts = certstore.RemoveOptions{NoBackup: true}
		}
		res.Verified = res.Verified && out.Verified
		msgs = append(msgs, strings.TrimSuffix(strings.TrimSuffix(out.Message, certstore.CloseBrowsersAdvice), " "))
		l.log.Info("certificate removed", "sha256", string(fp), "store", st.Location().Label, "key_removed", out.KeyRemoved, "verified", out.Verified)
	}
	res.Message = strings.Join(msgs, " ")
	return res, nil
}
