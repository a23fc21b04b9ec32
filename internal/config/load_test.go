package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// staticPolicy is a PolicyReader over fixed values (the OS readers are tested on their own).
type staticPolicy struct {
	p   Policy
	err error
}

func (s staticPolicy) ReadPolicy() (Policy, error) { return s.p, s.err }

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadPrecedence(t *testing.T) {
	policy := staticPolicy{p: Policy{Origin: "test", Values: map[string]any{KeyServerURL: "https://policy.example", KeyDisableDemo: true}}}
	tests := []struct {
		name     string
		user     string // settings.json, "" = absent
		policy   PolicyReader
		want     func(*Settings)
		sources  map[string]Source
		errParts []string
	}{
		{"defaults only", "", noPolicy{}, func(*Settings) {}, map[string]Source{KeyServerURL: SourceDefault, KeyTheme: SourceDefault}, nil},
		{"user over default", `{"server_url":"https://user.example","theme":"dark","last_user_id":"u-1","future_key":{"a":1}}`, noPolicy{},
			func(s *Settings) { s.ServerURL, s.Theme, s.LastUserID = "https://user.example", "dark", "u-1" },
			map[string]Source{KeyServerURL: SourceUser, KeyTheme: SourceUser, KeyLogLevel: SourceDefault}, nil},
		{"policy over user", `{"server_url":"https://user.example","theme":"dark"}`, policy,
			func(s *Settings) { s.ServerURL, s.Theme, s.DisableDemo = "https://policy.example", "dark", true },
			map[string]Source{KeyServerURL: SourcePolicy, KeyTheme: SourceUser, KeyDisableDemo: SourcePolicy}, nil},
		{"policy forbids remembering", `{"last_user_id":"u-1","remember_user_id":true}`,
			staticPolicy{p: Policy{Values: map[string]any{KeyRememberUserID: false}}},
			func(s *Settings) { s.RememberUserID = false },
			map[string]Source{KeyRememberUserID: SourcePolicy, KeyLastUserID: SourceUser}, nil},
		{"bad user key skipped", `{"server_url":"ftp://x","theme":"light"}`, noPolicy{},
			func(s *Settings) { s.Theme = "light" }, map[string]Source{KeyServerURL: SourceDefault, KeyTheme: SourceUser},
			[]string{SettingsFile, `"server_url"`, "https://"}},
		{"corrupt user file", `{"theme":`, policy,
			func(s *Settings) { s.ServerURL, s.DisableDemo = "https://policy.example", true }, map[string]Source{KeyTheme: SourceDefault},
			[]string{SettingsFile, "not valid JSON"}},
		{"bad policy still starts", `{"theme":"dark"}`,
			staticPolicy{p: Policy{Values: map[string]any{KeyLogLevel: "debug"}}, err: &Error{CodePolicyInvalid, "/etc/magdesk/policy.json", "server_url", errors.New("bad")}},
			func(s *Settings) { s.Theme, s.LogLevel = "dark", "debug" }, map[string]Source{KeyLogLevel: SourcePolicy, KeyTheme: SourceUser},
			[]string{"/etc/magdesk/policy.json", `"server_url"`, "IT department"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			if tt.user != "" {
				writeFile(t, filepath.Join(home, SettingsFile), tt.user)
			}
			eff, err := LoadWith(home, tt.policy)
			wantErr(t, err, tt.errParts...)
			want := Defaults()
			tt.want(&want)
			if !reflect.DeepEqual(eff.Settings, want) {
				t.Errorf("settings = %+v\nwant       %+v", eff.Settings, want)
			}
			for k, src := range tt.sources {
				if eff.Sources[k] != src {
					t.Errorf("source of %s = %q, want %q", k, eff.Sources[k], src)
				}
				if eff.Locked(k) != (src == SourcePolicy) {
					t.Errorf("Locked(%s) = %v", k, eff.Locked(k))
				}
			}
			if len(eff.Sources) != len(Keys()) {
				t.Errorf("sources cover %d keys, want %d", len(eff.Sources), len(Keys()))
			}
		})
	}
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func TestSaveUser(t *testing.T) {
	t.Run("round trip, 0600, unknown keys kept", func(t *testing.T) {
		home := t.TempDir()
		path := filepath.Join(home, SettingsFile)
		writeFile(t, path, `{"future_key":{"nested":[1,2]},"theme":"light"}`)
		s := Defaults()
		s.ServerURL, s.Theme, s.LastUserID, s.CertStores = "https://gw.example", "dark", "u-42", []string{"nss"}
		if err := saveUser(home, s, noPolicy{}); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v %v", fi.Mode(), err)
		}
		m := readJSON(t, path)
		if !reflect.DeepEqual(m["future_key"], map[string]any{"nested": []any{1.0, 2.0}}) {
			t.Errorf("unknown key lost: %v", m)
		}
		eff, err := LoadWith(home, noPolicy{})
		if err != nil || !reflect.DeepEqual(eff.Settings, s) {
			t.Fatalf("reload = %+v, %v; want %+v", eff.Settings, err, s)
		}
		leftovers, _ := filepath.Glob(filepath.Join(home, ".*tmp*"))
		if len(leftovers) != 0 {
			t.Errorf("temp files left: %v", leftovers)
		}
	})
	t.Run("policy keys keep the user's own value", func(t *testing.T) {
		home := t.TempDir()
		path := filepath.Join(home, SettingsFile)
		writeFile(t, path, `{"server_url":"https://mine.example","last_user_id":"u-1"}`)
		pol := staticPolicy{p: Policy{Values: map[string]any{KeyServerURL: "https://it.example", KeyRememberUserID: false}}}
		eff, _ := LoadWith(home, pol)
		eff.Theme = "dark"
		eff.LastUserID = "u-2"
		if err := saveUser(home, eff.Settings, pol); err != nil {
			t.Fatal(err)
		}
		m := readJSON(t, path)
		if m["server_url"] != "https://mine.example" || m["theme"] != "dark" {
			t.Errorf("file = %v", m)
		}
		if _, ok := m["last_user_id"]; ok {
			t.Errorf("last_user_id saved although policy forbids remembering: %v", m)
		}
		if _, ok := m["remember_user_id"]; ok {
			t.Errorf("policy value written as a user choice: %v", m)
		}
	})
	t.Run("corrupt file set aside", func(t *testing.T) {
		home := t.TempDir()
		path := filepath.Join(home, SettingsFile)
		writeFile(t, path, `{"theme": "dark",`)
		if err := saveUser(home, Defaults(), noPolicy{}); err != nil {
			t.Fatal(err)
		}
		kept, _ := filepath.Glob(path + ".corrupt-*")
		if len(kept) != 1 {
			t.Fatalf("corrupt file not kept: %v", kept)
		}
		if data, _ := os.ReadFile(kept[0]); string(data) != `{"theme": "dark",` {
			t.Errorf("kept copy changed: %q", data)
		}
	})
	t.Run("invalid value refused, file untouched", func(t *testing.T) {
		home := t.TempDir()
		path := filepath.Join(home, SettingsFile)
		writeFile(t, path, `{"theme":"dark"}`)
		s := Defaults()
		s.ProxyURL = "not a url"
		err := saveUser(home, s, noPolicy{})
		wantErr(t, err, `"proxy_url"`, SettingsFile)
		if data, _ := os.ReadFile(path); string(data) != `{"theme":"dark"}` {
			t.Errorf("file changed: %q", data)
		}
	})
}

func TestHome(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "magdesk")
	t.Setenv("MAGDESK_HOME", dir)
	got, err := Home()
	if err != nil || got != dir {
		t.Fatalf("Home() = %q, %v", got, err)
	}
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("home not created 0700: %v %v", fi, err)
	}
	t.Setenv("MAGDESK_HOME", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	got, err = Home()
	if err != nil || !strings.HasSuffix(got, string(filepath.Separator)+"magdesk") {
		t.Fatalf("Home() = %q, %v", got, err)
	}
}
