package certstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Store is one certificate store: the app's file store, one NSS database, the Windows
// CurrentUser\MY store, or the macOS keychains. Every change is addressed by SHA-256
// fingerprint and verified by listing the store again before it returns.
type Store interface {
	// Location names the store.
	Location() Location
	// List returns every certificate that has (or had) a private key in this store.
	List(ctx context.Context) ([]Identity, error)
	// Import adds an identity and returns it as listed afterwards.
	Import(ctx context.Context, b *Bundle) (Identity, error)
	// Export returns the identity with its private key (ErrNotExportable when the store refuses).
	Export(ctx context.Context, fp Fingerprint) (*Bundle, error)
	// Remove deletes the certificate and its private key and proves both are gone.
	Remove(ctx context.Context, fp Fingerprint) (RemoveResult, error)
}

// RemoveResult says exactly what went.
type RemoveResult struct {
	Fingerprint      Fingerprint `json:"sha256"`
	Location         Location    `json:"location"`
	CertRemoved      bool        `json:"cert_removed"`
	KeyRemoved       bool        `json:"key_removed"`
	KeySkippedReason string      `json:"key_skipped_reason,omitempty"` // "shared", "absent"
	Verified         bool        `json:"verified"`                     // listed again: gone
	Warnings         []string    `json:"warnings,omitempty"`
}

// find returns the identity with fingerprint fp from list.
func find(list []Identity, fp Fingerprint) (Identity, bool) {
	if i := indexOf(list, fp); i >= 0 {
		return list[i], true
	}
	return Identity{}, false
}

func indexOf(ids []Identity, fp Fingerprint) int {
	for i, id := range ids {
		if id.SHA256 == fp {
			return i
		}
	}
	return -1
}

func notFound(op string, fp Fingerprint, loc Location) error {
	return newErr(CodeNotFound, op, nil, "no certificate %s in %s: list the certificates again to see what is there", fp.Short(), loc.Store)
}

// Runner runs an external tool (certutil, pk12util, security). Tests of the macOS backend
// fake it with recorded output; the NSS tests use the real one.
type Runner interface {
	Run(ctx context.Context, name string, args []string) (stdout, stderr []byte, err error)
}

// ExecRunner runs tools with os/exec, arguments as an argv slice (no shell), no stdin.
type ExecRunner struct {
	// Path, when set, is searched for the tool instead of $PATH (tests use it to hide certutil).
	Path string
}

// toolTimeout bounds one tool run: certutil and friends never need long, and a tool waiting
// for a prompt nobody sees must not hang the app.
const toolTimeout = 2 * time.Minute

// Run implements Runner. A tool that is not installed gives an error wrapping errNoTool.
func (r ExecRunner) Run(ctx context.Context, name string, args []string) ([]byte, []byte, error) {
	path, err := r.lookPath(name)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.Bytes(), errb.Bytes(), err
}

// errNoTool marks a tool that is not installed.
var errNoTool = errors.New("executable not found")

func (r ExecRunner) lookPath(name string) (string, error) {
	if r.Path == "" {
		p, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, errNoTool)
		}
		return p, nil
	}
	for _, dir := range filepath.SplitList(r.Path) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, errNoTool)
}
