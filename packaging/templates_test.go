package packaging

import (
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/mag-desktop/magdesk/internal/config"
)

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func policyNames() []string {
	var names []string
	for _, k := range config.PolicyKeys() {
		names = append(names, k.Name)
	}
	sort.Strings(names)
	return names
}

// TestADMX checks that the Group Policy template sets exactly the registry values the app reads,
// under the key it reads, and that every string and presentation it names exists in the ADML.
func TestADMX(t *testing.T) {
	var admx struct {
		Policies []struct {
			Name         string `xml:"name,attr"`
			Key          string `xml:"key,attr"`
			ValueName    string `xml:"valueName,attr"`
			DisplayName  string `xml:"displayName,attr"`
			Explain      string `xml:"explainText,attr"`
			Presentation string `xml:"presentation,attr"`
			Elements     struct {
				Inner []struct {
					XMLName   xml.Name
					ValueName string `xml:"valueName,attr"`
				} `xml:",any"`
			} `xml:"elements"`
		} `xml:"policies>policy"`
	}
	if err := xml.Unmarshal([]byte(read(t, "windows/admx/magdesk.admx")), &admx); err != nil {
		t.Fatal(err)
	}
	adml := read(t, "windows/admx/en-US/magdesk.adml")
	ref := regexp.MustCompile(`^\$\((string|presentation)\.([A-Za-z_]+)\)$`)
	var got []string
	for _, p := range admx.Policies {
		if p.Key != config.PolicyRegistryKey {
			t.Errorf("policy %s writes to %q, the app reads %q", p.Name, p.Key, config.PolicyRegistryKey)
		}
		if p.ValueName != "" {
			got = append(got, p.ValueName)
		}
		for _, e := range p.Elements.Inner {
			got = append(got, e.ValueName)
		}
		for _, r := range []string{p.DisplayName, p.Explain, p.Presentation} {
			if r == "" {
				continue
			}
			m := ref.FindStringSubmatch(r)
			if m == nil {
				t.Errorf("policy %s: bad reference %q", p.Name, r)
				continue
			}
			tag := map[string]string{"string": `<string id="`, "presentation": `<presentation id="`}[m[1]]
			if !strings.Contains(adml, tag+m[2]+`"`) {
				t.Errorf("policy %s: %s not in the ADML", p.Name, r)
			}
		}
	}
	sort.Strings(got)
	if want := policyNames(); !reflect.DeepEqual(got, want) {
		t.Errorf("ADMX value names %v, the app reads %v", got, want)
	}
}

// TestWXS checks that the MSI definition writes every policy value from a property, that the
// script sets a condition for each, and that the protocol handler points at the installed exe.
func TestWXS(t *testing.T) {
	wxs := read(t, "windows/magdesk.wxs")
	script := read(t, "../scripts/package.sh")
	// Well-formed first: wixl's own error on a lost closing tag only shows in make package.
	for d := xml.NewDecoder(strings.NewReader(wxs)); ; {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("the wxs is not well-formed XML: %v", err)
		}
	}
	if !strings.Contains(wxs, `<?define PolicyKey = "`+config.PolicyRegistryKey+`" ?>`) {
		t.Errorf("the wxs does not write to %s", config.PolicyRegistryKey)
	}
	re := regexp.MustCompile(`Name="([A-Za-z]+)" Type="string" Value="\[([A-Z]+)\]"`)
	var names []string
	for _, m := range re.FindAllStringSubmatch(wxs, -1) {
		names = append(names, m[1])
		if !strings.Contains(script, m[2]+":"+m[1]) {
			t.Errorf("scripts/package.sh MSI_POLICY lacks %s:%s (its component would be written unconditionally)", m[2], m[1])
		}
		if !strings.Contains(wxs, `<Property Id="`+m[2]+`"`) || !strings.Contains(wxs, `Custom Action="Keep`+m[1]+`"`) {
			t.Errorf("property %s is not declared or not kept on upgrade", m[2])
		}
	}
	sort.Strings(names)
	if want := policyNames(); !reflect.DeepEqual(names, want) {
		t.Errorf("wxs policy values %v, the app reads %v", names, want)
	}
	for _, want := range []string{`Key="SOFTWARE\Classes\magdesk" Name="URL Protocol"`,
		`Key="SOFTWARE\Classes\magdesk\shell\open\command" Type="string" Value="&quot;[INSTALLDIR]magdesk.exe&quot; &quot;%1&quot;"`,
		`InstallScope="perMachine"`, `Directory="ProgramMenuFolder"`, `<MajorUpgrade`} {
		if !strings.Contains(wxs, want) {
			t.Errorf("wxs lacks %s", want)
		}
	}
}

// TestExamplePolicies decodes the shipped examples with the app's own readers.
func TestExamplePolicies(t *testing.T) {
	p, err := config.JSONFile{Path: "linux/policy.json.example"}.ReadPolicy()
	if err != nil || p.Values[config.KeyServerURL] != "https://gateway.example.com" {
		t.Errorf("policy.json example: %v %v", p.Values, err)
	}

	var profile struct {
		PayloadContent []map[string]any
	}
	if _, err := plist.Unmarshal([]byte(read(t, "macos/magdesk.mobileconfig")), &profile); err != nil {
		t.Fatal(err)
	}
	if len(profile.PayloadContent) != 1 || profile.PayloadContent[0]["PayloadType"] != config.BundleID {
		t.Fatalf("the profile's payload must have PayloadType %s: %v", config.BundleID, profile.PayloadContent)
	}
	// What macOS writes to /Library/Managed Preferences is the payload's dictionary.
	data, err := plist.Marshal(profile.PayloadContent[0], plist.XMLFormat)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), config.BundleID+".plist")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	p, err = config.PlistFile{Path: path}.ReadPolicy()
	if err != nil {
		t.Fatalf("the example profile does not decode: %v", err)
	}
	if p.Values[config.KeyServerURL] != "https://gateway.example.com" || !slices.Equal(p.Values[config.KeyCertStores].([]string), []string{"file", "keychain"}) {
		t.Errorf("profile values = %v", p.Values)
	}
}

// TestDesktopEntryAndMetadata checks the URL scheme registration and the bundle id.
func TestDesktopEntryAndMetadata(t *testing.T) {
	checkDesktopEntry(t, read(t, "linux/magdesk.desktop"))
	toml := read(t, "../FyneApp.toml")
	if !strings.Contains(toml, `ID = "`+config.BundleID+`"`) {
		t.Errorf("FyneApp.toml ID is not %s", config.BundleID)
	}
	if !strings.Contains(toml, `ExecParams = " %u\nMimeType=x-scheme-handler/magdesk;"`) {
		t.Error("FyneApp.toml does not register the URL scheme in the tarball's desktop entry")
	}
}

// checkDesktopEntry asserts a desktop entry that opens magdesk:// links.
func checkDesktopEntry(t *testing.T, entry string) {
	t.Helper()
	lines := strings.Split(entry, "\n")
	if !slices.Contains(lines, "Exec=magdesk %u") {
		t.Errorf("desktop entry lacks Exec=magdesk %%u:\n%s", entry)
	}
	ok := false
	for _, l := range lines {
		if v, found := strings.CutPrefix(l, "MimeType="); found && slices.Contains(strings.Split(v, ";"), "x-scheme-handler/magdesk") {
			ok = true
		}
	}
	if !ok {
		t.Errorf("desktop entry does not register x-scheme-handler/magdesk:\n%s", entry)
	}
}
