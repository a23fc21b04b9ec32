package hardening

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/internal/cli"
)

// magdeskExit runs the command line in-process and returns its exit status and output.
func magdeskExit(w *world, caFile, stdin string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := cli.Run(append([]string{"--server", w.env.URL, "--ca", caFile}, args...), cli.IO{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

// TestClientFullDisk puts MAGDESK_HOME on a 1 MB tmpfs and fills it: requesting a certificate
// fails with a clear message and leaves nothing half-written in the app's store; once space is
// freed the same command works and the store holds exactly one identity.
func TestClientFullDisk(t *testing.T) {
	if os.Getenv("MAGDESK_REAL_KEYRING") != "1" {
		keyring.MockInit()
	}
	w := newWorld(t)
	home := filepath.Join(t.TempDir(), "home")
	mountTmpfs(t, home, "1m")
	t.Setenv("MAGDESK_HOME", home)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("MAGDESK_TIMEOUT", "20s")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, w.env.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := magdeskExit(w, caFile, pwUser+"\n", "login", "--user", w.user, "--password-stdin"); code != cli.ExitOK {
		t.Fatalf("login: %d %s %s", code, out, errs)
	}
	filler := filepath.Join(home, "filler")
	fillDisk(t, filler, 2<<20)

	code, out, errs := magdeskExit(w, caFile, "", "certs", "request")
	if code != cli.ExitError || strings.TrimSpace(errs) == "" || strings.Contains(errs, "panic") || strings.Contains(errs, "%!") {
		t.Fatalf("certs request on a full disk: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	t.Logf("certs request on a full disk: %s", strings.TrimSpace(errs))
	// Nothing half-written: no identity, key file or temporary file in the store.
	leftovers, _ := filepath.Glob(filepath.Join(home, "certs", "*"))
	for _, f := range leftovers {
		if base := filepath.Base(f); base != "index.json" {
			t.Errorf("left in the store after the failed request: %s", base)
		}
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	code, out, errs = magdeskExit(w, caFile, "", "--json", "certs", "request")
	var got certstore.RequestOutcome
	if code != cli.ExitOK || json.Unmarshal([]byte(out), &got) != nil || got.Identity.SHA256 == "" {
		t.Fatalf("certs request after freeing space: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	t.Cleanup(func() { _ = keyring.Delete(certstore.KeyringService, string(got.Identity.SHA256)) })
	store, err := certstore.OpenFileStore(home)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := store.List(ctxT(t))
	if err != nil || len(ids) != 1 || ids[0].SHA256 != got.Identity.SHA256 {
		t.Fatalf("the store after freeing space: %+v %v", ids, err)
	}
	if _, err := store.Export(ctxT(t), got.Identity.SHA256); err != nil {
		t.Fatalf("the identity does not read back: %v", err)
	}
}

// openUnder lists the files this process holds open below dir.
func openUnder(t *testing.T, dir string) []string {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	var out []string
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(target, dir+string(filepath.Separator)) {
			out = append(out, target)
		}
	}
	return out
}

// TestCLIClosesItsFiles: a command run in-process (as the tests and any embedding caller do)
// leaves no file open under MAGDESK_HOME when it returns.
func TestCLIClosesItsFiles(t *testing.T) {
	home := t.TempDir()
	t.Setenv("MAGDESK_HOME", home)
	var out, errb bytes.Buffer
	for range 3 {
		cli.Run([]string{"--server", "https://127.0.0.1:1", "me"}, cli.IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	}
	if open := openUnder(t, home); len(open) > 0 {
		// cli.Run opens the app log (logging.Setup -> RotatingFile) and never closes it.
		t.Errorf("after 3 in-process commands, %d files under MAGDESK_HOME are still open: %v", len(open), open)
	}
}

// TestRemovedIdentityLeavesNothing: after `certs remove` of an identity in the app's store,
// no file under MAGDESK_HOME holds it and the OS keyring no longer has its password; the
// verified backup outside is the only copy.
func TestRemovedIdentityLeavesNothing(t *testing.T) {
	keyring.MockInit()
	w := newWorld(t)
	home := filepath.Join(t.TempDir(), "home")
	t.Setenv("MAGDESK_HOME", home)
	t.Setenv("HOME", t.TempDir())
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, w.env.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := magdeskExit(w, caFile, pwUser+"\n", "login", "--user", w.user, "--password-stdin"); code != cli.ExitOK {
		t.Fatalf("login: %d %s %s", code, out, errs)
	}
	code, out, errs := magdeskExit(w, caFile, "", "--json", "certs", "request")
	var got certstore.RequestOutcome
	if code != cli.ExitOK || json.Unmarshal([]byte(out), &got) != nil || got.Identity.SHA256 == "" {
		t.Fatalf("certs request: %d %s %s", code, out, errs)
	}
	fp := string(got.Identity.SHA256)
	backup := filepath.Join(t.TempDir(), "backup.p12")
	if code, out, errs := magdeskExit(w, caFile, "a long backup password\n", "certs", "remove", fp, "--backup", backup, "--yes", "--password-stdin"); code != cli.ExitOK {
		t.Fatalf("certs remove: %d %s %s", code, out, errs)
	}
	err := filepath.WalkDir(home, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.Contains(d.Name(), fp) || strings.HasSuffix(d.Name(), ".p12")) {
			t.Errorf("left under MAGDESK_HOME after removal: %s", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keyring.Get(certstore.KeyringService, fp); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("the removed key's password is still in the keyring: %v", err)
	}
	if _, err := os.Stat(backup); err != nil {
		t.Errorf("the backup is missing: %v", err)
	}
}
