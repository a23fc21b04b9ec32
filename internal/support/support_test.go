package support

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/internal/config"
	"github.com/mag-desktop/magdesk/internal/logging"
)

const (
	plantPassword = "Corr3ct-Horse-Battery"
	plantToken    = "mst_c2Vzc2lvbnRva2VudmFsdWVmb3J0aGVzdXBwb3J0YnVuZGxl"
	plantTOTP     = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	plantKeyBody  = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg"
	plantPEM      = "-----BEGIN PRIVATE KEY-----\n" + plantKeyBody + "\n-----END PRIVATE KEY-----\n"
	proxyPassword = "pr0xyPa55"
)

// unzip returns every entry of a bundle by name.
func unzip(t *testing.T, data []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = string(b)
	}
	return out
}

func TestBundleHasNoSecrets(t *testing.T) {
	home := t.TempDir()
	t.Setenv("MAGDESK_HOME", home)
	logDir := logging.Dir(home)
	// Lines as an old version or another tool might have written them: not redacted on the way in.
	os.MkdirAll(logDir, 0o700)
	raw := strings.Join([]string{
		`{"time":"2026-11-27T10:00:00Z","level":"INFO","msg":"login","user":"u-1","password":"` + plantPassword + `"}`,
		`{"level":"DEBUG","msg":"session saved","session":{"token":"` + plantToken + `"}}`,
		`{"level":"DEBUG","msg":"enrol otpauth://totp/MAG:u-1?secret=` + plantTOTP + `&issuer=MAG"}`,
		`{"level":"ERROR","msg":"import","err":` + mustJSON(plantPEM) + `}`,
		`plain text line with ` + plantToken + ` and ` + strings.ReplaceAll(plantPEM, "\n", " "),
		`{"level":"INFO","msg":"totp","totp_secret":"` + plantTOTP + `","status_code":409}`,
	}, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(logDir, logging.FileName+".1"), []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	// And a line through the app's own logger.
	log, err := logging.Setup(home, "debug")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("final line", "secret", plantTOTP, "otp", "123456")

	// A settings file with a secret-looking unknown key and a proxy password.
	os.WriteFile(filepath.Join(home, config.SettingsFile),
		[]byte(`{"password":"`+plantPassword+`","proxy_url":"http://bob:`+proxyPassword+`@proxy:3128","theme":"dark"}`), 0o600)
	eff, lerr := config.LoadWith(home, config.JSONFile{Path: filepath.Join(home, "no-policy.json")})
	if lerr != nil {
		t.Fatal(lerr)
	}
	in := Inputs{
		AppVersion:  "1.2.3",
		Settings:    eff,
		SettingsErr: errors.New("policy: bad value near token=" + plantToken),
		LogDir:      logDir,
		Certs: []Cert{{Store: "nss sql:/home/u/.pki/nssdb", SHA256: strings.Repeat("ab", 32), Subject: "CN=u-1,O=Org",
			Issuer: "CN=MAG CA", NotAfter: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), HasKey: true}},
		CertErrors: []string{"windows: failed with key " + plantPEM},
	}
	var buf bytes.Buffer
	if err := WriteBundle(&buf, in); err != nil {
		t.Fatal(err)
	}
	files := unzip(t, buf.Bytes())
	for _, name := range []string{"README.txt", "about.json", "settings.json", "certificates.json", "log.jsonl"} {
		if files[name] == "" {
			t.Errorf("bundle lacks %s", name)
		}
	}
	for name, body := range files {
		for _, secret := range []string{plantPassword, plantToken, plantTOTP, plantKeyBody, "PRIVATE KEY-----", proxyPassword, "123456"} {
			if strings.Contains(body, secret) {
				t.Errorf("%s contains the secret %q", name, secret)
			}
		}
	}
	// What help needs is still there.
	var st struct {
		Settings map[string]struct {
			Value  any
			Source string
			Locked bool
		}
		Problems []string
	}
	if err := json.Unmarshal([]byte(files["settings.json"]), &st); err != nil {
		t.Fatal(err)
	}
	if st.Settings["theme"].Value != "dark" || st.Settings["theme"].Source != "user" || st.Settings["log_level"].Source != "default" {
		t.Errorf("settings = %+v", st.Settings)
	}
	if len(st.Problems) != 1 || !strings.Contains(st.Problems[0], "token=[REDACTED]") {
		t.Errorf("problems = %q", st.Problems)
	}
	if !strings.Contains(files["settings.json"], "http://bob:xxxxx@proxy:3128") {
		t.Errorf("proxy not shown redacted: %s", files["settings.json"])
	}
	for _, want := range []string{`"user":"u-1"`, `"status_code":409`, `"msg":"final line"`, `"msg":"login"`} {
		if !strings.Contains(files["log.jsonl"], want) {
			t.Errorf("log.jsonl lacks %s:\n%s", want, files["log.jsonl"])
		}
	}
	if !strings.Contains(files["certificates.json"], strings.Repeat("ab", 32)) || !strings.Contains(files["about.json"], `"version": "1.2.3"`) {
		t.Errorf("inventory or version missing:\n%s\n%s", files["certificates.json"], files["about.json"])
	}
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bundle.zip")
	in := Inputs{AppVersion: "1", LogLines: 5}
	if err := WriteFile(path, in); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("bundle: %v %v", fi, err)
	}
	data, _ := os.ReadFile(path)
	if files := unzip(t, data); files["log.jsonl"] != "" || !strings.Contains(files["certificates.json"], `"certificates": []`) {
		t.Errorf("empty inputs: %q", files)
	}
	err = WriteFile(path, in)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("overwrite: %v", err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, data) {
		t.Error("existing file changed")
	}
	if err := WriteFile(filepath.Join(dir, "missing", "b.zip"), in); err == nil {
		t.Error("no error for a missing folder")
	}
}
