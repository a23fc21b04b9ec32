package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestLinuxPolicyFile reads the real file path under a temporary root, through Load.
func TestLinuxPolicyFile(t *testing.T) {
	root := t.TempDir()
	old := policyRoot
	policyRoot = root
	t.Cleanup(func() { policyRoot = old })
	file := filepath.Join(root, PolicyFile)

	tests := []struct {
		name    string
		policy  *string // nil: no file
		dir     bool    // a directory where the file should be
		want    func(*Settings)
		locked  []string
		errFrag []string
	}{
		{"no policy", nil, false, func(*Settings) {}, nil, nil},
		{"full policy", ptr(`{"server_url":"https://gw.corp","cert_stores":["file"],"remember_user_id":false,"log_level":"debug"}`), false,
			func(s *Settings) {
				s.ServerURL, s.CertStores, s.RememberUserID, s.LogLevel = "https://gw.corp", []string{"file"}, false, "debug"
			}, []string{KeyServerURL, KeyCertStores, KeyRememberUserID, KeyLogLevel}, nil},
		{"one bad key", ptr(`{"server_url":"https://gw.corp","theme":"pink"}`), false,
			func(s *Settings) { s.ServerURL, s.Theme = "https://gw.corp", "dark" }, []string{KeyServerURL},
			[]string{file, `"theme"`, "system, light, dark"}},
		{"syntax error", ptr(`{"server_url": "https://gw.corp",}`), false,
			func(s *Settings) { s.Theme = "dark" }, nil, []string{file, "not valid JSON"}},
		{"unreadable (a directory)", nil, true, func(s *Settings) { s.Theme = "dark" }, nil, []string{file}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.RemoveAll(filepath.Join(root, "etc"))
			if tt.policy != nil {
				writeFile(t, file, *tt.policy)
			}
			if tt.dir {
				if err := os.MkdirAll(file, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			home := t.TempDir()
			writeFile(t, filepath.Join(home, SettingsFile), `{"theme":"dark"}`)
			eff, err := Load(home)
			wantErr(t, err, tt.errFrag...)
			want := Defaults()
			want.Theme = "dark"
			tt.want(&want)
			if !reflect.DeepEqual(eff.Settings, want) {
				t.Errorf("settings = %+v\nwant       %+v", eff.Settings, want)
			}
			for _, k := range tt.locked {
				if !eff.Locked(k) {
					t.Errorf("%s not locked", k)
				}
			}
			if eff.Locked(KeyTheme) {
				t.Error("theme locked by a policy that does not set it")
			}
		})
	}
}

func ptr(s string) *string { return &s }
