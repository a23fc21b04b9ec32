package service

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mag-desktop/magdesk/internal/config"
)

// TestAutostartLinuxFiles: turning start at login on writes the XDG autostart entry under
// $XDG_CONFIG_HOME (running this executable with --autostart); off removes it.
func TestAutostartLinuxFiles(t *testing.T) {
	xdg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", xdg)
	home := t.TempDir()
	eff, _ := config.Load(home)
	s := NewService(Options{Home: home, Settings: eff, Autostart: xdgAutostart(os.Getenv("XDG_CONFIG_HOME"), home)})
	entry := filepath.Join(xdg, "autostart", "magdesk.desktop")
	if got := s.DailySettings().Autostart; got != entry {
		t.Fatalf("autostart location %q, want %q", got, entry)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		on   bool
	}{{"on", true}, {"on again", true}, {"off", false}, {"off again", false}} {
		d := s.DailySettings()
		d.StartAtLogin = tc.on
		if err := s.SaveDailySettings(d); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		data, err := os.ReadFile(entry)
		switch {
		case tc.on && err != nil:
			t.Fatalf("%s: no entry: %v", tc.name, err)
		case tc.on && !strings.Contains(string(data), "\nExec=\""+exe+"\" --autostart\n"):
			t.Fatalf("%s: entry does not run %s --autostart:\n%s", tc.name, exe, data)
		case !tc.on && !os.IsNotExist(err):
			t.Fatalf("%s: entry still there (%v)", tc.name, err)
		}
		// The setting survives a restart: it was saved with the user's settings.
		if again, _ := config.Load(home); again.StartAtLogin != tc.on {
			t.Fatalf("%s: saved start_at_login = %v", tc.name, again.StartAtLogin)
		}
	}
}

// fakeRun records what is done to the Run key.
type fakeRun struct {
	values map[string]string
	log    []string
}

func (f *fakeRun) Get(name string) (string, bool, error) {
	v, ok := f.values[name]
	return v, ok, nil
}
func (f *fakeRun) Set(name, value string) error {
	f.values[name] = value
	f.log = append(f.log, "set "+name+" = "+value)
	return nil
}
func (f *fakeRun) Delete(name string) error {
	delete(f.values, name)
	f.log = append(f.log, "delete "+name)
	return nil
}

// TestAutostartRecordedOutputs checks what the Windows and macOS entries hold against the
// recorded files in testdata, and the Desktop Entry quoting of awkward paths.
func TestAutostartRecordedOutputs(t *testing.T) {
	run := &fakeRun{values: map[string]string{}}
	rk := runKey{run}
	if err := rk.Enable(`C:\Program Files\MAG Desktop\magdesk.exe`); err != nil {
		t.Fatal(err)
	}
	if on, _ := rk.Enabled(); !on {
		t.Fatal("Run value not set")
	}
	if err := rk.Disable(); err != nil {
		t.Fatal(err)
	}
	if on, _ := rk.Enabled(); on {
		t.Fatal("Run value still set")
	}
	got := strings.Join(run.log, "\n") + "\n"
	if want := readGolden(t, "autostart_windows_run.txt"); got != want {
		t.Errorf("Run key operations:\n%s\nwant (testdata/autostart_windows_run.txt):\n%s", got, want)
	}

	la := userLaunchAgent(t.TempDir())
	if !strings.HasSuffix(la.Location(), "/Library/LaunchAgents/com.magdesktop.magdesk.plist") {
		t.Fatalf("LaunchAgent at %s", la.Location())
	}
	if err := la.Enable("/Applications/MAG Desktop.app/Contents/MacOS/magdesk"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(la.Location())
	if err != nil {
		t.Fatal(err)
	}
	if want := readGolden(t, "autostart_darwin.plist"); string(data) != want {
		t.Errorf("LaunchAgent:\n%s\nwant (testdata/autostart_darwin.plist):\n%s", data, want)
	}
	if err := la.Disable(); err != nil {
		t.Fatal(err)
	}
	if on, _ := la.Enabled(); on {
		t.Fatal("LaunchAgent still there")
	}

	for _, tc := range []struct{ exe, exec string }{
		{"/usr/bin/magdesk", `Exec="/usr/bin/magdesk" --autostart`},
		{`/opt/MAG "Desktop"/$bin/magdesk`, `Exec="/opt/MAG \\"Desktop\\"/\\$bin/magdesk" --autostart`},
		{`/home/a\b/magdesk`, `Exec="/home/a\\\\b/magdesk" --autostart`},
	} {
		if f := desktopFile(tc.exe); !strings.Contains(f, "\n"+tc.exec+"\n") {
			t.Errorf("%s: entry\n%s\nlacks %s", tc.exe, f, tc.exec)
		}
	}
}

func readGolden(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
