package certstore

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
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
}

// Record sources.
const (
	SourceRequest = "request"
	SourceImport  = "import"
	SourceDemo    = "demo"
)

type indexFile struct {
	Version int      `json:"version"`
	Records []Record `json:"records"`
}

func (s *FileStore) indexPath() string { return filepath.Join(s.dir, "index.json") }

// Records returns every record, oldest first.
func (s *FileStore) Records() ([]Record, error) {
	data, err := os.ReadFile(s.indexPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, newErr(CodeStoreUnavailable, "file records", err, "cannot read %s", s.indexPath())
	}
	var idx indexFile
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, newErr(CodeCorrupt, "file records", err, "%s is damaged: move it away; the certificates stay usable but lose their account notes", s.indexPath())
	}
	return idx.Records, nil
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
