package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"howett.net/plist"
)

// wantErr checks that err names every fragment (file, key, reason) or is nil when none are given.
func wantErr(t *testing.T, err error, frags ...string) {
	t.Helper()
	if len(frags) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want one naming %q", frags)
	}
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a *config.Error", err)
	}
	for _, f := range frags {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}

func TestDecodeJSONPolicy(t *testing.T) {
	const origin = "/etc/magdesk/policy.json"
	tests := []struct {
		name string
		json string
		want map[string]any
		errs []string
	}{
		{"all keys", `{"server_url":"https://gw.example.com/","ca_bundle":"/etc/ssl/corp.pem","proxy_url":"http://proxy:3128",
			"log_level":"warn","theme":"dark","remember_user_id":false,"disable_demo":true,"cert_stores":["nss","file","nss"]}`,
			map[string]any{KeyServerURL: "https://gw.example.com/", KeyCABundle: "/etc/ssl/corp.pem", KeyProxyURL: "http://proxy:3128",
				KeyLogLevel: "warn", KeyTheme: "dark", KeyRememberUserID: false, KeyDisableDemo: true, KeyCertStores: []string{"nss", "file"}}, nil},
		{"empty object", `{}`, map[string]any{}, nil},
		{"null and empty mean not set", `{"server_url":"","cert_stores":[],"proxy_url":null}`, map[string]any{}, nil},
		{"http server refused, rest kept", `{"server_url":"http://gw.example.com","disable_demo":true}`,
			map[string]any{KeyDisableDemo: true}, []string{origin, `"server_url"`, "https://"}},
		{"wrong type", `{"disable_demo":"yes"}`, map[string]any{}, []string{origin, `"disable_demo"`, "true or false"}},
		{"number as bool", `{"disable_demo":1}`, map[string]any{KeyDisableDemo: true}, nil},
		{"bad bool number", `{"disable_demo":2}`, map[string]any{}, []string{`"disable_demo"`}},
		{"unknown key", `{"server":"https://x"}`, map[string]any{}, []string{origin, `"server"`, "unknown setting", "server_url"}},
		{"user-only key", `{"last_user_id":"alice"}`, map[string]any{}, []string{`"last_user_id"`, "cannot be set by policy"}},
		{"bad store", `{"cert_stores":["nss","pkcs11"]}`, map[string]any{}, []string{`"cert_stores"`, "pkcs11"}},
		{"list item type", `{"cert_stores":["nss",3]}`, map[string]any{}, []string{`"cert_stores"`, "item 2"}},
		{"relative CA", `{"ca_bundle":"corp.pem"}`, map[string]any{}, []string{`"ca_bundle"`, "absolute"}},
		{"bad proxy", `{"proxy_url":"proxy:3128"}`, map[string]any{}, []string{`"proxy_url"`}},
		{"bad level", `{"log_level":"verbose"}`, map[string]any{}, []string{`"log_level"`, "debug, info"}},
		{"proxy by script", `{"proxy_mode":"pac","proxy_pac_url":"http://pac.example.com/proxy.pac","proxy_bypass":["*.corp.example.com","<local>","10.0.0.0/8"]}`,
			map[string]any{KeyProxyMode: "pac", KeyProxyPACURL: "http://pac.example.com/proxy.pac", KeyProxyBypass: []string{"*.corp.example.com", "<local>", "10.0.0.0/8"}}, nil},
		{"bad proxy mode", `{"proxy_mode":"auto"}`, map[string]any{}, []string{`"proxy_mode"`, "system, direct, fixed, pac"}},
		{"bad script address", `{"proxy_pac_url":"pac.example.com/proxy.pac"}`, map[string]any{}, []string{`"proxy_pac_url"`, "file://"}},
		{"bypass entries one by one", `{"proxy_bypass":["a.example.com;b.example.com"]}`, map[string]any{}, []string{`"proxy_bypass"`, "one host name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := decodeJSONPolicy(origin, []byte(tt.json))
			wantErr(t, err, tt.errs...)
			if !reflect.DeepEqual(p.Values, tt.want) {
				t.Errorf("values = %#v, want %#v", p.Values, tt.want)
			}
			if p.Origin != origin {
				t.Errorf("origin = %q", p.Origin)
			}
		})
	}
	for _, bad := range []string{``, `[1]`, `null`, `{"server_url":`, `{} {}`, `"x"`} {
		p, err := decodeJSONPolicy(origin, []byte(bad))
		wantErr(t, err, origin, "JSON")
		if len(p.Values) != 0 {
			t.Errorf("%q: values %v from a broken file", bad, p.Values)
		}
	}
}

func TestDecodeRegistryPolicy(t *testing.T) {
	const origin = `HKLM\SOFTWARE\Policies\MAG Desktop`
	tests := []struct {
		name string
		vals []regValue
		want map[string]any
		errs []string
	}{
		{"typical GPO", []regValue{
			{Name: "ServerURL", Type: regSZ, Str: "https://gw.corp.example"},
			{Name: "CABundle", Type: regExpandSZ, Str: `C:\ProgramData\MAG Desktop\ca.pem`},
			{Name: "RememberUserID", Type: regDWORD, Int: 0},
			{Name: "DisableDemo", Type: regDWORD, Int: 1},
			{Name: "CertStores", Type: regMultiSZ, Strs: []string{"windows", "file"}},
			{Name: "loglevel", Type: regSZ, Str: "error"},
		}, map[string]any{KeyServerURL: "https://gw.corp.example", KeyCABundle: `C:\ProgramData\MAG Desktop\ca.pem`,
			KeyRememberUserID: false, KeyDisableDemo: true, KeyCertStores: []string{"windows", "file"}, KeyLogLevel: "error"}, nil},
		{"MSI-style list and qword", []regValue{
			{Name: "CertStores", Type: regSZ, Str: "windows, file;"},
			{Name: "DisableDemo", Type: regQWORD, Int: 0},
		}, map[string]any{KeyCertStores: []string{"windows", "file"}, KeyDisableDemo: false}, nil},
		{"binary value refused", []regValue{
			{Name: "ServerURL", Type: 3},
			{Name: "Theme", Type: regSZ, Str: "light"},
		}, map[string]any{KeyTheme: "light"}, []string{origin, `"ServerURL"`, "registry type 3"}},
		{"DWORD 7", []regValue{{Name: "DisableDemo", Type: regDWORD, Int: 7}}, map[string]any{}, []string{`"DisableDemo"`}},
		{"MSI strings for bools", []regValue{{Name: "DisableDemo", Type: regSZ, Str: "1"}, {Name: "RememberUserID", Type: regSZ, Str: "False"}},
			map[string]any{KeyDisableDemo: true, KeyRememberUserID: false}, nil},
		{"empty MSI string is not set", []regValue{{Name: "DisableDemo", Type: regSZ, Str: ""}, {Name: "ServerURL", Type: regSZ, Str: ""},
			{Name: "CertWarningDays", Type: regSZ, Str: ""}}, map[string]any{}, nil},
		{"warning days and tray", []regValue{{Name: "CertWarningDays", Type: regDWORD, Int: 30}, {Name: "CloseToTray", Type: regSZ, Str: "1"},
			{Name: "StartAtLogin", Type: regDWORD, Int: 1}, {Name: "StartMinimised", Type: regDWORD, Int: 0}},
			map[string]any{KeyCertWarningDays: 30, KeyCloseToTray: true, KeyStartAtLogin: true, KeyStartMinimised: false}, nil},
		{"warning days from the MSI", []regValue{{Name: "CertWarningDays", Type: regSZ, Str: " 45 "}}, map[string]any{KeyCertWarningDays: 45}, nil},
		{"warning days out of range", []regValue{{Name: "CertWarningDays", Type: regDWORD, Int: 400}}, map[string]any{}, []string{`"CertWarningDays"`, "1 to 365"}},
		{"warning days not a number", []regValue{{Name: "CertWarningDays", Type: regSZ, Str: "ninety"}}, map[string]any{}, []string{`"CertWarningDays"`, "whole number"}},
		{"bad string for bool", []regValue{{Name: "DisableDemo", Type: regSZ, Str: "yes"}}, map[string]any{}, []string{`"DisableDemo"`, "true or false"}},
		{"unknown", []regValue{{Name: "AutoUpdate", Type: regDWORD, Int: 1}}, map[string]any{}, []string{`"AutoUpdate"`, "ServerURL"}},
		{"snake names are not registry names", []regValue{{Name: "server_url", Type: regSZ, Str: "https://x"}}, map[string]any{}, []string{`"server_url"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := decodeRegistryPolicy(origin, tt.vals)
			wantErr(t, err, tt.errs...)
			if !reflect.DeepEqual(p.Values, tt.want) {
				t.Errorf("values = %#v, want %#v", p.Values, tt.want)
			}
		})
	}
}

func TestPlistPolicy(t *testing.T) {
	xmlData, err := os.ReadFile("testdata/managed.plist")
	if err != nil {
		t.Fatal(err)
	}
	var dict map[string]any
	if _, err := plist.Unmarshal(xmlData, &dict); err != nil {
		t.Fatal(err)
	}
	binData, err := plist.Marshal(dict, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{KeyServerURL: "https://gateway.example.com", KeyCABundle: "/Library/Application Support/MAG Desktop/corp-ca.pem",
		KeyRememberUserID: false, KeyDisableDemo: true, KeyLogLevel: "debug", KeyCertStores: []string{"keychain", "file"}}
	dir := t.TempDir()
	for name, data := range map[string][]byte{"xml": xmlData, "binary": binData} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".plist")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			p, err := PlistFile{Path: path}.ReadPolicy()
			wantErr(t, err)
			if !reflect.DeepEqual(p.Values, want) {
				t.Errorf("values = %#v, want %#v", p.Values, want)
			}
		})
	}
	t.Run("bad", func(t *testing.T) {
		tests := []struct {
			name, data string
			errs       []string
		}{
			{"not a plist", "hello", []string{"property list"}},
			{"array root", `<plist version="1.0"><array><string>x</string></array></plist>`, []string{"property list"}},
			{"bad value", `<plist version="1.0"><dict><key>ServerURL</key><integer>5</integer><key>Theme</key><string>dark</string></dict></plist>`,
				[]string{`"ServerURL"`, "must be a string"}},
		}
		for _, tt := range tests {
			p, err := decodePlistPolicy("/Library/Managed Preferences/x.plist", []byte(tt.data))
			wantErr(t, err, append(tt.errs, "/Library/Managed Preferences/x.plist")...)
			if tt.name == "bad value" && !reflect.DeepEqual(p.Values, map[string]any{KeyTheme: "dark"}) {
				t.Errorf("valid keys lost: %v", p.Values)
			}
		}
	})
	t.Run("missing file", func(t *testing.T) {
		p, err := PlistFile{Path: filepath.Join(dir, "none.plist")}.ReadPolicy()
		if err != nil || len(p.Values) != 0 {
			t.Fatalf("missing file: %v %v", p, err)
		}
	})
}

func FuzzDecodeJSONPolicy(f *testing.F) {
	f.Add([]byte(`{"server_url":"https://gw.example.com","cert_stores":["nss"],"disable_demo":true}`))
	f.Add([]byte(`{"remember_user_id":0,"log_level":"debug","x":[{}]}`))
	f.Add([]byte(`{"cert_stores":"nss"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := decodeJSONPolicy("p.json", data)
		var s Settings
		for k, v := range p.Values {
			apply(&s, k, v) // panics if decode let a wrongly typed value through
		}
		if err == nil && p.Values == nil {
			t.Fatal("nil values without an error")
		}
	})
}
