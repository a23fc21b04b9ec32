package logging

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const (
	plantPassword = "Tr0ub4dor&3-horse"
	plantToken    = "mst_QmFzZTY0VXJsU2FmZVRva2VuVmFsdWVGb3JUZXN0czEyMw"
	plantTOTP     = "JBSWY3DPEHPK3PXPJBSWY3DP"
	plantActivate = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbA"
	plantPEM      = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oCxWkP7ZCcUIoAoGCCqGSM49\n-----END EC PRIVATE KEY-----"
)

var planted = []string{plantPassword, plantToken, plantTOTP, plantActivate, "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5"}

func TestSensitiveKey(t *testing.T) {
	tests := map[string]bool{
		"password": true, "new_password": true, "Password": true, "sessionToken": true, "session_token": true,
		"token": true, "totp_secret": true, "secret": true, "otp": true, "code": true, "otpCode": true,
		"key": true, "private-key": true, "privateKeyPEM": true, "pem": true, "Authorization": true, "answers": true,
		"cookie": true, "user": false, "server": false, "status_code": false, "error_code": false, "err": false,
		"keyring": false, "sha256": false, "store": false, "msg": false, "tokens": false, "codec": false,
		"problem_code": false, "mag_code": false, "otp_status_code": true,
	}
	for key, want := range tests {
		if got := SensitiveKey(key); got != want {
			t.Errorf("SensitiveKey(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestScrub(t *testing.T) {
	tests := []struct{ in, want string }{
		{"login ok for u-1", "login ok for u-1"},
		{"session " + plantToken + " saved", "session mst_[REDACTED] saved"},
		{"open magdesk://activate?token=" + plantActivate + "&x=1", "open magdesk://activate?token=[REDACTED]&x=1"},
		{"https://h:8443/activate#token=" + plantActivate, "https://h:8443/activate#token=[REDACTED]"},
		{"otpauth://totp/MAG:u?secret=" + plantTOTP + "&issuer=MAG", "otpauth://totp/MAG:u?secret=[REDACTED]&issuer=MAG"},
		{"bad key: " + plantPEM + " end", "bad key: [REDACTED PRIVATE KEY] end"},
		{"truncated -----BEGIN PRIVATE KEY-----\nMIIEv", "truncated [REDACTED PRIVATE KEY]"},
		{"Authorization: Bearer " + plantToken[4:], "Authorization: Bearer [REDACTED]"},
		{"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"},
	}
	for _, tt := range tests {
		if got := Scrub(tt.in); got != tt.want {
			t.Errorf("Scrub(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

type secretHolder struct{ User, Token string }

func TestRedactingHandler(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, slog.LevelDebug)
	log.Info("activating with magdesk://activate?token="+plantActivate, "password", plantPassword, "user", "u-7")
	log.With("session_token", plantToken).Debug("request", "status_code", 401)
	log.WithGroup("otp").Info("enrolled", "secret", plantTOTP, slog.Group("detail", "answer", "blue", "note", "uses "+plantToken))
	log.Warn("import failed", "err", fmt.Errorf("parse %q: %w", plantPEM, errors.New("bad")), "holder", secretHolder{"u", plantToken})
	log.Error("raw", "body", []byte(`{"password":"x","token":"`+plantToken+`"}`))
	out := buf.String()
	for _, s := range planted {
		if strings.Contains(out, s) {
			t.Errorf("log contains planted secret %q:\n%s", s, out)
		}
	}
	for _, keep := range []string{`"user":"u-7"`, `"status_code":401`, `"session_token":"[REDACTED]"`, `"answer":"[REDACTED]"`, "[REDACTED PRIVATE KEY]"} {
		if !strings.Contains(out, keep) {
			t.Errorf("log lacks %s:\n%s", keep, out)
		}
	}
	if n := strings.Count(out, "\n"); n != 5 {
		t.Errorf("%d lines, want 5", n)
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	rf, err := OpenRotating(path, 1000, 3)
	if err != nil {
		t.Fatal(err)
	}
	line := func(i int) string { return fmt.Sprintf("line %04d %s\n", i, strings.Repeat("x", 89)) } // 100 bytes
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				if _, err := rf.Write([]byte(line(g*25 + i))); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if _, err := rf.Write([]byte(line(9999))); err != nil {
		t.Fatal(err)
	}
	rf.Close()
	files := LogFiles(dir)
	if len(files) != 4 {
		t.Fatalf("files = %v, want the current one and 3 backups", files)
	}
	total := 0
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 1000 || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: size %d mode %v", f, fi.Size(), fi.Mode())
		}
		total += int(fi.Size())
	}
	if total > 4000 || total < 3100 {
		t.Errorf("kept %d bytes, want between 3100 and 4000 (older ones dropped)", total)
	}
	if _, err := os.Stat(path + ".4"); err == nil {
		t.Error("a fourth backup was kept")
	}
	lines, err := Tail(dir, 15)
	if err != nil || len(lines) != 15 {
		t.Fatalf("Tail = %d lines, %v", len(lines), err)
	}
	if !strings.HasPrefix(lines[14], "line 9999") {
		t.Errorf("last line = %q", lines[14])
	}
	all, _ := Tail(dir, 1000)
	if len(all) != total/100 {
		t.Errorf("Tail(all) = %d lines, want %d", len(all), total/100)
	}
}

func TestSetup(t *testing.T) {
	home := t.TempDir()
	t.Setenv("MAGDESK_HOME", home)
	log, err := Setup(home, "warn")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden at warn")
	log.Warn("shown", "password", plantPassword)
	lines, err := Tail(Dir(home), 10)
	if err != nil || len(lines) != 1 {
		t.Fatalf("lines = %q, %v", lines, err)
	}
	if !strings.Contains(lines[0], `"msg":"shown"`) || strings.Contains(lines[0], plantPassword) {
		t.Errorf("line = %s", lines[0])
	}
	if fi, err := os.Stat(Dir(home)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("log dir: %v %v", fi, err)
	}
	if _, err := Setup(home, "loud"); err == nil || !strings.Contains(err.Error(), "debug, info, warn or error") {
		t.Errorf("bad level: %v", err)
	}
	blocked := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocked, nil, 0o600)
	log, err = Setup(blocked, "info") // logs/ cannot be created under a file
	if err == nil || log == nil || !strings.Contains(err.Error(), "standard error") {
		t.Errorf("unwritable dir: %v %v", log, err)
	}
}

// openFDs counts this process's descriptors open on path (Linux /proc); -1 where /proc is absent.
func openFDs(t *testing.T, path string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	n := 0
	for _, e := range ents {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && target == path {
			n++
		}
	}
	return n
}

func TestOpenClose(t *testing.T) {
	home := t.TempDir()
	t.Setenv("MAGDESK_HOME", home)
	path := filepath.Join(Dir(home), FileName)
	log, closer, err := Open(home, "info")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("before close", "password", plantPassword, "token", plantToken)
	if n := openFDs(t, path); n == 0 {
		t.Fatalf("log file %s not open after Open", path)
	}
	if err := closer.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n := openFDs(t, path); n > 0 {
		t.Errorf("log file still open %d times after Close", n)
	}
	log.Info("after close") // dropped: the file is closed, and nothing reopens it
	lines, err := Tail(Dir(home), 10)
	if err != nil || len(lines) != 1 {
		t.Fatalf("lines = %q, %v; want only the line before Close", lines, err)
	}
	if !strings.Contains(lines[0], `"msg":"before close"`) || strings.Contains(lines[0], plantPassword) || strings.Contains(lines[0], plantToken) {
		t.Errorf("line = %s; want it written with the secrets redacted", lines[0])
	}
	if err := closer.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	blocked := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocked, nil, 0o600)
	log, closer, err = Open(blocked, "info") // logs/ cannot be created under a file
	if err == nil || log == nil || closer == nil || !strings.Contains(err.Error(), "standard error") {
		t.Fatalf("unwritable dir: %v %v %v", log, closer, err)
	}
	if err := closer.Close(); err != nil {
		t.Errorf("Close of the standard-error fallback: %v", err)
	}
}
