package certstore

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestRemoveIdentityWithBackupFileStore(t *testing.T) {
	ctx := context.Background()
	ca := newTestCA(t, "MAG Test CA")
	s, _ := OpenFileStore(t.TempDir())
	a := ca.issue(t, "Jane", "c-1", issueOpt{})
	b := ca.issue(t, "Jane", "c-2", issueOpt{})
	s.Import(ctx, a)
	s.Import(ctx, b)
	dir := t.TempDir()
	fpA := FingerprintOf(a.Cert)

	// Without a backup file and without declining: refused, nothing changed.
	if _, err := RemoveIdentity(ctx, s, fpA, RemoveOptions{}); CodeOf(err) != CodeInvalidInput {
		t.Fatalf("no backup choice: %v", err)
	}
	// A short password: refused before anything is written.
	if _, err := RemoveIdentity(ctx, s, fpA, RemoveOptions{BackupPath: filepath.Join(dir, "x.p12"), BackupPassword: "short"}); CodeOf(err) != CodeInvalidInput {
		t.Fatalf("short password: %v", err)
	}
	// An existing file is not overwritten.
	taken := filepath.Join(dir, "taken.p12")
	os.WriteFile(taken, []byte("keep me"), 0o600)
	if _, err := RemoveIdentity(ctx, s, fpA, RemoveOptions{BackupPath: taken, BackupPassword: "long enough pw"}); CodeOf(err) != CodeInvalidInput {
		t.Fatalf("existing file: %v", err)
	}
	if data, _ := os.ReadFile(taken); string(data) != "keep me" {
		t.Fatal("existing file overwritten")
	}
	if list, _ := s.List(ctx); len(list) != 2 {
		t.Fatal("something was removed after a refusal")
	}
	backup := filepath.Join(dir, "backup.p12")
	out, err := RemoveIdentity(ctx, s, fpA, RemoveOptions{BackupPath: backup, BackupPassword: "long enough pw"})
	if err != nil || !out.Verified || out.BackupPath != backup || !strings.Contains(out.Message, "Close every browser window") {
		t.Fatalf("remove: %+v %v", out, err)
	}
	data, _ := os.ReadFile(backup)
	if got, err := ParsePKCS12(data, "long enough pw"); err != nil || !got.Equal(a) {
		t.Fatalf("backup: %v", err)
	}
	// Declining explicitly removes without a file.
	if _, err := RemoveIdentity(ctx, s, FingerprintOf(b.Cert), RemoveOptions{NoBackup: true}); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.List(ctx); len(list) != 0 {
		t.Fatalf("left %d", len(list))
	}
}

// The issue's NSS scenario at the library level: two same-subject identities, remove one with
// a backup; its key is gone from certutil -K, the other survives, and the backup imports into
// a fresh NSS database and into openssl.
func TestRemoveIdentityNSSBackupImportsElsewhere(t *testing.T) {
	needTool(t, "openssl")
	ctx := context.Background()
	dir := newNSSDB(t)
	s := NewNSSStore(dir, "profile", nil)
	ca := newTestCA(t, "MAG Test CA")
	a := ca.issue(t, "Jane Doe", "c-1", issueOpt{})
	b := ca.issue(t, "Jane Doe", "c-2", issueOpt{rsa: true})
	for _, x := range []*Bundle{a, b} {
		if _, err := s.Import(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	backup := filepath.Join(t.TempDir(), "wrong-account.p12")
	out, err := RemoveIdentity(ctx, s, FingerprintOf(a.Cert), RemoveOptions{BackupPath: backup, BackupPassword: "backup password"})
	if err != nil || !out.KeyRemoved || !out.CertRemoved {
		t.Fatalf("remove: %+v %v", out, err)
	}
	if k := certutilKeys(t, dir); strings.Contains(k, nssKeyID(a.Cert.PublicKey)) || !strings.Contains(k, nssKeyID(b.Cert.PublicKey)) {
		t.Fatalf("certutil -K: %s", k)
	}
	// Into a fresh NSS database with pk12util.
	fresh := newNSSDB(t)
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("backup password"), 0o600)
	if o, err := exec.Command("pk12util", "-i", backup, "-d", "sql:"+fresh, "-w", pw).CombinedOutput(); err != nil {
		t.Fatalf("pk12util -i backup: %v %s", err, o)
	}
	ids, _ := NewNSSStore(fresh, "fresh", nil).List(ctx)
	if len(ids) != 1 || ids[0].SHA256 != FingerprintOf(a.Cert) {
		t.Fatalf("fresh db: %v", fps(ids))
	}
	// And with openssl.
	o, err := exec.Command("openssl", "pkcs12", "-in", backup, "-passin", "file:"+pw, "-nodes").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl: %v %s", err, o)
	}
	if got, err := bundleFromPEM(o); err != nil || !got.Equal(a) {
		t.Fatalf("openssl read: %v", err)
	}
}

func TestRemoveIdentityRefusesHardware(t *testing.T) {
	f, b := newFakeWin(t)
	_, err := RemoveIdentity(context.Background(), &WindowsStore{sys: f}, FingerprintOf(b["card"].Cert), RemoveOptions{NoBackup: true})
	if !errors.Is(err, ErrHardwareKey) || len(f.calls) != 0 {
		t.Fatalf("err = %v calls = %v", err, f.calls)
	}
	// A key that refuses export: no backup, nothing removed.
	f.locked["soft"] = true
	_, err = RemoveIdentity(context.Background(), &WindowsStore{sys: f}, FingerprintOf(b["soft"].Cert), RemoveOptions{BackupPath: filepath.Join(t.TempDir(), "b.p12"), BackupPassword: "long enough"})
	if !errors.Is(err, ErrNotExportable) || len(f.calls) != 0 {
		t.Fatalf("not exportable: %v %v", err, f.calls)
	}
}
