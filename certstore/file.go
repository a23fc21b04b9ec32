package certstore

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mag-desktop/magdesk/internal/secrets"
)

// KeyringService is the OS-keyring service under which the file store keeps each file's password.
// It differs from the session cache's service so that clearing sessions never touches identities.
const KeyringService = "MAG Desktop certificate store"

// FileStore is the app's own store: <MAGDESK_HOME>/certs/<sha256>.p12 (PKCS#12, Modern encoder,
// random password kept in the OS keyring) beside <sha256>.crt (the public certificate, so that
// listing never decrypts anything) and index.json (non-secret records of which account asked for
// which certificate). Removal deletes the files and the password: the verified backup taken
// before it is the undo.
type FileStore struct {
	dir     string
	keyring secrets.Store
	now     func() time.Time
	mu      sync.Mutex // serialises changes (the GUI works from several goroutines)
	cache   recordCache
}

// FileOption configures a FileStore.
type FileOption func(*FileStore)

// WithKeyring keeps the files' passwords in k instead of the OS keyring (the demo, tests).
func WithKeyring(k secrets.Keyring) FileOption {
	return func(s *FileStore) { s.keyring = secrets.In(k, KeyringService) }
}

// WithClock replaces time.Now.
func WithClock(now func() time.Time) FileOption { return func(s *FileStore) { s.now = now } }

// OpenFileStore opens (creating, mode 0700) the store in home/certs.
func OpenFileStore(home string, opts ...FileOption) (*FileStore, error) {
	s := &FileStore{dir: filepath.Join(home, "certs"), keyring: secrets.In(secrets.OS(), KeyringService), now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, newErr(CodeStoreUnavailable, "open file store", err, "cannot create %s: check that the folder is writable or set MAGDESK_HOME", s.dir)
	}
	if err := s.purgeTrash(); err != nil {
		return nil, newErr(CodeStoreUnavailable, "open file store", err, "cannot empty %s: check that the folder is writable", filepath.Join(s.dir, "trash"))
	}
	return s, nil
}

// purgeTrash deletes what earlier versions moved to certs/trash/ on removal (keys the user was
// told were removed) together with their passwords in the keyring.
func (s *FileStore) purgeTrash() error {
	trash := filepath.Join(s.dir, "trash")
	entries, err := os.ReadDir(trash)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".p12"); ok {
			_ = s.keyring.Delete("trash/" + name)
		}
	}
	return os.RemoveAll(trash)
}

// Dir is the store's folder.
func (s *FileStore) Dir() string { return s.dir }

// Location implements Store.
func (s *FileStore) Location() Location {
	return Location{Backend: "file", Store: s.dir, Label: "MAG Desktop certificate store"}
}

func (s *FileStore) p12Path(fp Fingerprint) string { return filepath.Join(s.dir, string(fp)+".p12") }
func (s *FileStore) crtPath(fp Fingerprint) string { return filepath.Join(s.dir, string(fp)+".crt") }

// PartialError is returned beside a usable list when some entries could not be read.
type PartialError struct{ Problems []string }

func (e *PartialError) Error() string {
	return "some certificates could not be read: " + strings.Join(e.Problems, "; ")
}

// List implements Store. It reads only the public .crt files.
func (s *FileStore) List(ctx context.Context) ([]Identity, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, newErr(CodeStoreUnavailable, "file list", err, "cannot read %s", s.dir)
	}
	names := make(map[string]bool, len(entries))
	for _, e := range entries {
		names[e.Name()] = true
	}
	// The index holds a copy of every certificate: one file to read instead of one per
	// identity. A missing or damaged copy falls back to the .crt file.
	copies := map[Fingerprint]string{}
	if recs, err := s.Records(); err == nil {
		for _, r := range recs {
			copies[r.SHA256] = r.CertPEM
		}
	}
	var out []Identity
	var problems []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".crt") {
			continue
		}
		fp := Fingerprint(strings.TrimSuffix(name, ".crt"))
		var err error
		certs := parsePEMCerts([]byte(copies[fp]))
		if len(certs) == 0 || FingerprintOf(certs[0]) != fp {
			certs, err = readCertFile(filepath.Join(s.dir, name))
		}
		if err != nil || FingerprintOf(certs[0]) != fp {
			problems = append(problems, fmt.Sprintf("%s is damaged or renamed; move it out of %s", name, s.dir))
			continue
		}
		out = append(out, s.identity(certs, names[string(fp)+".p12"]))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SHA256 < out[j].SHA256 })
	if len(problems) > 0 {
		return out, &PartialError{Problems: problems}
	}
	return out, nil
}

func readCertFile(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	certs := parsePEMCerts(data)
	if len(certs) == 0 {
		return nil, errors.New("no certificate")
	}
	return certs, nil
}

// Import implements Store (recorded as an import, without account binding).
func (s *FileStore) Import(ctx context.Context, b *Bundle) (Identity, error) {
	return s.ImportRecord(ctx, b, Record{Source: SourceImport})
}

// ImportRecord stores b and records which account it belongs to.
func (s *FileStore) ImportRecord(ctx context.Context, b *Bundle, rec Record) (Identity, error) {
	const op = "file import"
	s.mu.Lock()
	defer s.mu.Unlock()
	fp := FingerprintOf(b.Cert)
	if _, err := os.Stat(s.p12Path(fp)); err == nil {
		return Identity{}, newErr(CodeAlreadyPresent, op, nil, "certificate %s is already in the MAG Desktop store", fp.Short())
	}
	pw := randomPassword()
	data, err := EncodePKCS12(b, pw)
	if err != nil {
		return Identity{}, err
	}
	if err := s.keyring.Set(string(fp), pw); err != nil {
		return Identity{}, newErr(CodeKeyringFailed, op, err, "the OS keyring refused to store the identity's password: unlock your keyring (or start one) and try again")
	}
	undo := func() {
		_ = os.Remove(s.p12Path(fp))
		_ = os.Remove(s.crtPath(fp))
		_ = s.keyring.Delete(string(fp))
	}
	var pemData []byte
	for _, c := range append([]*x509.Certificate{b.Cert}, b.Chain...) {
		pemData = append(pemData, CertPEM(c)...)
	}
	if err := writeFileAtomic(s.p12Path(fp), data, 0o600); err != nil {
		undo()
		return Identity{}, newErr(CodeStoreUnavailable, op, err, "cannot write to %s", s.dir)
	}
	if err := writeFileAtomic(s.crtPath(fp), pemData, 0o600); err != nil {
		undo()
		return Identity{}, newErr(CodeStoreUnavailable, op, err, "cannot write to %s", s.dir)
	}
	back, err := s.Export(ctx, fp)
	if err != nil || !back.Equal(b) {
		undo()
		return Identity{}, newErr(CodeVerifyFailed, op, err, "the stored identity did not read back identically; nothing was kept")
	}
	// Read the public file back rather than listing the whole store (imports stay O(1)).
	certs, err := readCertFile(s.crtPath(fp))
	if err != nil || FingerprintOf(certs[0]) != fp {
		undo()
		return Identity{}, newErr(CodeVerifyFailed, op, err, "the stored certificate did not read back; nothing was kept")
	}
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.now().UTC()
	}
	rec.SHA256 = fp
	rec.CertPEM = string(pemData)
	if err := s.putRecordLocked(rec); err != nil {
		undo()
		return Identity{}, err
	}
	return s.identity(certs, true), nil
}

func (s *FileStore) identity(certs []*x509.Certificate, hasKey bool) Identity {
	fp := FingerprintOf(certs[0])
	id := newIdentity(certs[0], s.Location())
	id.Chain = certs[1:]
	id.Key = KeyInfo{Present: hasKey, Exportable: Yes, Provider: "file (password in the OS keyring)", Container: string(fp) + ".p12"}
	return id
}

// Export implements Store: it decrypts the file with the password from the keyring.
func (s *FileStore) Export(ctx context.Context, fp Fingerprint) (*Bundle, error) {
	const op = "file export"
	data, err := os.ReadFile(s.p12Path(fp))
	if errors.Is(err, os.ErrNotExist) {
		return nil, notFound(op, fp, s.Location())
	}
	if err != nil {
		return nil, newErr(CodeStoreUnavailable, op, err, "cannot read the identity file")
	}
	pw, err := s.keyring.Get(string(fp))
	if err != nil {
		return nil, newErr(CodeKeyringFailed, op, err, "the password of identity %s is not in the OS keyring (unlock the keyring; if it was deleted, remove this identity and request a new certificate)", fp.Short())
	}
	b, err := ParsePKCS12(data, pw)
	if err != nil {
		return nil, err
	}
	if FingerprintOf(b.Cert) != fp {
		return nil, newErr(CodeCorrupt, op, nil, "file %s holds another certificate than its name says: move it out of %s", filepath.Base(s.p12Path(fp)), s.dir)
	}
	return b, nil
}

// Remove implements Store: the key file, the certificate file and the key's password in the
// keyring are deleted, then the store is listed again.
func (s *FileStore) Remove(ctx context.Context, fp Fingerprint) (RemoveResult, error) {
	const op = "file remove"
	s.mu.Lock()
	defer s.mu.Unlock()
	res := RemoveResult{Fingerprint: fp, Location: s.Location()}
	list, _ := s.List(ctx)
	if _, ok := find(list, fp); !ok {
		if _, err := os.Stat(s.p12Path(fp)); err != nil {
			return res, notFound(op, fp, s.Location())
		}
	}
	if err := os.Remove(s.p12Path(fp)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return res, newErr(CodeStoreUnavailable, op, err, "cannot delete the key file; nothing was removed")
	}
	res.KeyRemoved = true
	if err := s.keyring.Delete(string(fp)); err != nil {
		res.Warnings = append(res.Warnings, "the key file is deleted, but its password could not be deleted from the OS keyring: "+err.Error())
	}
	if err := os.Remove(s.crtPath(fp)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return res, newErr(CodeStoreUnavailable, op, err, "the key file is deleted but the certificate file could not be")
	}
	res.CertRemoved = true
	after, err := s.List(ctx)
	var pe *PartialError
	if err != nil && !errors.As(err, &pe) {
		return res, err
	}
	if _, still := find(after, fp); still {
		return res, newErr(CodeVerifyFailed, op, nil, "the certificate is still listed after removal")
	}
	if _, err := os.Stat(s.p12Path(fp)); err == nil {
		return res, newErr(CodeVerifyFailed, op, nil, "the key file is still there after removal")
	}
	res.Verified = true
	return res, nil
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name)
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(name, path)
}
