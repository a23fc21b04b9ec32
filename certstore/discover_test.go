package certstore

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func TestDiscoverNSS(t *testing.T) {
	home := t.TempDir()
	elsewhere := t.TempDir()
	mkdb := func(dir, file string) string {
		os.MkdirAll(dir, 0o700)
		os.WriteFile(filepath.Join(dir, file), nil, 0o600)
		return dir
	}
	want := []string{
		mkdb(filepath.Join(home, ".pki", "nssdb"), "cert9.db"),
		mkdb(filepath.Join(home, ".local", "share", "pki", "nssdb"), "cert9.db"),
		mkdb(filepath.Join(home, "snap", "chromium", "current", ".pki", "nssdb"), "cert9.db"),
		mkdb(filepath.Join(home, ".mozilla", "firefox", "abcd.default-release"), "cert9.db"),
		mkdb(filepath.Join(home, ".mozilla", "firefox", "old.legacy"), "cert8.db"), // dbm: profile
		mkdb(filepath.Join(elsewhere, "work profile"), "cert9.db"),                 // profiles.ini IsRelative=0
		mkdb(filepath.Join(home, ".config", "mozilla", "firefox", "Profiles", "x1.default"), "cert9.db"),
		mkdb(filepath.Join(home, "snap", "firefox", "common", ".mozilla", "firefox", "s.default"), "cert9.db"),
		mkdb(filepath.Join(home, ".var", "app", "org.mozilla.firefox", ".mozilla", "firefox", "f.default"), "cert9.db"),
		mkdb(filepath.Join(home, "Library", "Application Support", "Firefox", "Profiles", "m.default"), "cert9.db"),
	}
	// Not databases: an empty profile and a browser that was never started.
	os.MkdirAll(filepath.Join(home, ".mozilla", "firefox", "empty.profile"), 0o700)
	ini := "[General]\nStartWithLastProfile=1\n\n[Profile0]\nName=default-release\nIsRelative=1\nPath=abcd.default-release\n\n" +
		"[Profile1]\nName=Work\nIsRelative=0\nPath=" + filepath.Join(elsewhere, "work profile") + "\n\n[Install4F96D1932A9F858E]\nDefault=abcd.default-release\n"
	os.WriteFile(filepath.Join(home, ".mozilla", "firefox", "profiles.ini"), []byte(ini), 0o600)
	// A symlinked alias of a database is listed once.
	os.Symlink(filepath.Join(home, ".pki"), filepath.Join(home, "alias"))
	sys := mkdb(filepath.Join(t.TempDir(), "etc-pki-nssdb"), "cert9.db")

	dbs := DiscoverNSS(DiscoverOptions{Home: home, XDGConfigHome: filepath.Join(home, ".config"), XDGDataHome: filepath.Join(home, ".local", "share"), SystemDirs: []string{sys, filepath.Join(home, "alias", "nssdb")}})
	var got []string
	labels := map[string]string{}
	for _, d := range dbs {
		got = append(got, d.Dir)
		labels[d.Dir] = d.Label
		if d.ReadOnly != (d.Dir == sys) {
			t.Errorf("%s read-only = %v", d.Dir, d.ReadOnly)
		}
	}
	want = append(want, sys)
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if labels[filepath.Join(elsewhere, "work profile")] != "Firefox profile Work" {
		t.Fatalf("label from profiles.ini: %q", labels[filepath.Join(elsewhere, "work profile")])
	}
	if NewNSSStore(filepath.Join(home, ".mozilla", "firefox", "old.legacy"), "", nil).Location().Store[:4] != "dbm:" {
		t.Fatal("cert8.db must be opened as dbm:")
	}
}
