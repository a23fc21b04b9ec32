package server_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/internal/server"
	"github.com/mag-desktop/magdesk/internal/server/password"
	"github.com/mag-desktop/magdesk/internal/testenv"
)

// copyDir copies a folder as IT would (rsync -a): same files, same modes.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), info.Mode().Perm())
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSharedDataFolder: `magd init` makes a private folder whose copies let instances share one
// PostgreSQL database and one CA; a folder that was never initialised, or was initialised
// separately, is refused with what to do.
func TestSharedDataFolder(t *testing.T) {
	db := testenv.Postgres(t)
	now := time.Now()
	a := t.TempDir()
	if err := server.Init(a, []string{"magd.example.com"}, now); err != nil {
		t.Fatal(err)
	}
	key, _ := os.ReadFile(filepath.Join(a, "secret.key"))
	if err := server.Init(a, []string{"magd.example.com"}, now); err != nil { // again: keeps the keys
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(filepath.Join(a, "secret.key")); len(key) != 32 || !bytes.Equal(again, key) {
		t.Fatal("init again replaced secret.key")
	}
	for _, c := range []struct {
		path string
		mode fs.FileMode
	}{{"", 0o700}, {"secret.key", 0o600}, {"ca", 0o700}, {"ca/ca-key.pem", 0o600}, {"ca/server-key.pem", 0o600}} {
		if st, err := os.Stat(filepath.Join(a, c.path)); err != nil || st.Mode().Perm() != c.mode {
			t.Errorf("%s: %v %v, want mode %o", c.path, st, err, c.mode)
		}
	}
	b := t.TempDir()
	copyDir(t, a, b)

	open := func(dir string) (*server.Server, error) {
		s, err := server.Open(server.Config{DataDir: dir, Database: db, Addr: "127.0.0.1:0", Argon2: password.Fast})
		if err == nil {
			t.Cleanup(func() { _ = s.Close() })
		}
		return s, err
	}
	sa, err := open(a)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := open(b)
	if err != nil {
		t.Fatalf("an instance on a copy of the folder: %v", err)
	}
	if !bytes.Equal(sa.CACertPEM(), sb.CACertPEM()) {
		t.Fatal("the two instances have different CAs")
	}

	other := t.TempDir()
	if err := server.Init(other, nil, now); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, dir string
		want      []string
	}{
		{"never initialised", t.TempDir(), []string{"lacks secret.key", "copy their data folder"}},
		{"initialised separately", other, []string{"not the one the database was set up with", "copy the data folder"}},
	} {
		if _, err := open(c.dir); err == nil {
			t.Errorf("%s: opened", c.name)
		} else {
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: %v, want it to say %q", c.name, err, w)
				}
			}
		}
	}
}
