package netconf

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

type desktopReader struct{}

// OSReader reads the proxy settings of the desktop session: KDE's kioslaverc on KDE, GNOME's
// gsettings on GNOME and the desktops built on it. Without a desktop there is nothing to read
// and the environment variables decide.
func OSReader() SystemReader { return desktopReader{} }

func (desktopReader) ReadSystem(ctx context.Context) (System, error) {
	desktop := strings.ToUpper(os.Getenv("XDG_CURRENT_DESKTOP"))
	switch {
	case desktop == "":
		return System{}, nil
	case strings.Contains(desktop, "KDE"):
		dir := os.Getenv("XDG_CONFIG_HOME")
		if dir == "" {
			home, _ := os.UserHomeDir()
			dir = filepath.Join(home, ".config")
		}
		data, err := os.ReadFile(filepath.Join(dir, "kioslaverc"))
		if os.IsNotExist(err) {
			return System{Source: SourceKDE}, nil
		}
		if err != nil {
			return System{Source: SourceKDE}, err
		}
		return ParseKioslaverc(string(data), os.Getenv), nil
	}
	if _, err := exec.LookPath("gsettings"); err != nil {
		return System{}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "gsettings", "list-recursively", "org.gnome.system.proxy").Output()
	if err != nil {
		return System{Source: SourceGNOME}, fmt.Errorf("gsettings: %w", err)
	}
	return ParseGsettings(string(out)), nil
}
