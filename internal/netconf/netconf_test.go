package netconf

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type fixedSystem struct {
	s   System
	err error
}

func (f fixedSystem) ReadSystem(context.Context) (System, error) { return f.s, f.err }

func noCreds(string) (string, string, bool) { return "", "", false }

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestBypassed(t *testing.T) {
	list := []string{"<local>", "*.corp.example.com", ".partner.example.org", "example.net", "10.0.0.0/8",
		"169.254/16", "192.168.1.*", "gateway.example.com:8443", "fd00::/8"}
	for _, c := range []struct {
		host string
		want bool
	}{
		{"printer", true},
		{"a.corp.example.com", true},
		{"corp.example.com", false},
		{"x.partner.example.org", true},
		{"partner.example.org", false},
		{"example.net", true},
		{"www.example.net", true},
		{"notexample.net", false},
		{"10.1.2.3", true},
		{"11.1.2.3", false},
		{"169.254.10.1", true},
		{"192.168.1.20", true},
		{"192.168.2.20", false},
		{"GATEWAY.example.com.", true},
		{"[fd00::1]", true},
		{"gateway.example.org", false},
	} {
		if got := Bypassed(list, c.host); got != c.want {
			t.Errorf("Bypassed(%q) = %v, want %v", c.host, got, c.want)
		}
	}
	if !Bypassed([]string{"*"}, "anything.example") {
		t.Error(`"*" must bypass everything`)
	}
}

func TestParseProxy(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"proxy.example.com:3128", "http://proxy.example.com:3128", true},
		{"http://user:pw@proxy.example.com:3128/", "http://user:pw@proxy.example.com:3128", true},
		{"socks5://127.0.0.1:1080", "socks5://127.0.0.1:1080", true},
		{"ftp://proxy.example.com", "", false},
		{"http://proxy.example.com:99999", "", false},
		{"", "", false},
		{"http://", "", false},
	} {
		u, err := ParseProxy(c.in)
		switch {
		case c.ok && (err != nil || u.String() != c.want):
			t.Errorf("ParseProxy(%q) = %v, %v; want %s", c.in, u, err, c.want)
		case !c.ok && err == nil:
			t.Errorf("ParseProxy(%q) = %v, want an error", c.in, u)
		case !c.ok && strings.Contains(err.Error(), "pw"):
			t.Errorf("the error shows the password: %v", err)
		}
	}
}

func TestParsePACAnswers(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"DIRECT", "", true},
		{"PROXY proxy.example.com:3128; DIRECT", "http://proxy.example.com:3128", true},
		{"  HTTPS secure.example.com:443 ", "https://secure.example.com:443", true},
		{"SOCKS5 socks.example.com:1080", "socks5://socks.example.com:1080", true},
		{"SOCKS4 old.example.com:1080; PROXY p.example.com:8080", "http://p.example.com:8080", true},
		{"QUIC q.example.com:443", "", false},
		{"", "", false},
	} {
		u, err := ParsePAC(c.in)
		got := ""
		if u != nil {
			got = u.String()
		}
		if c.ok != (err == nil) || got != c.want {
			t.Errorf("ParsePAC(%q) = %q, %v; want %q (ok %v)", c.in, got, err, c.want, c.ok)
		}
	}
}

// TestPACScript runs a corporate PAC script through the standard helper functions.
func TestPACScript(t *testing.T) {
	abs, _ := filepath.Abs("testdata/corp.pac")
	r := New(Options{Config: Config{Mode: ModePAC, PACURL: "file://" + abs, Origin: "the policy"}, Credentials: noCreds})
	for _, c := range []struct{ target, want string }{
		{"https://printer/", ""},
		{"https://wiki.intranet.example.com/", ""},
		{"https://10.20.30.40:8443/", ""},
		{"https://printer.example.com/", ""},
		{"https://app.partner.example.org/", "http://partner-proxy.example.com:8080"},
		{"https://gateway.example.com:8443/v1/meta", "http://proxy.example.com:3128"},
		{"http://gateway.example.com/", "http://proxy.example.com:8080"},
	} {
		d, err := r.Decide(context.Background(), mustURL(t, c.target))
		if err != nil {
			t.Fatalf("%s: %v", c.target, err)
		}
		got := ""
		if d.Proxy != nil {
			got = d.Proxy.String()
		}
		if got != c.want || d.Script == "" || !strings.Contains(d.Why, "answers") {
			t.Errorf("%s: proxy %q (why %q), want %q", c.target, got, d.Why, c.want)
		}
	}
}

func TestPACHelpers(t *testing.T) {
	s, err := newPAC("t.pac", `function FindProxyForURL(u, h) { return eval(h); }`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ expr, want string }{
		{`shExpMatch("http://a.example.com/x", "*.example.com/*")`, "true"},
		{`shExpMatch("a+b.example.com", "a+b.*")`, "true"},
		{`shExpMatch("ab", "a?c")`, "false"},
		{`dnsDomainIs("www.Example.com", ".example.com")`, "true"},
		{`dnsDomainIs("example.org", ".example.com")`, "false"},
		{`localHostOrDomainIs("www", "www.example.com")`, "true"},
		{`localHostOrDomainIs("www.example.org", "www.example.com")`, "false"},
		{`isInNet("192.168.1.7", "192.168.0.0", "255.255.0.0")`, "true"},
		{`isInNet("192.169.1.7", "192.168.0.0", "255.255.0.0")`, "false"},
		{`isInNet("localhost", "127.0.0.0", "255.0.0.0")`, "true"},
		{`dnsResolve("127.0.0.1")`, "127.0.0.1"},
		{`String(dnsResolve("no-such-host.invalid"))`, "null"},
		{`isResolvable("no-such-host.invalid")`, "false"},
		{`/^\d+\.\d+\.\d+\.\d+$/.test(myIpAddress())`, "true"},
		{`dnsDomainLevels("a.b.c")`, "2"},
		{`isPlainHostName("intranet")`, "true"},
		{`isInNetEx("fd00::5", "fd00::/8")`, "true"},
		{`weekdayRange("SUN", "SAT")`, "true"},
		{`weekdayRange("XYZ")`, "false"},
		{`timeRange(0, 24)`, "true"},
		{`dateRange(1, 31)`, "true"},
		{`dateRange("JAN", "DEC")`, "true"},
		{`dateRange(1900, 1901)`, "false"},
		{`dateRange(2000, 3000, "GMT")`, "true"},
	} {
		got, err := s.find("https://x/", c.expr)
		if err != nil || got != c.want {
			t.Errorf("%s = %q, %v; want %q", c.expr, got, err, c.want)
		}
	}
}

func TestPACFailures(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/loop.pac":
			_, _ = w.Write([]byte(`function FindProxyForURL(u, h) { for (;;) {} }`))
		case "/broken.pac":
			_, _ = w.Write([]byte(`function FindProxyForURL(u, h) { return "PROXY `))
		case "/nofunc.pac":
			_, _ = w.Write([]byte(`var x = 1;`))
		case "/weird.pac":
			_, _ = w.Write([]byte(`function FindProxyForURL(u, h) { return "QUIC x:1"; }`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	for _, c := range []struct{ path, code string }{
		{"/missing.pac", CodePACUnavailable},
		{"/loop.pac", CodePACFailed},
		{"/broken.pac", CodePACFailed},
		{"/nofunc.pac", CodePACFailed},
		{"/weird.pac", CodePACFailed},
	} {
		r := New(Options{Config: Config{Mode: ModePAC, PACURL: srv.URL + c.path}, Credentials: noCreds})
		start := time.Now()
		_, err := r.Decide(context.Background(), mustURL(t, "https://gateway.example.com/"))
		var ne *Error
		if !errors.As(err, &ne) || ne.Code != c.code || ne.Script != srv.URL+c.path {
			t.Errorf("%s: %v, want code %s", c.path, err, c.code)
		}
		if time.Since(start) > 3*pacRunTime {
			t.Errorf("%s took %v", c.path, time.Since(start))
		}
	}
	// A failed download is not retried on every request.
	r := New(Options{Config: Config{Mode: ModePAC, PACURL: srv.URL + "/missing.pac"}, Credentials: noCreds})
	before := hits.Load()
	for range 3 {
		_, _ = r.Decide(context.Background(), mustURL(t, "https://gateway.example.com/"))
	}
	if n := hits.Load() - before; n != 1 {
		t.Errorf("%d downloads of a missing script, want 1", n)
	}
}

func TestResolverModes(t *testing.T) {
	manual := fixedSystem{s: System{Source: SourceWinINet, Proxy: "sys-proxy.example.com:3128", Bypass: []string{"*.corp.example.com"}}}
	env := map[string]string{"HTTPS_PROXY": "http://env-proxy.example.com:8080", "NO_PROXY": "skip.example.com"}
	getenv := func(k string) string { return env[k] }
	for _, c := range []struct {
		name    string
		cfg     Config
		sys     SystemReader
		target  string
		want    string
		whyPart string
	}{
		{"direct by policy", Config{Mode: ModeDirect, Origin: "your organisation's policy"}, manual, "https://gw.example.com", "", "directly"},
		{"fixed", Config{Mode: ModeFixed, URL: "http://fixed.example.com:3128"}, manual, "https://gw.example.com", "http://fixed.example.com:3128", "name this proxy"},
		{"fixed from URL alone", Config{URL: "http://fixed.example.com:3128"}, manual, "https://gw.example.com", "http://fixed.example.com:3128", "name this proxy"},
		{"fixed bypassed", Config{Mode: ModeFixed, URL: "http://fixed.example.com:3128", Bypass: []string{"gw.example.com"}}, manual, "https://gw.example.com", "", "bypass"},
		{"system proxy", Config{}, manual, "https://gw.example.com", "http://sys-proxy.example.com:3128", SourceWinINet},
		{"system bypass", Config{}, manual, "https://gw.corp.example.com", "", "bypass list"},
		{"system says nothing: environment", Config{}, fixedSystem{s: System{Source: SourceGNOME}}, "https://gw.example.com", "http://env-proxy.example.com:8080", "HTTPS_PROXY"},
		{"environment NO_PROXY", Config{}, fixedSystem{}, "https://skip.example.com", "", "NO_PROXY"},
		{"unreadable system: environment", Config{}, fixedSystem{err: errors.New("gsettings: exit 1")}, "https://gw.example.com", "http://env-proxy.example.com:8080", "HTTPS_PROXY"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := New(Options{Config: c.cfg, System: c.sys, Env: getenv, Credentials: noCreds})
			d, err := r.Decide(context.Background(), mustURL(t, c.target))
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if d.Proxy != nil {
				got = d.Proxy.String()
			}
			if got != c.want || !strings.Contains(d.Why, c.whyPart) {
				t.Errorf("proxy %q why %q; want %q with %q", got, d.Why, c.want, c.whyPart)
			}
		})
	}
}

func TestCredentialsFillTheProxyURL(t *testing.T) {
	var asked atomic.Int32
	creds := func(hp string) (string, string, bool) {
		asked.Add(1)
		return "alice", "s3cret", hp == "fixed.example.com:3128"
	}
	r := New(Options{Config: Config{Mode: ModeFixed, URL: "http://fixed.example.com:3128"}, Credentials: creds})
	req := httptest.NewRequest("GET", "https://gw.example.com/", nil)
	for range 3 {
		u, err := r.Proxy(req)
		if err != nil || u.User.Username() != "alice" {
			t.Fatalf("proxy %v, %v", u, err)
		}
		if pw, _ := u.User.Password(); pw != "s3cret" {
			t.Fatal("no password")
		}
	}
	if asked.Load() != 1 {
		t.Errorf("the keyring was asked %d times, want 1", asked.Load())
	}
	d, _ := r.Decide(context.Background(), req.URL)
	if strings.Contains(d.ProxyText()+d.Why, "s3cret") {
		t.Error("the explanation shows the password")
	}
	// Credentials in the proxy URL win and are never shown.
	r = New(Options{Config: Config{Mode: ModeFixed, URL: "http://bob:pw123@fixed.example.com:3128"}, Credentials: creds})
	d, _ = r.Decide(context.Background(), req.URL)
	if d.Proxy.User.Username() != "bob" || strings.Contains(d.ProxyText(), "pw123") || strings.Contains(d.ProxyText(), "bob") {
		t.Errorf("decision %+v text %q", d, d.ProxyText())
	}
}

func TestConfigCheck(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		ok  bool
	}{
		{Config{}, true},
		{Config{Mode: ModeDirect}, true},
		{Config{Mode: ModeFixed, URL: "proxy:3128"}, true},
		{Config{Mode: ModeFixed}, false},
		{Config{Mode: ModePAC, PACURL: "https://pac.example.com/p.pac"}, true},
		{Config{Mode: ModePAC, PACURL: "ftp://pac.example.com/p.pac"}, false},
		{Config{Mode: "auto"}, false},
	} {
		if err := c.cfg.Check(); (err == nil) != c.ok {
			t.Errorf("%+v: %v", c.cfg, err)
		}
	}
}
