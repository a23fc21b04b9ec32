// Package userdirs finds the folders a desktop app offers by default when the user saves a
// file: the user's documents folder as the system names it.
package userdirs

import (
	"os"
	"path/filepath"
)

// Documents is the user's documents folder (the XDG user dir on Linux, the Known Folder on
// Windows, ~/Documents on macOS). When it is not set or missing, the home folder; when even
// that is unknown, the working directory.
func Documents() string {
	home, _ := os.UserHomeDir()
	if d := documentsDir(home); d != "" && isDir(d) {
		return d
	}
	if home != "" {
		return home
	}
	return "."
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// inHome is the conventional Documents folder under home.
func inHome(home string) string {
	if home == "" {
		return ""
	}
	return filepath.Join(home, "Documents")
}
