package certstore

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// NSSDB is a discovered NSS database.
type NSSDB struct {
	Dir      string
	Label    string
	ReadOnly bool
}

// DiscoverOptions says where to look; empty fields come from the environment.
type DiscoverOptions struct {
	Home          string // $HOME
	XDGConfigHome string // $XDG_CONFIG_HOME, default Home/.config
	XDGDataHome   string // $XDG_DATA_HOME, default Home/.local/share
	SystemDirs    []string
}

// DiscoverNSS finds the NSS databases of this user: the shared ~/.pki/nssdb (Chrome, Chromium,
// many tools), the XDG location newer Chromium uses, snap Chromium, and every Firefox profile
// (classic, XDG, snap and flatpak roots; profiles.ini including absolute paths; and any profile
// folder lying in a root). /etc/pki/nssdb is listed read-only.
func DiscoverNSS(o DiscoverOptions) []NSSDB {
	if o.Home == "" {
		o.Home, _ = os.UserHomeDir()
	}
	if o.XDGConfigHome == "" {
		o.XDGConfigHome = envOr("XDG_CONFIG_HOME", filepath.Join(o.Home, ".config"))
	}
	if o.XDGDataHome == "" {
		o.XDGDataHome = envOr("XDG_DATA_HOME", filepath.Join(o.Home, ".local", "share"))
	}
	if o.SystemDirs == nil {
		o.SystemDirs = []string{"/etc/pki/nssdb"}
	}
	var out []NSSDB
	seen := map[string]bool{}
	add := func(dir, label string, ro bool) {
		if !isNSSDir(dir) {
			return
		}
		key := dir
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			key = r
		}
		if seen[key] {
			return
		}
		seen[key] = true
		out = append(out, NSSDB{Dir: dir, Label: label, ReadOnly: ro})
	}
	add(filepath.Join(o.Home, ".pki", "nssdb"), "Chrome/Chromium and system tools (~/.pki/nssdb)", false)
	add(filepath.Join(o.XDGDataHome, "pki", "nssdb"), "Chromium (~/.local/share/pki/nssdb)", false)
	add(filepath.Join(o.Home, "snap", "chromium", "current", ".pki", "nssdb"), "Chromium (snap)", false)
	roots := []struct{ dir, label string }{
		{filepath.Join(o.Home, ".mozilla", "firefox"), "Firefox"},
		{filepath.Join(o.XDGConfigHome, "mozilla", "firefox"), "Firefox"},
		{filepath.Join(o.Home, "snap", "firefox", "common", ".mozilla", "firefox"), "Firefox (snap)"},
		{filepath.Join(o.Home, ".var", "app", "org.mozilla.firefox", ".mozilla", "firefox"), "Firefox (flatpak)"},
		{filepath.Join(o.Home, "Library", "Application Support", "Firefox"), "Firefox"},
	}
	for _, r := range roots {
		for _, p := range firefoxProfiles(r.dir) {
			add(p.dir, r.label+" profile "+p.name, false)
		}
	}
	for _, d := range o.SystemDirs {
		add(d, "system database "+d, true)
	}
	return out
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func isNSSDir(dir string) bool {
	return exists(filepath.Join(dir, "cert9.db")) || exists(filepath.Join(dir, "cert8.db"))
}

type ffProfile struct{ name, dir string }

// firefoxProfiles reads root/profiles.ini (Path relative to root unless IsRelative=0) and adds
// any profile folder in root (or root/Profiles, as on macOS) that profiles.ini does not name.
func firefoxProfiles(root string) []ffProfile {
	var out []ffProfile
	if f, err := os.Open(filepath.Join(root, "profiles.ini")); err == nil {
		out = parseProfilesINI(f, root)
		f.Close()
	}
	for _, pattern := range []string{filepath.Join(root, "*"), filepath.Join(root, "Profiles", "*")} {
		matches, _ := filepath.Glob(pattern)
		for _, m := range matches {
			out = append(out, ffProfile{name: filepath.Base(m), dir: m})
		}
	}
	return out
}

func parseProfilesINI(f *os.File, root string) []ffProfile {
	var out []ffProfile
	var cur *ffProfile
	relative := true
	path := ""
	flush := func() {
		if cur != nil && path != "" {
			p := path
			if relative {
				p = filepath.Join(root, filepath.FromSlash(path))
			}
			cur.dir = p
			if cur.name == "" {
				cur.name = filepath.Base(p)
			}
			out = append(out, *cur)
		}
		cur, relative, path = nil, true, ""
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "["):
			flush()
			if strings.HasPrefix(strings.ToLower(line), "[profile") {
				cur = &ffProfile{}
			}
		case cur != nil:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			switch strings.TrimSpace(k) {
			case "Name":
				cur.name = strings.TrimSpace(v)
			case "Path":
				path = strings.TrimSpace(v)
			case "IsRelative":
				relative = strings.TrimSpace(v) != "0"
			}
		}
	}
	flush()
	return out
}
