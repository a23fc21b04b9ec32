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
func (l *localCerts) List(ctx context.Context, in ListInput) ([]certstore.Classified, []string, error) {
	inv, err := l.inventory()
	if err != nil {
		return nil, nil, err
	}
	ids, warnings := inv.List(ctx)
	for _, w := range warnings {
		l.log.Warn("certificate store not fully read", "problem", w)
	}
	recs, err := inv.File.Records()
	if err != nil {
		return nil, warnings, err
	}
	return certstore.Classify(ids, certstore.ClassifyInput{ServerCAs: certstore.PoolFromPEM(in.CAPEM), ServerURL: in.ServerURL,
		CurrentUserID: in.UserID, MyServerCerts: in.Mine, ServerListKnown: in.Checked, LocalRecords: recs, Now: time.Now()}), warnings, nil
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

// installTargets are the browser stores of this computer (not the app's own, not read-only).
func installTargets(inv *certstore.Inventory) []certstore.Store {
	var out []certstore.Store
	for _, s := range inv.Stores {
		if l := s.Location(); l.Backend != certstore.BackendFile && !l.ReadOnly {
			out = append(out, s)
		}
	}
	return out
}

// Request implements Certs: a key made here, a CSR to the gateway, the certificate stored in
// the app's store with the account noted, and installed in the browsers' stores if asked.
func (l *localCerts) Request(ctx context.Context, c *client.Client, o RequestOptions) (certstore.RequestOutcome, error) {
	inv, err := l.inventory()
	if err != nil {
		return certstore.RequestOutcome{}, err
	}
	in := certstore.RequestInput{ServerURL: c.Server(), UserID: c.UserID(), Label: o.Label, File: inv.File}
	if o.Install {
		in.Install = installTargets(inv)
	}
	return certstore.RequestIdentity(ctx, func(ctx context.Context, csr string) (*api.Certificate, error) {
		return c.RequestCertificate(ctx, csr, o.Label)
	}, in)
}

// Import implements Certs: a PKCS#12 file into the app's store with its owner noted (when
// known), and into the browsers' stores if asked.
func (l *localCerts) Import(ctx context.Context, req ImportRequest, owner func(certstore.Fingerprint) (server, user string)) (certstore.RequestOutcome, error) {
	var out certstore.RequestOutcome
	inv, err := l.inventory()
	if err != nil {
		return out, err
	}
	data, err := os.ReadFile(req.Path)
	if err != nil {
		return out, newError(CodeFileUnreadable, req.Path, err)
	}
	b, err := certstore.ParsePKCS12(data, req.Password)
	if err != nil {
		return out, err
	}
	rec := certstore.Record{Source: certstore.SourceImport}
	rec.ServerURL, rec.UserID = owner(certstore.FingerprintOf(b.Cert))
	if out.Identity, err = inv.File.ImportRecord(ctx, b, rec); err != nil {
		return out, err
	}
	if req.Install {
		for _, st := range installTargets(inv) {
			if _, err := st.Import(ctx, b); err != nil {
				out.Warnings = append(out.Warnings, fmt.Sprintf(notInstalled, st.Location().Label, Message(err)))
				continue
			}
			out.Installed = append(out.Installed, st.Location().Label)
		}
	}
	l.log.Info("certificate imported", "sha256", out.Identity.SHA256, "user", rec.UserID, "installed", out.Installed)
	return out, nil
}

// Locate implements Certs: the copies of an identity in every store (or only in the store
// named by its path or label).
func (l *localCerts) Locate(ctx context.Context, sha, store string) ([]certstore.Identity, error) {
	_, ids, _, err := l.find(ctx, sha, store)
	return ids, err
}

func (l *localCerts) find(ctx context.Context, sha, store string) (certstore.Fingerprint, []certstore.Identity, []certstore.Store, error) {
	inv, err := l.inventory()
	if err != nil {
		return "", nil, nil, err
	}
	fp, err := certstore.ParseFingerprint(sha)
	if err != nil {
		return "", nil, nil, err
	}
	ids, stores := inv.Find(ctx, fp)
	if len(ids) == 0 {
		return fp, nil, nil, newError(CodeCertNotHere, fp.Short(), nil)
	}
	if store == "" {
		return fp, ids, stores, nil
	}
	var keepIDs []certstore.Identity
	var keepStores []certstore.Store
	for i, id := range ids {
		if id.Location.Store == store || id.Location.Label == store {
			keepIDs, keepStores = append(keepIDs, id), append(keepStores, stores[i])
		}
	}
	if len(keepIDs) == 0 {
		return fp, nil, nil, newError(CodeCertNotInStore, fp.Short(), nil)
	}
	return fp, keepIDs, keepStores, nil
}

// bundle finds an identity with its key in the first store that can export it.
func (l *localCerts) bundle(ctx context.Context, sha string) (*certstore.Bundle, certstore.Location, error) {
	fp, _, stores, err := l.find(ctx, sha, "")
	if err != nil {
		return nil, certstore.Location{}, err
	}
	var errs []error
	for _, st := range stores {
		b, err := st.Export(ctx, fp)
		if err == nil {
			return b, st.Location(), nil
		}
		errs = append(errs, err)
	}
	return nil, certstore.Location{}, errors.Join(errs...)
}

// Export implements Certs: an encrypted PKCS#12 file, checked by reading it back.
func (l *localCerts) Export(ctx context.Context, sha, path, password string) (ExportResult, error) {
	b, loc, err := l.bundle(ctx, sha)
	if err != nil {
		return ExportResult{}, err
	}
	if err := certstore.WritePKCS12File(path, b, password); err != nil {
		return ExportResult{}, err
	}
	fp := certstore.FingerprintOf(b.Cert)
	l.log.Info("certificate exported", "sha256", fp, "store", loc.Store, "file", path)
	return ExportResult{SHA256: string(fp), File: path, Store: loc.Store}, nil
}

// TLSCertificate implements Certs.
func (l *localCerts) TLSCertificate(ctx context.Context, sha string) (*tls.Certificate, error) {
	b, _, err := l.bundle(ctx, sha)
	if err != nil {
		return nil, err
	}
	return b.TLSCertificate(), nil
}

// Reassign implements Certs: the app's note of who owns the identity now names this account,
// made if the identity had none (one found in a browser's store, say).
func (l *localCerts) Reassign(sha, server, userID string) error {
	inv, err := l.inventory()
	if err != nil {
		return err
	}
	return inv.File.SetOwner(certstore.Fingerprint(sha), server, userID)
}

// SupportInventory implements Certs.
func (l *localCerts) SupportInventory(ctx context.Context) ([]support.Cert, []string) {
	inv, err := l.inventory()
	if err != nil {
		return nil, []string{err.Error()}
	}
	return support.CertsFromStores(ctx, inv.Stores)
}

// Remove implements Certs: the 2035 fix in every store holding the identity (or the one
// asked for). One verified backup is made, from the first store: the others hold the same
// certificate and key.
func (l *localCerts) Remove(ctx context.Context, req RemoveRequest) (RemoveResult, error) {
	fp, ids, stores, err := l.find(ctx, req.SHA256, req.Store)
	if err != nil {
		return RemoveResult{}, err
	}
	res := RemoveResult{Verified: true}
	var msgs []string
	opts := certstore.RemoveOptions{BackupPath: req.BackupPath, BackupPassword: req.BackupPassword, NoBackup: req.BackupPath == ""}
	for i, st := range stores {
		out, err := certstore.RemoveIdentity(ctx, st, fp, opts)
		l.log.Info("certificate removal", "sha256", fp, "store", ids[i].Location.Store, "cert_removed", out.CertRemoved,
			"key_removed", out.KeyRemoved, "key_skipped", out.KeySkippedReason, "verified", out.Verified, "backup", out.BackupPath, "ok", err == nil)
		if err != nil {
			return res, err
		}
		res.Outcomes = append(res.Outcomes, out)
		if out.BackupPath != "" {
			res.BackupPath = out.BackupPath
			opts = certstore.RemoveOptions{NoBackup: true}
		}
		res.Verified = res.Verified && out.Verified
		msgs = append(msgs, strings.TrimSuffix(strings.TrimSuffix(out.Message, certstore.CloseBrowsersAdvice), " "))
	}
	res.Message = strings.Join(msgs, " ")
	return res, nil
}
