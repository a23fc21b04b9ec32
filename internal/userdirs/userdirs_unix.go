//go:build !windows && !darwin

package userdirs

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// documentsDir is XDG_DOCUMENTS_DIR from the environment or from user-dirs.dirs, which
// xdg-user-dirs writes in the user's language ("~/Dokumente", "~/Documents"...).
func documentsDir(home string) string {
	if d := os.Getenv("XDG_DOCUMENTS_DIR"); d != "" {
		return d
	}
	cfg := os.Getenv("XDG_CONFIG_HOME")
	if cfg == "" && home != "" {
		cfg = filepath.Join(home, ".config")
	}
	if cfg != "" {
		if f, err := os.Open(filepath.Join(cfg, "user-dirs.dirs")); err == nil {
			defer f.Close()
			if d := parseUserDirs(bufio.NewScanner(f), home); d != "" {
				return d
			}
		}
	}
	return inHome(home)
}

// parseUserDirs reads XDG_DOCUMENTS_DIR="$HOME/..." lines; a value equal to $HOME means the
// user switched the folder off, which counts as unset.
func parseUserDirs(sc *bufio.Scanner, home string) string {
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		v, ok := strings.CutPrefix(line, "XDG_DOCUMENTS_DIR=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"`)
		if rest, ok := strings.CutPrefix(v, "$HOME"); ok {
			if home == "" {
				return ""
			}
			v = filepath.Join(home, rest)
		}
		if !filepath.IsAbs(v) || filepath.Clean(v) == filepath.Clean(home) {
			return ""
		}
		return filepath.Clean(v)
	}
	return ""
}
