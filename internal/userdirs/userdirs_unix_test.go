//go:build !windows && !darwin

package userdirs

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseUserDirs(t *testing.T) {
	cases := []struct{ name, file, want string }{
		{"english", "XDG_DESKTOP_DIR=\"$HOME/Desktop\"\nXDG_DOCUMENTS_DIR=\"$HOME/Documents\"\n", "/home/pat/Documents"},
		{"german", "# written by xdg-user-dirs-update\nXDG_DOCUMENTS_DIR=\"$HOME/Dokumente\"\n", "/home/pat/Dokumente"},
		{"absolute", "XDG_DOCUMENTS_DIR=\"/srv/docs/pat\"\n", "/srv/docs/pat"},
		{"switched off", "XDG_DOCUMENTS_DIR=\"$HOME/\"\n", ""},
		{"relative is ignored", "XDG_DOCUMENTS_DIR=\"docs\"\n", ""},
		{"absent", "XDG_MUSIC_DIR=\"$HOME/Music\"\n", ""},
	}
	for _, c := range cases {
		got := parseUserDirs(bufio.NewScanner(strings.NewReader(c.file)), "/home/pat")
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestDocumentsFallsBackToHome(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("XDG_DOCUMENTS_DIR", "")
	if got := Documents(); got != home {
		t.Fatalf("no Documents folder: %q, want the home %q", got, home)
	}
	docs := filepath.Join(home, "Papiere")
	if err := os.MkdirAll(filepath.Join(home, ".config"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(docs, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".config", "user-dirs.dirs"), []byte("XDG_DOCUMENTS_DIR=\"$HOME/Papiere\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := Documents(); got != docs {
		t.Fatalf("user-dirs.dirs: %q, want %q", got, docs)
	}
}
