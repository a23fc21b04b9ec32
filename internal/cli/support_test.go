package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mag-desktop/magdesk/internal/logging"
)

func TestSupportBundleCommand(t *testing.T) {
	home := t.TempDir()
	t.Setenv("MAGDESK_HOME", home)
	t.Setenv("HOME", t.TempDir()) // no NSS databases of the real user
	// A line that reached the log without redaction (older version): the bundle must not carry it.
	os.MkdirAll(logging.Dir(home), 0o700)
	os.WriteFile(filepath.Join(logging.Dir(home), logging.FileName), []byte(`{"msg":"x","password":"hunter2-plain"}`+"\n"), 0o600)
	path := filepath.Join(t.TempDir(), "bundle.zip")

	runCmd := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), args, IO{In: strings.NewReader(""), Out: &out, Err: &errb}, nil)
		return code, out.String(), errb.String()
	}
	code, out, errs := runCmd("support-bundle", path)
	if code != ExitOK || !strings.Contains(out, path) {
		t.Fatalf("exit %d, out %q, err %q", code, out, errs)
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
		rc, _ := f.Open()
		var b bytes.Buffer
		b.ReadFrom(rc)
		rc.Close()
		if strings.Contains(b.String(), "hunter2-plain") {
			t.Errorf("%s carries the planted password", f.Name)
		}
	}
	zr.Close()
	if !names["settings.json"] || !names["log.jsonl"] || !names["certificates.json"] || !names["doctor.json"] {
		t.Errorf("entries = %v", names)
	}
	if code, _, errs := runCmd("support-bundle", path); code != ExitError || !strings.Contains(errs, "already exists") {
		t.Errorf("second run: exit %d, %q", code, errs)
	}
	if code, _, _ := runCmd("support-bundle"); code != ExitUsage {
		t.Errorf("no FILE: exit %d, want %d", code, ExitUsage)
	}
}
