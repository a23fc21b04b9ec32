package service

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"howett.net/plist"

	"github.com/mag-desktop/magdesk/internal/config"
)

// AutostartFlag is the argument the start-at-login entry passes: the app then opens minimised
// to the tray when the start_minimised setting says so.
const AutostartFlag = "--autostart"

// Autostart is the OS's start-at-login entry of the app: an XDG autostart .desktop file on
// Linux, a value of the user's Run key on Windows, a LaunchAgent on macOS (per-OS constructor
// SystemAutostart). The entry runs exe with AutostartFlag.
type Autostart interface {
	// Location names the entry for the user and the log.
	Location() string
	Enabled() (bool, error)
	Enable(exe string) error
	Disable() error
}

// desktopEntry is an XDG autostart entry ($XDG_CONFIG_HOME/autostart/magdesk.desktop).
type desktopEntry struct{ path string }

func xdgAutostart(xdgConfigHome, home string) desktopEntry {
	dir := xdgConfigHome
	if dir == "" || !filepath.IsAbs(dir) {
		dir = filepath.Join(home, ".config")
	}
	return desktopEntry{filepath.Join(dir, "autostart", "magdesk.desktop")}
}

func (d desktopEntry) Location() string { return d.path }

func (d desktopEntry) Enabled() (bool, error) { return fileExists(d.path) }

func (d desktopEntry) Enable(exe string) error {
	return writeAtomic(d.path, []byte(desktopFile(exe)))
}

func (d desktopEntry) Disable() error { return removeIfExists(d.path) }

// desktopFile is the autostart entry for exe (Exec quoted as the Desktop Entry spec says).
func desktopFile(exe string) string {
	return "[Desktop Entry]\nType=Application\nName=MAG Desktop\nComment=Sign in to your organisation's MAG gateway\n" +
		"Exec=" + desktopQuote(exe) + " " + AutostartFlag + "\nIcon=magdesk\nTerminal=false\nX-GNOME-Autostart-enabled=true\n"
}

func desktopQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\\\`, `"`, `\\"`, "`", "\\\\`", `$`, `\\$`)
	return `"` + r.Replace(s) + `"`
}

// launchAgent is a per-user LaunchAgent (~/Library/LaunchAgents/<bundle id>.plist).
type launchAgent struct{ path string }

func userLaunchAgent(home string) launchAgent {
	return launchAgent{filepath.Join(home, "Library", "LaunchAgents", config.BundleID+".plist")}
}

func (l launchAgent) Location() string { return l.path }

func (l launchAgent) Enabled() (bool, error) { return fileExists(l.path) }

func (l launchAgent) Enable(exe string) error {
	data, err := launchAgentPlist(exe)
	if err != nil {
		return err
	}
	return writeAtomic(l.path, data)
}

func (l launchAgent) Disable() error { return removeIfExists(l.path) }

func launchAgentPlist(exe string) ([]byte, error) {
	return plist.MarshalIndent(map[string]any{
		"Label":            config.BundleID,
		"ProgramArguments": []string{exe, AutostartFlag},
		"RunAtLoad":        true,
		"ProcessType":      "Interactive",
	}, plist.XMLFormat, "\t")
}

// runValues is the user's Run key (HKCU\Software\Microsoft\Windows\CurrentVersion\Run).
type runValues interface {
	Get(name string) (string, bool, error)
	Set(name, value string) error
	Delete(name string) error
}

// runKey is the start-at-login value of the Run key.
type runKey struct{ key runValues }

const runValueName = "MAG Desktop"

func (r runKey) Location() string {
	return `HKCU\Software\Microsoft\Windows\CurrentVersion\Run\` + runValueName
}

func (r runKey) Enabled() (bool, error) {
	_, ok, err := r.key.Get(runValueName)
	return ok, err
}

func (r runKey) Enable(exe string) error { return r.key.Set(runValueName, runCommand(exe)) }

func (r runKey) Disable() error { return r.key.Delete(runValueName) }

// runCommand is the Run value: the quoted program and its argument.
func runCommand(exe string) string { return `"` + exe + `" ` + AutostartFlag }

func fileExists(path string) (bool, error) {
	_, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// writeAtomic writes a file readable by the user's session manager through a temporary file.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Daily setting keys, as config names them; DailySettings.Locked uses them.
const (
	KeyCertWarningDays = config.KeyCertWarningDays
	KeyStartAtLogin    = config.KeyStartAtLogin
	KeyStartMinimised  = config.KeyStartMinimised
	KeyCloseToTray     = config.KeyCloseToTray
)

// DailySettings are the start-up, tray and warning settings.
type DailySettings struct {
	StartAtLogin, StartMinimised, CloseToTray bool
	CertWarningDays                           int
	// Locked names the settings fixed by IT policy (keys above).
	Locked map[string]bool
	// Autostart is where the start-at-login entry is ("" when this OS has none).
	Autostart string
}

func (s *Service) autostart() Autostart {
	if s.o.Autostart != nil {
		return s.o.Autostart
	}
	return SystemAutostart()
}

// DailySettings implements Daily.
func (s *Service) DailySettings() DailySettings {
	s.mu.Lock()
	e := s.settings
	s.mu.Unlock()
	d := DailySettings{StartAtLogin: e.StartAtLogin, StartMinimised: e.StartMinimised, CloseToTray: e.CloseToTray,
		CertWarningDays: e.CertWarningDays, Locked: map[string]bool{}}
	for _, k := range []string{KeyCertWarningDays, KeyStartAtLogin, KeyStartMinimised, KeyCloseToTray} {
		d.Locked[k] = e.Locked(k)
	}
	if a := s.autostart(); a != nil {
		d.Autostart = a.Location()
	}
	return d
}

// SaveDailySettings implements Daily: what policy locks stays; the start-at-login entry is
// created or removed to match.
func (s *Service) SaveDailySettings(d DailySettings) error {
	demo := s.demoServer() != nil
	s.mu.Lock()
	e := s.settings
	u := e.Settings
	set := func(key string, apply func()) {
		if !e.Locked(key) {
			apply()
		}
	}
	set(KeyStartAtLogin, func() { u.StartAtLogin = d.StartAtLogin })
	set(KeyStartMinimised, func() { u.StartMinimised = d.StartMinimised })
	set(KeyCloseToTray, func() { u.CloseToTray = d.CloseToTray })
	set(KeyCertWarningDays, func() { u.CertWarningDays = d.CertWarningDays })
	var err error
	if demo {
		s.settings.Settings = u
	} else if err = config.SaveUser(s.o.Home, u); err == nil {
		var lerr error
		if s.settings, lerr = config.Load(s.o.Home); lerr != nil {
			s.o.Log.Warn("settings reloaded with a problem", "err", lerr)
		}
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.ApplyAutostart()
}

// ApplyAutostart makes the start-at-login entry match the effective setting (call it at start:
// a policy may have changed it). The demo never registers itself.
func (s *Service) ApplyAutostart() error {
	a := s.autostart()
	if a == nil {
		return nil
	}
	s.mu.Lock()
	want := s.settings.StartAtLogin && s.demo == nil
	s.mu.Unlock()
	have, err := a.Enabled()
	if err != nil {
		return newError(CodeAutostartFailed, a.Location(), err)
	}
	switch {
	case want:
		exe, err := os.Executable()
		if err != nil {
			return newError(CodeAutostartFailed, a.Location(), err)
		}
		if err := a.Enable(exe); err != nil {
			return newError(CodeAutostartFailed, a.Location(), err)
		}
	case have:
		if err := a.Disable(); err != nil {
			return newError(CodeAutostartFailed, a.Location(), err)
		}
	}
	return nil
}
