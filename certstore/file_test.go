package certstore

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"
)

func TestFileStoreImportListExportRemove(t *testing.T) {
	ctx := context.Background()
	ca := newTestCA(t, "MAG Test CA")
	s, err := OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a := ca.issue(t, "Jane Doe", "c-1", issueOpt{})
	b := ca.issue(t, "Jane Doe", "c-2", issueOpt{rsa: true})
	idA, err := s.ImportRecord(ctx, a, Record{Source: SourceRequest, ServerURL: "https://GW.example:8443/", UserID: "doej_0001"})
	if err != nil {
		t.Fatal(err)
	}
	if idA.SHA256 != FingerprintOf(a.Cert) || !idA.Key.Present || idA.MagCertID != "c-1" || idA.KeyAlgorithm != "ECDSA P-256" {
		t.Fatalf("imported identity = %+v", idA.Metadata)
	}
	if _, err := s.Import(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, b); !errors.Is(err, ErrAlreadyPresent) {
		t.Fatalf("second import: %v, want ErrAlreadyPresent", err)
	}
	// Files hold no plaintext key and have private modes.
	p12 := filepath.Join(s.Dir(), string(idA.SHA256)+".p12")
	st, err := os.Stat(p12)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("p12 mode: %v %v", st, err)
	}
	recs, _ := s.Records()
	if len(recs) != 2 || recs[0].UserID != "doej_0001" || recs[0].ServerURL != "https://gw.example:8443" {
		t.Fatalf("records = %+v", recs)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("list = %d, %v", len(list), err)
	}
	got, err := s.Export(ctx, idA.SHA256)
	if err != nil || !got.Equal(a) {
		t.Fatalf("export: %v, equal=%v", err, got.Equal(a))
	}
	res, err := s.Remove(ctx, idA.SHA256)
	if err != nil || !res.Verified || !res.CertRemoved || !res.KeyRemoved {
		t.Fatalf("remove: %+v %v", res, err)
	}
	list, _ = s.List(ctx)
	if len(list) != 1 || list[0].SHA256 != FingerprintOf(b.Cert) {
		t.Fatalf("after remove: %+v", list)
	}
	// Removed means gone: no file left anywhere under the store, no password in the keyring
	// (the verified backup taken before removal is the undo).
	left, _ := filepath.Glob(filepath.Join(s.Dir(), "*", string(idA.SHA256)+"*"))
	here, _ := filepath.Glob(filepath.Join(s.Dir(), string(idA.SHA256)+"*"))
	if len(left)+len(here) > 0 {
		t.Fatalf("files left after removal: %v %v", left, here)
	}
	if _, err := keyring.Get(KeyringService, string(idA.SHA256)); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("the key's password is still in the keyring: %v", err)
	}
	if _, err := s.Remove(ctx, idA.SHA256); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second remove: %v", err)
	}
}

// A trash folder left by an earlier version (keys with their passwords still in the keyring)
// is emptied when the store opens: the user was told those keys were removed.
func TestFileStoreOpenPurgesOldTrash(t *testing.T) {
	home := t.TempDir()
	trash := filepath.Join(home, "certs", "trash")
	if err := os.MkdirAll(trash, 0o700); err != nil {
		t.Fatal(err)
	}
	names := []string{"aa11-20260101T000000.000000000", "bb22-20260102T000000.000000000"}
	for _, n := range names {
		for _, ext := range []string{".p12", ".crt"} {
			if err := os.WriteFile(filepath.Join(trash, n+ext), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := keyring.Set(KeyringService, "trash/"+n, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := OpenFileStore(home); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(trash); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("certs/trash is still there: %v", err)
	}
	for _, n := range names {
		if _, err := keyring.Get(KeyringService, "trash/"+n); !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("password of trashed %s still in the keyring: %v", n, err)
		}
	}
}

// The openssl CLI reads what the file store writes (Modern encoder).
func TestFileStoreFileReadableByOpenSSL(t *testing.T) {
	needTool(t, "openssl")
	ca := newTestCA(t, "MAG Test CA")
	b := ca.issue(t, "Jane Doe", "c-1", issueOpt{})
	data, err := EncodePKCS12(b, "s3cret pass")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.p12"), data, 0o600)
	os.WriteFile(filepath.Join(dir, "pw"), []byte("s3cret pass"), 0o600)
	out, err := exec.Command("openssl", "pkcs12", "-in", filepath.Join(dir, "a.p12"), "-passin", "file:"+filepath.Join(dir, "pw"), "-nokeys", "-clcerts").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl: %v %s", err, out)
	}
	certs := parsePEMCerts(out)
	if len(certs) != 1 || FingerprintOf(certs[0]) != FingerprintOf(b.Cert) {
		t.Fatalf("openssl read %d certs", len(certs))
	}
}

type brokenKeyring struct{}

func (brokenKeyring) Set(string, string, string) error   { return errors.New("keyring locked") }
func (brokenKeyring) Get(string, string) (string, error) { return "", keyring.ErrNotFound }
func (brokenKeyring) Delete(string, string) error        { return nil }

func TestFileStoreKeyringFailureKeepsNothing(t *testing.T) {
	ca := newTestCA(t, "MAG Test CA")
	s, _ := OpenFileStore(t.TempDir(), WithKeyring(brokenKeyring{}))
	_, err := s.Import(context.Background(), ca.issue(t, "Jane", "c", issueOpt{}))
	if CodeOf(err) != CodeKeyringFailed || !strings.Contains(err.Error(), "keyring") {
		t.Fatalf("err = %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(s.Dir(), "*.p12"))
	if len(files) != 0 {
		t.Fatalf("left files: %v", files)
	}
}

func TestFileStoreDamagedEntries(t *testing.T) {
	ctx := context.Background()
	ca := newTestCA(t, "MAG Test CA")
	s, _ := OpenFileStore(t.TempDir())
	id, err := s.Import(ctx, ca.issue(t, "Jane", "c", issueOpt{}))
	if err != nil {
		t.Fatal(err)
	}
	// A damaged certificate file is reported, the good one still listed.
	os.WriteFile(filepath.Join(s.Dir(), strings.Repeat("ab", 32)+".crt"), []byte("garbage"), 0o600)
	list, err := s.List(ctx)
	var pe *PartialError
	if !errors.As(err, &pe) || len(list) != 1 {
		t.Fatalf("list = %d, %v", len(list), err)
	}
	// A truncated key file gives a clear error and is left as it was.
	p12 := filepath.Join(s.Dir(), string(id.SHA256)+".p12")
	data, _ := os.ReadFile(p12)
	os.WriteFile(p12, data[:len(data)/2], 0o600)
	if _, err := s.Export(ctx, id.SHA256); CodeOf(err) != CodeCorrupt {
		t.Fatalf("export truncated: %v", err)
	}
	if after, _ := os.ReadFile(p12); len(after) != len(data)/2 {
		t.Fatal("export changed the file")
	}
}

// A password in the keyring that does not open the file: a clear error, the file untouched.
func TestFileStoreWrongPassword(t *testing.T) {
	ctx := context.Background()
	ca := newTestCA(t, "MAG Test CA")
	s, _ := OpenFileStore(t.TempDir())
	id, err := s.Import(ctx, ca.issue(t, "Jane", "c", issueOpt{}))
	if err != nil {
		t.Fatal(err)
	}
	keyring.Set(KeyringService, string(id.SHA256), "not the password")
	p12 := filepath.Join(s.Dir(), string(id.SHA256)+".p12")
	before, _ := os.ReadFile(p12)
	if _, err := s.Export(ctx, id.SHA256); CodeOf(err) != CodeWrongPassword {
		t.Fatalf("export: %v", err)
	}
	if after, _ := os.ReadFile(p12); string(after) != string(before) {
		t.Fatal("file changed")
	}
	keyring.Delete(KeyringService, string(id.SHA256))
	if _, err := s.Export(ctx, id.SHA256); CodeOf(err) != CodeKeyringFailed || !strings.Contains(err.Error(), "keyring") {
		t.Fatalf("export without a password: %v", err)
	}
}

// Against the real Secret Service (CI runs it inside dbus-run-session with gnome-keyring).
func TestFileStoreRealKeyring(t *testing.T) {
	if os.Getenv("MAGDESK_REAL_KEYRING") != "1" {
		t.Skip("MAGDESK_REAL_KEYRING=1 not set (scripts/test.sh sets it with a real gnome-keyring)")
	}
	needTool(t, "secret-tool")
	ctx := context.Background()
	ca := newTestCA(t, "MAG Test CA")
	s, _ := OpenFileStore(t.TempDir())
	b := ca.issue(t, "Jane", "c", issueOpt{})
	id, err := s.Import(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("secret-tool", "lookup", "service", KeyringService, "username", string(id.SHA256)).Output()
	if err != nil || len(out) < 20 {
		t.Fatalf("secret-tool lookup: %v (%d bytes)", err, len(out))
	}
	if got, err := s.Export(ctx, id.SHA256); err != nil || !got.Equal(b) {
		t.Fatalf("export via real keyring: %v", err)
	}
	if _, err := s.Remove(ctx, id.SHA256); err != nil {
		t.Fatal(err)
	}
	if out, _ := exec.Command("secret-tool", "lookup", "service", KeyringService, "username", string(id.SHA256)).Output(); len(out) != 0 {
		t.Fatal("password of the removed identity is still under its live name")
	}
}
