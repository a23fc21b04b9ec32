// Package support writes the support bundle a help desk asks for: a zip with versions, the
// system, the effective settings and where each came from, the last log lines and the
// certificate inventory. It holds no secret: settings hold none, log lines are redacted again
// (older versions or other tools may have written them), and certificates are listed by
// fingerprint and subject only — never a key.
package support

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/mag-desktop/magdesk/internal/config"
	"github.com/mag-desktop/magdesk/internal/logging"
)

// DefaultLogLines is how many log lines a bundle carries unless Inputs says otherwise.
const DefaultLogLines = 1000

// Cert is one certificate of the inventory: what identifies it, never its key.
type Cert struct {
	Store     string    `json:"store"` // "file", "nss sql:/home/u/.pki/nssdb", `windows CurrentUser\MY`, ...
	SHA256    string    `json:"sha256"`
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	HasKey    bool      `json:"has_private_key"`
	Hardware  bool      `json:"hardware_key,omitempty"`
}

// Inputs is what goes into a bundle. Everything is plain data gathered by the caller.
type Inputs struct {
	AppVersion  string
	Settings    config.Effective
	SettingsErr error  // problems config.Load reported (bad policy or settings file)
	LogDir      string // logging.Dir(home); "" for none
	LogLines    int    // 0: DefaultLogLines
	Certs       []Cert
	CertErrors  []string // stores that could not be listed, and why
	// Doctor is the connection and setup check (service.DoctorReport), written as doctor.json;
	// nil leaves it out.
	Doctor any
	Now    time.Time
}

// WriteFile writes the bundle to path (0600). It refuses to replace an existing file, so a
// mistyped name loses nothing.
func WriteFile(path string, in Inputs) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s already exists: choose another file name or delete it first", path)
	}
	if err != nil {
		return fmt.Errorf("cannot create the support bundle: %w", err)
	}
	if err := WriteBundle(f, in); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("cannot write the support bundle: %w", err)
	}
	return nil
}

// WriteBundle writes the zip to w.
func WriteBundle(w io.Writer, in Inputs) error {
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	if in.LogLines <= 0 {
		in.LogLines = DefaultLogLines
	}
	z := zip.NewWriter(w)
	files := []struct {
		name string
		make func(Inputs) ([]byte, error)
	}{
		{"README.txt", readme},
		{"about.json", about},
		{"settings.json", settings},
		{"certificates.json", certificates},
		{"log.jsonl", logTail},
	}
	if in.Doctor != nil {
		files = append(files, struct {
			name string
			make func(Inputs) ([]byte, error)
		}{"doctor.json", func(in Inputs) ([]byte, error) { return marshal(in.Doctor) }})
	}
	for _, f := range files {
		data, err := f.make(in)
		if err != nil {
			return fmt.Errorf("support bundle: %s: %w", f.name, err)
		}
		fw, err := z.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: in.Now})
		if err == nil {
			_, err = fw.Write(data)
		}
		if err != nil {
			return fmt.Errorf("cannot write the support bundle: %w", err)
		}
	}
	if err := z.Close(); err != nil {
		return fmt.Errorf("cannot write the support bundle: %w", err)
	}
	return nil
}

func readme(in Inputs) ([]byte, error) {
	return []byte(`MAG Desktop support bundle, created ` + in.Now.UTC().Format(time.RFC3339) + `

about.json         app version, Go version, operating system
settings.json      each setting's effective value and its source (default, user, policy)
certificates.json  certificates found in the stores: fingerprints and subjects, no keys
log.jsonl          the last log lines (secrets removed)
doctor.json        the connection and setup check (proxy, DNS, TLS, clock, keyring, certificates)

It contains no password, session token, OTP secret or private key.
`), nil
}

func about(in Inputs) ([]byte, error) {
	host, _ := os.Hostname()
	return marshal(map[string]string{
		"app":        "MAG Desktop",
		"version":    in.AppVersion,
		"go":         runtime.Version(),
		"os":         runtime.GOOS,
		"arch":       runtime.GOARCH,
		"os_release": osRelease(),
		"hostname":   host,
		"created":    in.Now.UTC().Format(time.RFC3339),
	})
}

// osRelease is the distribution's PRETTY_NAME on Linux, empty elsewhere.
func osRelease() string {
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"'`)
		}
	}
	return ""
}

type settingOut struct {
	Value  any           `json:"value"`
	Source config.Source `json:"source"`
	Locked bool          `json:"locked"`
}

func settings(in Inputs) ([]byte, error) {
	var raw map[string]any
	data, err := json.Marshal(in.Settings.Settings)
	if err == nil {
		err = json.Unmarshal(data, &raw)
	}
	if err != nil {
		return nil, err
	}
	out := map[string]settingOut{}
	for _, k := range config.Keys() {
		v := raw[k]
		if s, ok := v.(string); ok {
			v = safeText(s)
		}
		src := in.Settings.Sources[k]
		if src == "" {
			src = config.SourceDefault
		}
		out[k] = settingOut{v, src, in.Settings.Locked(k)}
	}
	problems := []string{}
	if in.SettingsErr != nil {
		for _, line := range strings.Split(in.SettingsErr.Error(), "\n") {
			problems = append(problems, logging.Scrub(line))
		}
	}
	return marshal(map[string]any{"policy_location": config.PolicyFile, "settings": out, "problems": problems})
}

// safeText drops the password of a URL (a proxy URL may carry one) and scrubs the rest.
func safeText(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		s = u.Redacted()
	}
	return logging.Scrub(s)
}

func certificates(in Inputs) ([]byte, error) {
	certs := in.Certs
	if certs == nil {
		certs = []Cert{}
	}
	errs := make([]string, len(in.CertErrors))
	for i, e := range in.CertErrors {
		errs[i] = logging.Scrub(e)
	}
	return marshal(map[string]any{"certificates": certs, "errors": errs})
}

func logTail(in Inputs) ([]byte, error) {
	if in.LogDir == "" {
		return nil, nil
	}
	lines, err := logging.Tail(in.LogDir, in.LogLines)
	if err != nil {
		return []byte(fmt.Sprintf("{\"bundle_error\":%q}\n", "cannot read the logs in "+filepath.Clean(in.LogDir)+": "+err.Error())), nil
	}
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(redactLine(l))
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// redactLine redacts one log line: a JSON object has its sensitive keys masked and its strings
// scrubbed; anything else is scrubbed as text.
func redactLine(line string) string {
	var v map[string]any
	if json.Unmarshal([]byte(line), &v) != nil {
		return logging.Scrub(line)
	}
	data, err := json.Marshal(redactValue(v))
	if err != nil {
		return logging.Scrub(line)
	}
	return string(data)
}

func redactValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if logging.SensitiveKey(k) {
				x[k] = logging.Redacted
			} else {
				x[k] = redactValue(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = redactValue(e)
		}
	case string:
		return logging.Scrub(x)
	}
	return v
}

func marshal(v any) ([]byte, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	return append(data, '\n'), err
}
