package netconf

import (
	"bufio"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// readRegExport reads a regedit export (.reg) into the values the Windows reader collects.
func readRegExport(t *testing.T, name string) WinINetValues {
	t.Helper()
	var v WinINetValues
	text := strings.ReplaceAll(readTestdata(t, name), "\\\n", "")
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		k, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || !strings.HasPrefix(k, `"`) {
			continue
		}
		k = strings.Trim(k, `"`)
		var str string
		var bin []byte
		switch {
		case strings.HasPrefix(val, "dword:"):
			n, err := strconv.ParseUint(strings.TrimPrefix(val, "dword:"), 16, 32)
			if err != nil {
				t.Fatal(err)
			}
			if k == "ProxyEnable" {
				v.ProxyEnable = uint32(n)
			}
			continue
		case strings.HasPrefix(val, "hex:"):
			h := strings.NewReplacer(",", "", " ", "").Replace(strings.TrimPrefix(val, "hex:"))
			var err error
			if bin, err = hex.DecodeString(h); err != nil {
				t.Fatal(err)
			}
		default:
			str = strings.Trim(val, `"`)
		}
		switch k {
		case "ProxyServer":
			v.ProxyServer = str
		case "ProxyOverride":
			v.ProxyOverride = str
		case "AutoConfigURL":
			v.AutoConfigURL = str
		case "DefaultConnectionSettings":
			v.Connection = bin
		case "WinHttpSettings":
			v.WinHTTP = bin
		}
	}
	return v
}

func TestWindowsReaderOverRegistryExports(t *testing.T) {
	for _, c := range []struct {
		file string
		want System
	}{
		{"wininet-manual.reg", System{Source: SourceWinINet, Proxy: "secure-proxy.example.com:3128",
			Bypass: []string{"*.corp.example.com", "10.*", "<local>"}}},
		{"wininet-pac.reg", System{Source: SourceWinINet, PACURL: "http://pac.corp.example.com/proxy.pac", AutoDetect: true}},
		{"wininet-wpad.reg", System{Source: SourceWinINet, AutoDetect: true}},
		{"winhttp-only.reg", System{Source: SourceWinHTTP, Proxy: "winhttp-proxy.example.com:8080",
			Bypass: []string{"<local>", "*.corp.example.com"}}},
	} {
		t.Run(c.file, func(t *testing.T) {
			if got := FromWinINet(readRegExport(t, c.file)); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
	// The blob alone (ProxyEnable not written, as on machines configured by Group Policy
	// preferences) still enables the proxy.
	v := readRegExport(t, "wininet-manual.reg")
	v.ProxyEnable, v.ProxyServer, v.ProxyOverride = 0, "", ""
	if got := FromWinINet(v); got.Proxy != "secure-proxy.example.com:3128" || len(got.Bypass) != 3 {
		t.Errorf("from the blob alone: %+v", got)
	}
	// A truncated blob is not trusted beyond what it holds.
	if got := FromWinINet(WinINetValues{Connection: []byte{0x46, 0, 0, 0}}); got.Configured() {
		t.Errorf("truncated blob: %+v", got)
	}
}

func TestMacOSReaderOverScutilOutput(t *testing.T) {
	for _, c := range []struct {
		file string
		want System
	}{
		{"scutil-manual.txt", System{Source: SourceMacOS, Proxy: "http://proxy.example.com:3128",
			Bypass: []string{"*.local", "169.254/16", "intranet.example.com", "<local>"}}},
		{"scutil-pac.txt", System{Source: SourceMacOS, PACURL: "http://pac.corp.example.com/proxy.pac",
			Bypass: []string{"*.local", "169.254/16"}}},
		{"scutil-none.txt", System{Source: SourceMacOS, AutoDetect: true, Bypass: []string{"*.local", "169.254/16"}}},
	} {
		t.Run(c.file, func(t *testing.T) {
			if got := ParseScutil(readTestdata(t, c.file)); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestLinuxDesktopReaders(t *testing.T) {
	env := map[string]string{"HTTPS_PROXY": "http://env-proxy.example.com:3128", "NO_PROXY": "localhost,.corp.example.com"}
	getenv := func(k string) string { return env[k] }
	for _, c := range []struct {
		name string
		got  System
		want System
	}{
		{"gnome manual", ParseGsettings(readTestdata(t, "gsettings-manual.txt")), System{Source: SourceGNOME,
			Proxy: "http://secure-proxy.example.com:3128", Bypass: []string{"localhost", "127.0.0.0/8", "::1", "*.corp.example.com"}}},
		{"gnome auto", ParseGsettings(readTestdata(t, "gsettings-auto.txt")), System{Source: SourceGNOME,
			PACURL: "http://wpad.corp.example.com/wpad.dat", Bypass: []string{"localhost", "127.0.0.0/8", "::1"}}},
		{"kde manual", ParseKioslaverc(readTestdata(t, "kioslaverc-manual"), getenv), System{Source: SourceKDE,
			Proxy: "http://secure-proxy.example.com:3128", Bypass: []string{"localhost", "127.0.0.1", ".corp.example.com"}}},
		{"kde from environment", ParseKioslaverc(readTestdata(t, "kioslaverc-env"), getenv), System{Source: SourceKDE,
			Proxy: "http://env-proxy.example.com:3128", Bypass: []string{"localhost", ".corp.example.com"}}},
		{"kde pac", ParseKioslaverc(readTestdata(t, "kioslaverc-pac"), getenv), System{Source: SourceKDE,
			PACURL: "http://pac.corp.example.com/proxy.pac"}},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", c.name, c.got, c.want)
		}
	}
}

func TestWPADCandidates(t *testing.T) {
	got := WPADCandidates([]string{"eu.corp.example.com.", "corp.example.com", "localdomain"})
	want := []string{"http://wpad.eu.corp.example.com/wpad.dat", "http://wpad.corp.example.com/wpad.dat", "http://wpad.example.com/wpad.dat"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := parseResolvConf([]byte("nameserver 10.0.0.1\nsearch eu.corp.example.com corp.example.com\n")); len(got) != 2 {
		t.Errorf("resolv.conf search domains: %v", got)
	}
}
