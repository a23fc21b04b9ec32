// Package config holds magdesk's settings and their precedence:
// managed policy (IT) > user settings (home/settings.json) > built-in defaults.
//
// Policy comes from one per-OS reader (see PolicyReader): /etc/magdesk/policy.json on Linux,
// HKLM\SOFTWARE\Policies\MAG Desktop on Windows and /Library/Managed Preferences/<BundleID>.plist
// on macOS. Settings never hold secrets; those live in the OS keyring.
package config

import (
	"runtime"

	"github.com/mag-desktop/magdesk/internal/netconf"
)

// BundleID is the app id (FyneApp.toml [Details] ID, macOS bundle id, managed-preferences domain).
const BundleID = "com.magdesktop.magdesk"

// Settings are the user-visible options. The JSON names are the setting keys used everywhere
// (settings.json, policy.json, Effective.Sources, the support bundle).
type Settings struct {
	ServerURL      string   `json:"server_url"`
	CABundle       string   `json:"ca_bundle"`
	ProxyURL       string   `json:"proxy_url"`
	ProxyMode      string   `json:"proxy_mode"`
	ProxyPACURL    string   `json:"proxy_pac_url"`
	ProxyBypass    []string `json:"proxy_bypass"`
	LogLevel       string   `json:"log_level"`
	Theme          string   `json:"theme"`
	LastUserID     string   `json:"last_user_id"`
	RememberUserID bool     `json:"remember_user_id"`
	DisableDemo    bool     `json:"disable_demo"`
	CertStores     []string `json:"cert_stores"`
	// CertWarningDays is how long before a certificate expires the app starts warning.
	CertWarningDays int  `json:"cert_warning_days"`
	StartAtLogin    bool `json:"start_at_login"`
	StartMinimised  bool `json:"start_minimised"`
	// CloseToTray keeps the app running in the system tray when its window is closed.
	CloseToTray bool `json:"close_to_tray"`
}

// Source says where an effective value came from.
type Source string

// The sources, lowest precedence first.
const (
	SourceDefault Source = "default"
	SourceUser    Source = "user"
	SourcePolicy  Source = "policy"
)

// Setting keys (Effective.Sources, settings.json and policy.json names).
const (
	KeyServerURL       = "server_url"
	KeyCABundle        = "ca_bundle"
	KeyProxyURL        = "proxy_url"
	KeyProxyMode       = "proxy_mode"
	KeyProxyPACURL     = "proxy_pac_url"
	KeyProxyBypass     = "proxy_bypass"
	KeyLogLevel        = "log_level"
	KeyTheme           = "theme"
	KeyLastUserID      = "last_user_id"
	KeyRememberUserID  = "remember_user_id"
	KeyDisableDemo     = "disable_demo"
	KeyCertStores      = "cert_stores"
	KeyCertWarningDays = "cert_warning_days"
	KeyStartAtLogin    = "start_at_login"
	KeyStartMinimised  = "start_minimised"
	KeyCloseToTray     = "close_to_tray"
)

// Effective is the merged result of all sources, with the source of every key.
type Effective struct {
	Settings
	Sources map[string]Source
}

// Locked reports whether IT set key by policy, so the GUI must show it read-only.
func (e Effective) Locked(key string) bool { return e.Sources[key] == SourcePolicy }

// Value choices accepted by validation.
var (
	LogLevels       = []string{"debug", "info", "warn", "error"}
	Themes          = []string{"system", "light", "dark"}
	CertStoreNames  = []string{"file", "nss", "windows", "keychain"}
	defaultLogLevel = "info"
)

// Defaults are the built-in values: no server preset, info logging, the system theme,
// remembering the user id allowed, demo allowed, every certificate store of this OS, warnings
// 90 days before a certificate expires, and no start at login, minimised start or tray.
func Defaults() Settings {
	return Settings{
		LogLevel:        defaultLogLevel,
		Theme:           "system",
		RememberUserID:  true,
		CertStores:      DefaultCertStores(runtime.GOOS),
		CertWarningDays: DefaultCertWarningDays,
	}
}

// DefaultCertWarningDays is the warning window for certificates when nothing sets one.
const DefaultCertWarningDays = 90

// DefaultCertStores lists the stores scanned on goos when nothing else is configured.
func DefaultCertStores(goos string) []string {
	switch goos {
	case "windows":
		return []string{"file", "windows"}
	case "darwin":
		return []string{"file", "keychain"}
	default:
		return []string{"file", "nss"}
	}
}

// Proxy is the proxy choice of these settings. A proxy_url without proxy_mode means that proxy;
// proxy_mode fixed, pac or direct needs its own keys; otherwise the system's settings apply.
func (e Effective) Proxy() netconf.Config {
	c := netconf.Config{Mode: netconf.Mode(e.ProxyMode), URL: e.ProxyURL, PACURL: e.ProxyPACURL,
		Bypass: e.ProxyBypass, Origin: "your settings"}
	for _, k := range []string{KeyProxyMode, KeyProxyURL, KeyProxyPACURL} {
		if e.Sources[k] == SourcePolicy {
			c.Origin = "your organisation's policy settings"
		}
	}
	return c
}
