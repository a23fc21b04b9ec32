package config

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/mag-desktop/magdesk/internal/netconf"
)

// Error codes carried by *Error.
const (
	CodePolicyInvalid   = "POLICY_INVALID"
	CodeSettingsInvalid = "SETTINGS_INVALID"
)

// Error is a problem with one source of settings (Key empty) or one key in it. The source or
// key is skipped and the lower-precedence sources apply, so the app still starts.
type Error struct {
	Code   string // CodePolicyInvalid or CodeSettingsInvalid
	Origin string // the file or registry key
	Key    string // the name as written in Origin; empty when the whole source is unreadable
	Err    error
}

func (e *Error) Error() string {
	what := "settings file"
	fix := "fix the value in the settings or delete the file"
	if e.Code == CodePolicyInvalid {
		what, fix = "managed policy", "ask your IT department to correct the policy"
	}
	if e.Key == "" {
		return fmt.Sprintf("%s %s: %v; it was ignored — %s", what, e.Origin, e.Err, fix)
	}
	return fmt.Sprintf("%s %s: key %q: %v; this setting was ignored — %s", what, e.Origin, e.Key, e.Err, fix)
}

func (e *Error) Unwrap() error { return e.Err }

type kind int

const (
	kindString kind = iota
	kindBool
	kindList
	kindInt
)

// keySpec describes one setting: its key, its name in the registry and in plists, its type,
// whether IT may set it, and the check applied to each string value.
type keySpec struct {
	key    string
	native string // Windows registry value name and macOS plist key
	kind   kind
	policy bool
	check  func(string) error
}

var specs = []keySpec{
	{KeyServerURL, "ServerURL", kindString, true, checkServerURL},
	{KeyCABundle, "CABundle", kindString, true, checkAbsPath},
	{KeyProxyURL, "ProxyURL", kindString, true, checkProxyURL},
	{KeyProxyMode, "ProxyMode", kindString, true, oneOf(netconf.Modes)},
	{KeyProxyPACURL, "ProxyPACURL", kindString, true, checkPACURL},
	{KeyProxyBypass, "ProxyBypass", kindList, true, checkBypass},
	{KeyLogLevel, "LogLevel", kindString, true, oneOf(LogLevels)},
	{KeyTheme, "Theme", kindString, true, oneOf(Themes)},
	{KeyLastUserID, "", kindString, false, checkUserID},
	{KeyRememberUserID, "RememberUserID", kindBool, true, nil},
	{KeyDisableDemo, "DisableDemo", kindBool, true, nil},
	{KeyCertStores, "CertStores", kindList, true, oneOf(CertStoreNames)},
	{KeyCertWarningDays, "CertWarningDays", kindInt, true, nil},
	{KeyStartAtLogin, "StartAtLogin", kindBool, true, nil},
	{KeyStartMinimised, "StartMinimised", kindBool, true, nil},
	{KeyCloseToTray, "CloseToTray", kindBool, true, nil},
}

// Keys lists every setting key in display order.
func Keys() []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.key
	}
	return out
}

// PolicyKey is a setting IT may set: its policy.json key, its Windows registry value and macOS
// plist key name, and its type ("string", "boolean" or "list").
type PolicyKey struct{ Key, Name, Type string }

// PolicyKeys lists the settings a policy may set.
func PolicyKeys() []PolicyKey {
	var out []PolicyKey
	for _, s := range specs {
		if s.policy {
			out = append(out, PolicyKey{s.key, s.native, [...]string{"string", "boolean", "list", "integer"}[s.kind]})
		}
	}
	return out
}

func specFor(name string, native bool) (keySpec, bool) {
	for _, s := range specs {
		if (!native && s.key == name) || (native && s.native != "" && strings.EqualFold(s.native, name)) {
			return s, true
		}
	}
	return keySpec{}, false
}

// decode validates raw values (from JSON, a plist or the registry) into typed values keyed by
// setting key: string, bool or []string. Bad keys are reported and left out; the rest is kept.
// native selects registry/plist names; policy rejects keys IT may not set and unknown keys
// (a user settings file may carry keys of a newer version, which are ignored silently).
func decode(code, origin string, raw map[string]any, native, policy bool) (map[string]any, error) {
	names := make([]string, 0, len(raw))
	for n := range raw {
		names = append(names, n)
	}
	sort.Strings(names)
	out := map[string]any{}
	var errs []error
	bad := func(name string, err error) { errs = append(errs, &Error{code, origin, name, err}) }
	for _, name := range names {
		if raw[name] == nil {
			continue // JSON null: not set
		}
		spec, ok := specFor(name, native)
		switch {
		case !ok && policy:
			bad(name, fmt.Errorf("unknown setting (known: %s)", strings.Join(policyNames(native), ", ")))
			continue
		case !ok:
			continue
		case policy && !spec.policy:
			bad(name, errors.New("this setting cannot be set by policy"))
			continue
		}
		v, err := convert(spec, raw[name])
		if err != nil {
			bad(name, err)
			continue
		}
		if v != nil { // empty strings and lists mean "not set"
			out[spec.key] = v
		}
	}
	return out, errors.Join(errs...)
}

func policyNames(native bool) []string {
	var out []string
	for _, k := range PolicyKeys() {
		out = append(out, map[bool]string{false: k.Key, true: k.Name}[native])
	}
	return out
}

func convert(spec keySpec, v any) (any, error) {
	switch spec.kind {
	case kindString:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("must be a string, not %s", typeName(v))
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, nil
		}
		if spec.check != nil {
			if err := spec.check(s); err != nil {
				return nil, err
			}
		}
		return s, nil
	case kindBool:
		return toBool(v)
	case kindInt:
		if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
			return nil, nil
		}
		return toDays(v)
	default:
		items, err := toStrings(v)
		if err != nil {
			return nil, err
		}
		if items == nil {
			return nil, nil
		}
		var out []string
		for _, it := range items {
			it = strings.TrimSpace(it)
			if err := spec.check(it); err != nil {
				return nil, err
			}
			if !slices.Contains(out, it) {
				out = append(out, it)
			}
		}
		if out == nil {
			return nil, nil
		}
		return out, nil
	}
}

// number is a decoded number (JSON float64, REG_DWORD/REG_QWORD uint64, plist integer).
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(min(x, math.MaxInt32)), true
	}
	return 0, false
}

// toBool accepts true/false and the integers 0 and 1 (REG_DWORD, plist <integer>).
func toBool(v any) (bool, error) {
	if b, ok := v.(bool); ok {
		return b, nil
	}
	n, ok := number(v)
	if !ok {
		return false, fmt.Errorf("must be true or false (or 1 or 0), not %s", typeName(v))
	}
	if n != 0 && n != 1 {
		return false, fmt.Errorf("must be true or false (or 1 or 0), not %v", n)
	}
	return n == 1, nil
}

// toDays accepts a whole number of days from 1 to 365, as a number (JSON, REG_DWORD, plist
// <integer>) or a string of digits (REG_SZ, which the MSI writes).
func toDays(v any) (int, error) {
	n, ok := number(v)
	if s, isStr := v.(string); isStr {
		i, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return 0, fmt.Errorf("must be a whole number of days, not %q", s)
		}
		n, ok = float64(i), true
	}
	if !ok {
		return 0, fmt.Errorf("must be a whole number of days, not %s", typeName(v))
	}
	if n != math.Trunc(n) || n < 1 || n > 365 {
		return 0, fmt.Errorf("must be a whole number of days from 1 to 365, not %v", n)
	}
	return int(n), nil
}

func toStrings(v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []string:
		return x, nil
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("item %d must be a string, not %s", i+1, typeName(e))
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("must be a list of strings, not %s", typeName(v))
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, int, int64, uint64:
		return "a number"
	case []any, []string:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func checkServerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return fmt.Errorf("must be an https:// URL with a host name, like https://gateway.example.com, not %q", s)
	}
	return nil
}

func checkProxyURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || !slices.Contains([]string{"http", "https", "socks5"}, u.Scheme) {
		return fmt.Errorf("must be an http://, https:// or socks5:// URL with a host, like http://proxy.example.com:3128, not %q", s)
	}
	return nil
}

func checkPACURL(s string) error {
	return netconf.Config{Mode: netconf.ModePAC, PACURL: s}.Check()
}

func checkBypass(s string) error {
	if s == "" || strings.ContainsAny(s, " ;,") {
		return fmt.Errorf("each entry must be one host name, wildcard (*.example.com), network (10.0.0.0/8) or <local>, not %q", s)
	}
	return nil
}

func checkAbsPath(s string) error {
	// Policy files are written on one OS and read on it, but a Windows path is not absolute on
	// Linux, so accept either form.
	if filepath.IsAbs(s) || strings.HasPrefix(s, `\\`) || (len(s) > 2 && s[1] == ':' && (s[2] == '\\' || s[2] == '/')) {
		return nil
	}
	return fmt.Errorf("must be an absolute path to a PEM file, not %q", s)
}

func checkUserID(s string) error {
	if len(s) > 256 || strings.ContainsAny(s, "\x00\r\n") {
		return errors.New("is not a user id")
	}
	return nil
}

func oneOf(choices []string) func(string) error {
	return func(s string) error {
		if slices.Contains(choices, s) {
			return nil
		}
		return fmt.Errorf("must be one of %s, not %q", strings.Join(choices, ", "), s)
	}
}

// apply sets the typed value v (from decode) of key on s.
func apply(s *Settings, key string, v any) {
	switch key {
	case KeyServerURL:
		s.ServerURL = v.(string)
	case KeyCABundle:
		s.CABundle = v.(string)
	case KeyProxyURL:
		s.ProxyURL = v.(string)
	case KeyProxyMode:
		s.ProxyMode = v.(string)
	case KeyProxyPACURL:
		s.ProxyPACURL = v.(string)
	case KeyProxyBypass:
		s.ProxyBypass = slices.Clone(v.([]string))
	case KeyLogLevel:
		s.LogLevel = v.(string)
	case KeyTheme:
		s.Theme = v.(string)
	case KeyLastUserID:
		s.LastUserID = v.(string)
	case KeyRememberUserID:
		s.RememberUserID = v.(bool)
	case KeyDisableDemo:
		s.DisableDemo = v.(bool)
	case KeyCertStores:
		s.CertStores = slices.Clone(v.([]string))
	case KeyCertWarningDays:
		s.CertWarningDays = v.(int)
	case KeyStartAtLogin:
		s.StartAtLogin = v.(bool)
	case KeyStartMinimised:
		s.StartMinimised = v.(bool)
	case KeyCloseToTray:
		s.CloseToTray = v.(bool)
	}
}

// values returns s as raw values by setting key, the inverse of apply.
func values(s Settings) map[string]any {
	return map[string]any{
		KeyServerURL: s.ServerURL, KeyCABundle: s.CABundle, KeyProxyURL: s.ProxyURL,
		KeyProxyMode: s.ProxyMode, KeyProxyPACURL: s.ProxyPACURL, KeyProxyBypass: slices.Clone(s.ProxyBypass),
		KeyLogLevel: s.LogLevel, KeyTheme: s.Theme, KeyLastUserID: s.LastUserID,
		KeyRememberUserID: s.RememberUserID, KeyDisableDemo: s.DisableDemo,
		KeyCertStores:      slices.Clone(s.CertStores),
		KeyCertWarningDays: s.CertWarningDays, KeyStartAtLogin: s.StartAtLogin,
		KeyStartMinimised: s.StartMinimised, KeyCloseToTray: s.CloseToTray,
	}
}
