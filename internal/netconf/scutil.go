package netconf

import (
	"bufio"
	"strings"
)

// SourceMacOS names the macOS network settings in explanations.
const SourceMacOS = "the macOS network settings"

// ParseScutil reads the output of `scutil --proxy` (the proxies of the active network service).
func ParseScutil(out string) System {
	vals := map[string]string{}
	var exceptions []string
	inList := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "}" {
			inList = ""
			continue
		}
		k, v, ok := strings.Cut(line, " : ")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case strings.HasPrefix(v, "<array>"):
			inList = k
		case inList == "ExceptionsList":
			exceptions = append(exceptions, v)
		case inList == "":
			vals[k] = v
		}
	}
	s := System{Source: SourceMacOS, Bypass: exceptions}
	if vals["ExcludeSimpleHostnames"] == "1" {
		s.Bypass = append(s.Bypass, "<local>")
	}
	hostPort := func(prefix, scheme string) string {
		if vals[prefix+"Enable"] != "1" || vals[prefix+"Proxy"] == "" {
			return ""
		}
		hp := vals[prefix+"Proxy"]
		if p := vals[prefix+"Port"]; p != "" && p != "0" {
			hp += ":" + p
		}
		return scheme + "://" + hp
	}
	if vals["ProxyAutoConfigEnable"] == "1" {
		s.PACURL = vals["ProxyAutoConfigURLString"]
	}
	s.AutoDetect = vals["ProxyAutoDiscoveryEnable"] == "1"
	s.Proxy = hostPort("HTTPS", "http")
	if s.Proxy == "" {
		s.Proxy = hostPort("SOCKS", "socks5")
	}
	return s
}
