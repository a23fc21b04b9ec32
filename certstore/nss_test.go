package certstore

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// newNSSDB creates a real, empty NSS database like a browser profile's.
func newNSSDB(t testing.TB) string {
	t.Helper()
	needTool(t, "certutil")
	needTool(t, "pk12util")
	dir := filepath.Join(t.TempDir(), "nssdb")
	os.MkdirAll(dir, 0o700)
	if out, err := exec.Command("certutil", "-N", "-d", "sql:"+dir, "--empty-password").CombinedOutput(); err != nil {
		t.Fatalf("certutil -N: %v %s", err, out)
	}
	return dir
}

func fps(ids []Identity) []string {
	var out []string
	for _, id := range ids {
		out = append(out, string(id.SHA256))
	}
	sort.Strings(out)
	return out
}

// certutilKeys is what `certutil -K` shows, independent of our parser's use in the store.
func certutilKeys(t *testing.T, dir string) string {
	out, _ := exec.Command("certutil", "-K", "-d", "sql:"+dir).CombinedOutput()
	return string(out)
}

func TestNSSSameSubjectRemoveOne(t *testing.T) {
	ctx := context.Background()
	dir := newNSSDB(t)
	s := NewNSSStore(dir, "test profile", nil)
	ca := newTestCA(t, "MAG Test CA")
	a := ca.issue(t, "Jane Doe", "c-1", issueOpt{})
	b := ca.issue(t, "Jane Doe", "c-2", issueOpt{})
	for _, x := range []*Bundle{a, b} {
		id, err := s.Import(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		if !id.Key.Present || id.Nickname == "" {
			t.Fatalf("imported: %+v", id)
		}
	}
	fast, err := s.List(ctx)
	if err != nil || len(fast) != 2 {
		t.Fatalf("list: %d %v", len(fast), err)
	}
	if fast[0].Nickname != fast[1].Nickname {
		t.Fatalf("NSS should have given both the same nickname: %q %q", fast[0].Nickname, fast[1].Nickname)
	}
	fpA, fpB := FingerprintOf(a.Cert), FingerprintOf(b.Cert)
	keyA, keyB := nssKeyID(a.Cert.PublicKey), nssKeyID(b.Cert.PublicKey)
	if k := certutilKeys(t, dir); !strings.Contains(k, keyA) || !strings.Contains(k, keyB) {
		t.Fatalf("certutil -K before: %s", k)
	}
	// Exporting one of two same-nickname identities leaves the nicknames as they were.
	if got, err := s.Export(ctx, fpA); err != nil || !got.Equal(a) {
		t.Fatalf("export of a same-nickname identity: %v", err)
	}
	if again, _ := s.List(ctx); again[0].Nickname != fast[0].Nickname || again[1].Nickname != fast[0].Nickname {
		t.Fatalf("nicknames changed by export: %q %q", again[0].Nickname, again[1].Nickname)
	}
	res, err := s.Remove(ctx, fpA)
	if err != nil {
		t.Fatal(err)
	}
	if !res.CertRemoved || !res.KeyRemoved || !res.Verified {
		t.Fatalf("result %+v", res)
	}
	k := certutilKeys(t, dir)
	if strings.Contains(k, keyA) || !strings.Contains(k, keyB) {
		t.Fatalf("certutil -K after: %s", k)
	}
	left, _ := s.List(ctx)
	if len(left) != 1 || left[0].SHA256 != fpB || !left[0].Key.Present || left[0].Nickname != fast[0].Nickname {
		t.Fatalf("left: %+v (the survivor keeps its nickname %q)", left, fast[0].Nickname)
	}
	got, err := s.Export(ctx, fpB)
	if err != nil || !got.Equal(b) {
		t.Fatalf("export survivor: %v", err)
	}
	if _, err := s.Remove(ctx, fpA); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove again: %v", err)
	}
}

func TestNSSSharedKeyIsKept(t *testing.T) {
	ctx := context.Background()
	dir := newNSSDB(t)
	s := NewNSSStore(dir, "test", nil)
	ca := newTestCA(t, "MAG Test CA")
	old := ca.issue(t, "Jane Doe", "c-1", issueOpt{})
	renewed := ca.issue(t, "Jane Doe", "c-2", issueOpt{key: old.Key})
	for _, x := range []*Bundle{old, renewed} {
		if _, err := s.Import(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	list, _ := s.List(ctx)
	if len(list) != 2 || len(list[0].Key.SharedWith) != 1 {
		t.Fatalf("shared not seen: %+v", list)
	}
	res, err := s.Remove(ctx, FingerprintOf(old.Cert))
	if err != nil || res.KeyRemoved || res.KeySkippedReason != "shared" {
		t.Fatalf("remove: %+v %v", res, err)
	}
	if got, err := s.Export(ctx, FingerprintOf(renewed.Cert)); err != nil || !got.Equal(renewed) {
		t.Fatalf("renewed lost its key: %v", err)
	}
}

func dirDigest(t *testing.T, dir string) [32]byte {
	h := sha256.New()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		h.Write([]byte(e.Name()))
		h.Write(data)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func TestNSSReadOnlyDatabase(t *testing.T) {
	ctx := context.Background()
	dir := newNSSDB(t)
	s := NewNSSStore(dir, "test", nil)
	ca := newTestCA(t, "MAG Test CA")
	a := ca.issue(t, "Jane Doe", "c-1", issueOpt{})
	if _, err := s.Import(ctx, a); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		os.Chmod(filepath.Join(dir, e.Name()), 0o400)
	}
	os.Chmod(dir, 0o500)
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	before := dirDigest(t, dir)
	_, err := s.Remove(ctx, FingerprintOf(a.Cert))
	if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("remove on read-only db: %v", err)
	}
	if _, err := s.Import(ctx, ca.issue(t, "X", "c-9", issueOpt{})); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("import on read-only db: %v", err)
	}
	if dirDigest(t, dir) != before {
		t.Fatal("the read-only database changed")
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("listing a read-only db: %d %v", len(list), err)
	}
}

// Without certutil the databases are still listed (read directly); changing them says which
// package to install, and nothing changes.
func TestNSSMissingCertutil(t *testing.T) {
	ctx := context.Background()
	dir := newNSSDB(t)
	ca := newTestCA(t, "MAG Test CA")
	a := ca.issue(t, "Jane Doe", "c-1", issueOpt{})
	if _, err := NewNSSStore(dir, "test", nil).Import(ctx, a); err != nil {
		t.Fatal(err)
	}
	s := NewNSSStore(dir, "test", ExecRunner{Path: t.TempDir()}) // a PATH without certutil
	before := dirDigest(t, dir)
	ids, err := s.List(ctx)
	if err != nil || len(ids) != 1 {
		t.Fatalf("list without certutil: %d %v", len(ids), err)
	}
	for name, op := range map[string]func() error{
		"remove": func() error { _, err := s.Remove(ctx, FingerprintOf(a.Cert)); return err },
		"export": func() error { _, err := s.Export(ctx, FingerprintOf(a.Cert)); return err },
		"import": func() error { _, err := s.Import(ctx, ca.issue(t, "X", "c-2", issueOpt{})); return err },
	} {
		if err := op(); !errors.Is(err, ErrToolMissing) || !strings.Contains(err.Error(), "apt install libnss3-tools") {
			t.Errorf("%s without certutil: %v", name, err)
		}
	}
	if dirDigest(t, dir) != before {
		t.Fatal("db changed")
	}
	// The certutil-only path (legacy databases) also says what to install.
	s.prefix = "dbm:"
	if _, err := s.List(ctx); !errors.Is(err, ErrToolMissing) {
		t.Fatalf("certutil listing without certutil: %v", err)
	}
}

// The direct read of cert9.db/key4.db and certutil's own listing agree: same certificates,
// same keys, same nicknames (including two certificates of one subject).
func TestNSSDirectReadAgreesWithCertutil(t *testing.T) {
	ctx := context.Background()
	dir := newNSSDBWith(t, 3)
	s := NewNSSStore(dir, "test", nil)
	ca := newTestCA(t, "MAG Test CA")
	for _, b := range []*Bundle{ca.issue(t, "Jane Doe", "c-1", issueOpt{}), ca.issue(t, "Jane Doe", "c-2", issueOpt{rsa: true})} {
		if _, err := s.Import(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	direct, err := s.listDirect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tool, err := s.listAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if summary(direct) != summary(tool) || len(identitiesOnly(direct)) != 5 {
		t.Fatalf("direct:\n%s\ncertutil:\n%s", summary(direct), summary(tool))
	}
}

func summary(ids []Identity) string {
	var rows []string
	for _, id := range ids {
		rows = append(rows, fmt.Sprintf("%s key=%v nick=%q shared=%d", id.SHA256, id.Key.Present, id.Nickname, len(id.Key.SharedWith)))
	}
	sort.Strings(rows)
	return strings.Join(rows, "\n")
}

// newNSSDBWith makes a database holding n self-signed identities made by certutil itself.
func newNSSDBWith(t testing.TB, n int) string {
	t.Helper()
	dir := newNSSDB(t)
	noise := filepath.Join(t.TempDir(), "noise")
	os.WriteFile(noise, []byte(strings.Repeat("entropy for certutil -z ", 100)), 0o600)
	for i := range n {
		out, err := exec.Command("certutil", "-S", "-d", "sql:"+dir, "-n", fmt.Sprintf("User %d", i), "-s", fmt.Sprintf("CN=User %d,O=MAG Desktop", i),
			"-x", "-t", ",,", "-k", "ec", "-q", "nistp256", "-z", noise, "-m", fmt.Sprint(1000+i), "-v", "12").CombinedOutput()
		if err != nil {
			t.Fatalf("certutil -S: %v %s", err, out)
		}
	}
	return dir
}

func TestParseCertutilOutput(t *testing.T) {
	l := "\nCertificate Nickname                                         Trust Attributes\n" +
		"                                                             SSL,S/MIME,JAR/XPI\n\n" +
		"Jane Doe - MAG Desktop                                       u,u,u\n" +
		"Jane Doe                                                     ,,   \n" +
		"MAG Test CA                                                  CT,C,C\n"
	rows := parseCertutilL([]byte(l))
	if len(rows) != 3 || rows[0].Nickname != "Jane Doe - MAG Desktop" || rows[1].Nickname != "Jane Doe" || rows[2].Trust != "CT,C,C" {
		t.Fatalf("rows = %+v", rows)
	}
	k := "certutil: Checking token \"NSS Certificate DB\" in slot \"NSS User Private Key and Certificate Services\"\n" +
		"< 0> ec       d77839cd5ac1fe66a452f712836ab755b2f22b95   Jane Doe - MAG Desktop\n" +
		"< 1> rsa      8BDF61A76499F7C954DA9DABB3AB99F50DD75B45   (orphan)\n"
	keys := parseCertutilK([]byte(k))
	if len(keys) != 2 || keys[0].Nickname != "Jane Doe - MAG Desktop" || keys[1].ID != "8bdf61a76499f7c954da9dabb3ab99f50dd75b45" || keys[1].Type != "rsa" {
		t.Fatalf("keys = %+v", keys)
	}
}

// A database protected by a Primary Password: without it, a clear error and nothing changed;
// with it (passed through a 0600 file), import, export and removal work.
func TestNSSPrimaryPassword(t *testing.T) {
	needTool(t, "certutil")
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "db")
	os.MkdirAll(dir, 0o700)
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("primary secret"), 0o600)
	if out, err := exec.Command("certutil", "-N", "-d", "sql:"+dir, "-f", pwFile).CombinedOutput(); err != nil {
		t.Fatalf("certutil -N: %v %s", err, out)
	}
	ca := newTestCA(t, "MAG Test CA")
	a := ca.issue(t, "Jane Doe", "c-1", issueOpt{})
	locked := NewNSSStore(dir, "locked", nil)
	before := dirDigest(t, dir)
	if _, err := locked.Import(ctx, a); CodeOf(err) != CodeNeedsInteraction || !strings.Contains(err.Error(), "Primary Password") {
		t.Fatalf("import without the password: %v", err)
	}
	if dirDigest(t, dir) != before {
		t.Fatal("db changed")
	}
	s := NewNSSStore(dir, "unlocked", nil)
	s.TokenPassword = "primary secret"
	if _, err := s.Import(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Export(ctx, FingerprintOf(a.Cert)); err != nil || !got.Equal(a) {
		t.Fatalf("export: %v", err)
	}
	if res, err := s.Remove(ctx, FingerprintOf(a.Cert)); err != nil || !res.KeyRemoved || !res.Verified {
		t.Fatalf("remove: %+v %v", res, err)
	}
}
