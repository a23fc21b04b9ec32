package packaging

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/pe"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/mag-desktop/magdesk/internal/config"
)

// distDir is the `make package` output named by MAGDESK_DIST (absolute, or relative to the
// repository root); the tests of this file skip without it (scripts/test.sh sets it after
// running scripts/package.sh).
func distDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("MAGDESK_DIST")
	if dir == "" {
		t.Skip("MAGDESK_DIST is not set: run scripts/package.sh and set MAGDESK_DIST=dist to test the packages")
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", dir) // tests run in packaging/
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("MAGDESK_DIST: %v", err)
	}
	return dir
}

func version(t *testing.T) string {
	return strings.TrimSpace(read(t, "../VERSION"))
}

// one returns the single file in dir matching pattern.
func one(t *testing.T, dir, pattern string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(m) != 1 {
		t.Fatalf("want one %s in %s, found %v", pattern, dir, m)
	}
	return m[0]
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed (scripts/deps.sh installs it)", name)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out) + stderr.String()
}

func contains(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

func TestDebMagdesk(t *testing.T) {
	dist := distDir(t)
	deb := one(t, dist, "magdesk_*_amd64.deb")
	contains(t, "dpkg-deb -I", run(t, "dpkg-deb", "-I", deb),
		"Package: magdesk", "Version: "+version(t), "Architecture: amd64", "libgl1", "postinst", "postrm")
	contains(t, "dpkg-deb -c", run(t, "dpkg-deb", "-c", deb),
		"./usr/bin/magdesk", "./usr/share/applications/"+config.BundleID+".desktop",
		"./usr/share/icons/hicolor/512x512/apps/"+config.BundleID+".png", "./etc/magdesk/",
		"./usr/share/doc/magdesk/examples/policy.json")

	root := t.TempDir()
	run(t, "dpkg-deb", "-x", deb, root)
	checkDesktopEntry(t, read(t, filepath.Join(root, "usr/share/applications", config.BundleID+".desktop")))
	if fi, err := os.Stat(filepath.Join(root, "etc/magdesk")); err != nil || !fi.IsDir() {
		t.Errorf("/etc/magdesk is not created: %v", err)
	}
	// The packaged binary runs and carries the version of the VERSION file.
	out, err := exec.Command(filepath.Join(root, "usr/bin/magdesk"), "--version").Output() // stdout only: Fyne may log to stderr
	if err != nil || strings.TrimSpace(string(out)) != "magdesk "+version(t) {
		t.Errorf("magdesk --version = %q, want %q", out, "magdesk "+version(t))
	}
}

func TestDebMagd(t *testing.T) {
	dist := distDir(t)
	deb := one(t, dist, "magd_*_amd64.deb")
	contains(t, "dpkg-deb -I", run(t, "dpkg-deb", "-I", deb), "Package: magd", "Version: "+version(t), "postinst", "prerm", "postrm")
	contains(t, "dpkg-deb -c", run(t, "dpkg-deb", "-c", deb),
		"./usr/bin/magd", "./usr/lib/systemd/system/magd.service", "./etc/default/magd")
	ctrl := t.TempDir()
	run(t, "dpkg-deb", "-e", deb, ctrl)
	contains(t, "conffiles", read(t, filepath.Join(ctrl, "conffiles")), "/etc/default/magd")
	contains(t, "postinst", read(t, filepath.Join(ctrl, "postinst")),
		"useradd --system", "install -d -o magd -g magd -m 0750 /var/lib/magd", "systemctl enable magd.service")
	contains(t, "postrm", read(t, filepath.Join(ctrl, "postrm")), "userdel magd")
	for _, script := range []string{"postinst", "prerm", "postrm"} {
		run(t, "sh", "-n", filepath.Join(ctrl, script)) // dpkg runs them with /bin/sh
	}

	root := t.TempDir()
	run(t, "dpkg-deb", "-x", deb, root)
	contains(t, "magd.service", read(t, filepath.Join(root, "usr/lib/systemd/system/magd.service")),
		"User=magd", "ExecStart=/usr/bin/magd serve --data /var/lib/magd $MAGD_OPTS", "WantedBy=multi-user.target")
	if _, err := exec.LookPath("systemd-analyze"); err == nil {
		// Only the unit's syntax: the magd user does not exist on the build machine.
		out, _ := exec.Command("systemd-analyze", "verify", "--man=no", filepath.Join(root, "usr/lib/systemd/system/magd.service")).CombinedOutput()
		if strings.Contains(string(out), "Unknown key") || strings.Contains(string(out), "Unknown section") {
			t.Errorf("systemd-analyze verify:\n%s", out)
		}
	}
}

func TestTarball(t *testing.T) {
	dist := distDir(t)
	tarball := one(t, dist, "magdesk-*-linux-amd64.tar.xz")
	list := run(t, "tar", "-tJf", tarball)
	contains(t, "tar.xz", list, "/bin/magdesk", "/share/applications/"+config.BundleID+".desktop", "/share/pixmaps/"+config.BundleID+".png", "/Makefile")
	var entry string
	for _, f := range strings.Split(list, "\n") {
		if strings.HasSuffix(f, ".desktop") {
			entry = run(t, "tar", "-xJOf", tarball, f)
		}
	}
	checkDesktopEntry(t, entry)
}

// versionResource reports whether the exe's resources carry v (UTF-16, as VS_VERSIONINFO does).
func versionResource(t *testing.T, path, v string) (gui bool, found bool) {
	t.Helper()
	f, err := pe.Open(path)
	if err != nil {
		t.Fatalf("%s is not a PE file: %v", path, err)
	}
	defer f.Close()
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok || f.FileHeader.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
		t.Fatalf("%s is not a 64-bit x86 PE", path)
	}
	rsrc := f.Section(".rsrc")
	if rsrc == nil {
		return oh.Subsystem == pe.IMAGE_SUBSYSTEM_WINDOWS_GUI, false
	}
	data, err := rsrc.Data()
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	for _, u := range utf16.Encode([]rune(v)) {
		want.WriteByte(byte(u))
		want.WriteByte(byte(u >> 8))
	}
	return oh.Subsystem == pe.IMAGE_SUBSYSTEM_WINDOWS_GUI, bytes.Contains(data, want.Bytes())
}

func TestWindowsExe(t *testing.T) {
	dist := distDir(t)
	exe := one(t, dist, "magdesk-*-windows-amd64.exe")
	gui, found := versionResource(t, exe, version(t))
	if !gui {
		t.Error("magdesk.exe is not a GUI-subsystem program")
	}
	if !found {
		t.Errorf("magdesk.exe has no version resource with %s", version(t))
	}
	checkLinkedVersion(t, exe)
}

// checkLinkedVersion asserts that the binary was linked with version.Version set from VERSION.
func checkLinkedVersion(t *testing.T, path string) {
	t.Helper()
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: no Go build info: %v", path, err)
	}
	want := "-X=" + versionVar + "=" + version(t)
	for _, s := range info.Settings {
		if s.Key == "-ldflags" && (strings.Contains(s.Value, want) || strings.Contains(s.Value, "-X "+versionVar+"="+version(t))) {
			return
		}
	}
	t.Errorf("%s was not linked with %s (build settings %v)", path, want, info.Settings)
}

const versionVar = "github.com/mag-desktop/magdesk/internal/version.Version"

func TestMSI(t *testing.T) {
	dist := distDir(t)
	msi := one(t, dist, "magdesk-*-windows-x64.msi")
	contains(t, "msiinfo tables", run(t, "msiinfo", "tables", msi), "Registry", "Shortcut", "Component", "Upgrade", "CustomAction", "AppSearch")
	props := run(t, "msiinfo", "export", msi, "Property")
	contains(t, "Property table", props, "ALLUSERS\t1", "ProductVersion\t"+version(t), "SecureCustomProperties\t")
	reg := run(t, "msiinfo", "export", msi, "Registry")
	comps := run(t, "msiinfo", "export", msi, "Component")
	contains(t, "Registry table", reg, "SOFTWARE\\Classes\\magdesk\t\tURL:MAG Desktop", "SOFTWARE\\Classes\\magdesk\tURL Protocol",
		"SOFTWARE\\Classes\\magdesk\\shell\\open\\command\t\t\"[INSTALLDIR]magdesk.exe\" \"%1\"")
	for _, k := range config.PolicyKeys() {
		prop := strings.ToUpper(k.Name)
		contains(t, "Registry table", reg, config.PolicyRegistryKey+"\t"+k.Name+"\t["+prop+"]\tPolicy"+k.Name)
		contains(t, "Component table", comps, "\t"+prop+"\t")
		secure := ""
		for _, l := range strings.Split(props, "\n") {
			if v, ok := strings.CutPrefix(l, "SecureCustomProperties\t"); ok {
				secure = strings.TrimSpace(v) // msiinfo writes CRLF
			}
		}
		if !strings.Contains(";"+secure+";", ";"+prop+";") {
			t.Errorf("%s is not a secure property (%q): a managed install would drop it", prop, secure)
		}
	}
	contains(t, "Shortcut table", run(t, "msiinfo", "export", msi, "Shortcut"), "ProgramMenuFolder\tMAG Desktop\tMagdeskExe")
	contains(t, "Package summary", run(t, "msiinfo", "suminfo", msi), "x64")

	out := t.TempDir()
	cmd := exec.Command("msiextract", "-C", out, msi)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("msiextract: %v\n%s", err, b)
	}
	exe := filepath.Join(out, "MAG Desktop", "magdesk.exe")
	if _, found := versionResource(t, exe, version(t)); !found {
		t.Errorf("the MSI's magdesk.exe has no version %s", version(t))
	}
}

// TestSigned verifies the Authenticode signatures of the test-signed build against the
// throwaway certificate, and that the unsigned release build does not pass as signed.
func TestSigned(t *testing.T) {
	dist := distDir(t)
	dir := filepath.Join(dist, "test-signed")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("built with a real signing certificate: no test-signed build (verify with the real CA)")
	}
	cert := filepath.Join(dir, "test-signing-cert.pem")
	for _, f := range []string{one(t, dir, "magdesk-*-windows-amd64.exe"), one(t, dir, "magdesk-*-windows-x64.msi")} {
		out := run(t, "osslsigncode", "verify", "-CAfile", cert, "-in", f)
		contains(t, "osslsigncode verify "+filepath.Base(f), out, "Signature verification: ok", "MAG Desktop test signing")
	}
	unsigned := one(t, dist, "magdesk-*-windows-amd64.exe")
	if out, err := exec.Command("osslsigncode", "verify", "-CAfile", cert, "-in", unsigned).CombinedOutput(); err == nil {
		t.Errorf("the unsigned exe verifies as signed:\n%s", out)
	}
}

func TestChecksums(t *testing.T) {
	dist := distDir(t)
	f, err := os.Open(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("bad line %q", sc.Text())
		}
		data, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			t.Fatal(err)
		}
		got := sha256.Sum256(data)
		if hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s: checksum mismatch", name)
		}
		n++
	}
	if n < 5 {
		t.Errorf("SHA256SUMS lists %d files", n)
	}
}
