package netconf

import (
	"bufio"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Where Linux desktops keep their proxy settings, for explanations.
const (
	SourceGNOME = "the GNOME proxy settings"
	SourceKDE   = "the KDE proxy settings"
)

var gvariantString = regexp.MustCompile(`'((?:[^'\\]|\\.)*)'`)

// ParseGsettings reads `gsettings list-recursively org.gnome.system.proxy`.
func ParseGsettings(out string) System {
	vals := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.SplitN(strings.TrimSpace(sc.Text()), " ", 3)
		if len(f) == 3 {
			vals[strings.TrimPrefix(f[0], "org.gnome.system.proxy")+" "+f[1]] = f[2]
		}
	}
	str := func(k string) string {
		if m := gvariantString.FindStringSubmatch(vals[k]); m != nil {
			return strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(m[1])
		}
		return ""
	}
	s := System{Source: SourceGNOME}
	for _, m := range gvariantString.FindAllStringSubmatch(vals[" ignore-hosts"], -1) {
		s.Bypass = append(s.Bypass, m[1])
	}
	switch str(" mode") {
	case "auto":
		if s.PACURL = str(" autoconfig-url"); s.PACURL == "" {
			s.AutoDetect = true
		}
	case "manual":
		proxy := func(kind, scheme string) string {
			host, port := str("."+kind+" host"), vals["."+kind+" port"]
			if host == "" || port == "" || port == "0" {
				return ""
			}
			u := url.URL{Scheme: scheme, Host: host + ":" + port}
			if kind == "http" && vals[".http use-authentication"] == "true" && str(".http authentication-user") != "" {
				u.User = url.UserPassword(str(".http authentication-user"), str(".http authentication-password"))
			}
			return u.String()
		}
		s.Proxy = proxy("https", "http")
		if s.Proxy == "" && vals[" use-same-proxy"] != "false" {
			s.Proxy = proxy("http", "http")
		}
		if s.Proxy == "" {
			s.Proxy = proxy("socks", "socks5")
		}
	}
	return s
}

// ParseKioslaverc reads the [Proxy Settings] group of KDE's kioslaverc; getenv resolves
// ProxyType 4, where the entries name environment variables instead of proxies.
func ParseKioslaverc(data string, getenv func(string) string) System {
	vals := map[string]string{}
	group := ""
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			group = strings.Trim(line, "[]")
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok && group == "Proxy Settings" {
			vals[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	s := System{Source: SourceKDE}
	kdeProxy := func(v string) string {
		// KDE writes "http://proxy.example.com 3128".
		if host, port, ok := strings.Cut(v, " "); ok {
			if _, err := strconv.Atoi(strings.TrimSpace(port)); err == nil {
				return host + ":" + strings.TrimSpace(port)
			}
		}
		return v
	}
	typ, _ := strconv.Atoi(vals["ProxyType"])
	switch typ {
	case 1, 4:
		pick := func(k string) string {
			v := vals[k]
			if typ == 4 {
				v = getenv(v)
			}
			return kdeProxy(v)
		}
		if s.Proxy = pick("httpsProxy"); s.Proxy == "" {
			s.Proxy = pick("httpProxy")
		}
		noProxy := vals["NoProxyFor"]
		if typ == 4 {
			noProxy = getenv(noProxy)
		}
		for _, e := range strings.Split(noProxy, ",") {
			if e = strings.TrimSpace(e); e != "" {
				s.Bypass = append(s.Bypass, e)
			}
		}
	case 2:
		s.PACURL = vals["Proxy Config Script"]
	case 3:
		s.AutoDetect = true
	}
	return s
}
