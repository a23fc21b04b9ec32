package hardening

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// needle is one encoding of a secret as it could sit in a file.
type needle struct {
	secret, form string
	b            []byte
	fold         bool // compare case-insensitively (hex, base32)
}

// aligned returns the part of enc(pad zero bytes + b) that depends only on b, for every
// alignment of b within the encoder's groups (a secret inside a longer encoded blob).
func aligned(b []byte, group, chars int, enc func([]byte) string) []string {
	var out []string
	for pad := 0; pad < group; pad++ {
		s := enc(append(make([]byte, pad), b...))
		start := 0
		if pad > 0 {
			start = chars
		}
		end := (pad + len(b)) / group * chars
		if end-start >= 8 {
			out = append(out, s[start:end])
		}
	}
	return out
}

// forms is every way a secret is looked for: raw, hex, base64 (std and URL, any alignment)
// and base32 (any alignment).
func forms(name string, b []byte) []needle {
	out := []needle{{name, "raw", b, false}, {name, "hex", []byte(hex.EncodeToString(b)), true}}
	for _, e := range []struct {
		form string
		enc  func([]byte) string
	}{
		{"base64", base64.StdEncoding.EncodeToString}, {"base64url", base64.URLEncoding.EncodeToString},
	} {
		for _, s := range aligned(b, 3, 4, e.enc) {
			out = append(out, needle{name, e.form, []byte(s), false})
		}
	}
	for _, s := range aligned(b, 5, 8, base32.StdEncoding.EncodeToString) {
		out = append(out, needle{name, "base32", []byte(s), true})
	}
	return out
}

// hit is a secret found in a file.
type hit struct{ file, secret, form string }

// scanTree reads every regular file under each root and reports every needle found.
func scanTree(t *testing.T, roots []string, needles []needle) (files int, hits []hit) {
	t.Helper()
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			lower := bytes.ToLower(data)
			for _, n := range needles {
				hay, nb := data, n.b
				if n.fold {
					hay, nb = lower, bytes.ToLower(n.b)
				}
				if bytes.Contains(hay, nb) {
					hits = append(hits, hit{path, n.secret, n.form})
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("scan %s: %v", root, err)
		}
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].file+hits[i].secret < hits[j].file+hits[j].secret })
	return files, hits
}

// TestScannerFindsPlantedSecrets: the scanner itself finds a secret in every form it claims.
func TestScannerFindsPlantedSecrets(t *testing.T) {
	dir := t.TempDir()
	secret := []byte("correct horse battery staple 42")
	blobs := map[string][]byte{
		"raw":    append([]byte("prefix:"), secret...),
		"hex":    []byte(strings.ToUpper(hex.EncodeToString(secret))),
		"b64-1":  []byte(base64.StdEncoding.EncodeToString(append([]byte("x"), secret...))),
		"b64-2":  []byte(base64.RawURLEncoding.EncodeToString(append([]byte("xy"), secret...))),
		"b32-3":  []byte(strings.ToLower(base32.StdEncoding.EncodeToString(append([]byte("xyz"), secret...)))),
		"nested": append(append([]byte("\x00\x01sqlite page"), secret...), 0xff),
	}
	for name, b := range blobs {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "clean"), []byte("nothing to see here, just text"), 0o600); err != nil {
		t.Fatal(err)
	}
	n, hits := scanTree(t, []string{dir}, forms("s", secret))
	found := map[string]bool{}
	for _, h := range hits {
		found[filepath.Base(h.file)] = true
	}
	if n != len(blobs)+1 || len(found) != len(blobs) || found["clean"] {
		t.Fatalf("scanned %d files, found the secret in %v", n, found)
	}
}
