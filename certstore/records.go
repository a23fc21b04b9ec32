package certstore

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Record is the non-secret note of where a certificate came from and which account it belongs
// to. The file store keeps them in certs/index.json.
type Record struct {
	SHA256    Fingerprint `json:"sha256"`
	ServerURL string      `json:"server_url,omitempty"`
	UserID    string      `json:"user_id,omitempty"`
	Source    string      `json:"source"` // request, import, demo
	Label     string      `json:"label,omitempty"`
	CreatedAt time.Time   `json:"created_at"`
	// CertPEM is the public certificate and chain (a copy of <sha256>.crt), so that listing
	// reads one file instead of one per identity.
	CertPEM string `json:"cert_pem,omitempty"`
}

// Record sources.
const (
	SourceRequest = "request"
	SourceImport  = "import"
	SourceDemo    = "demo"
	// SourceConnect is a certificate of another store, noted when it was connected to an account.
	SourceConnect = "connect"
)

type indexFile struct {
	Version int      `json:"version"`
	Records []Record `json:"records"`
}

func (s *FileStore) indexPath() string { return filepath.Join(s.dir, "index.json") }

// recordCache keeps the decoded index while the file is unchanged (same size and time).
type recordCache struct {
	mu      sync.Mutex
	size    int64
	modTime time.Time
	recs    []Record
}

// Records returns every record, oldest first.
func (s *FileStore) Records() ([]Record, error) {
	st, err := os.Stat(s.indexPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, newErr(CodeStoreUnavailable, "file records", err, "cannot read %s", s.indexPath())
	}
	c := &s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.recs != nil && c.size == st.Size() && c.modTime.Equal(st.ModTime()) {
		return slices.Clone(c.recs), nil
	}
	data, err := os.ReadFile(s.indexPath())
	if err != nil {
		return nil, newErr(CodeStoreUnavailable, "file records", err, "cannot read %s", s.indexPath())
	}
	var idx indexFile
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, newErr(CodeCorrupt, "file records", err, "%s is damaged: move it away; the certificates stay usable but lose their account notes", s.indexPath())
	}
	c.size, c.modTime, c.recs = st.Size(), st.ModTime(), idx.Records
	return slices.Clone(idx.Records), nil
}

// PutRecord adds or replaces the record of rec.SHA256.
func (s *FileStore) PutRecord(rec Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.putRecordLocked(rec)
}

func (s *FileStore) putRecordLocked(rec Record) error {
	recs, err := s.Records()
	if err != nil {
		return err
	}
	rec.ServerURL = NormalizeServerURL(rec.ServerURL)
	out := recs[:0]
	for _, r := range recs {
		if r.SHA256 != rec.SHA256 {
			out = append(out, r)
		}
	}
	out = append(out, rec)
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	data, err := json.MarshalIndent(indexFile{Version: 1, Records: out}, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(s.indexPath(), data, 0o600); err != nil {
		return newErr(CodeStoreUnavailable, "file records", err, "cannot write %s", s.indexPath())
	}
	return nil
}

// SetOwner notes that fp belongs to userID at serverURL: its record is changed, or made when
// there is none (a certificate found in another store, or imported with no record).
func (s *FileStore) SetOwner(fp Fingerprint, serverURL, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs, err := s.Records()
	if err != nil {
		return err
	}
	rec := Record{SHA256: fp, Source: SourceConnect, CreatedAt: time.Now().UTC()}
	for _, r := range recs {
		if r.SHA256 == fp {
			rec = r
		}
	}
	rec.ServerURL, rec.UserID = serverURL, userID
	return s.putRecordLocked(rec)
}

// NormalizeServerURL makes URLs comparable: no trailing slash, lower-case scheme and host.
func NormalizeServerURL(u string) string {
	u = strings.TrimRight(strings.TrimSpace(u), "/")
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		host, path, _ := strings.Cut(rest, "/")
		u = strings.ToLower(u[:i]) + "://" + strings.ToLower(host)
		if path != "" {
			u += "/" + path
		}
	}
	return u
}
