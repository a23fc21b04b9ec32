package netconf

import (
	"encoding/binary"
	"strings"
)

// Where Windows keeps its proxy settings, for explanations.
const (
	SourceWinINet = "the Windows Internet Options"
	SourceWinHTTP = "the Windows WinHTTP settings"
)

// WinINetValues are the registry values behind the Windows proxy settings: the Internet
// Settings key (per user, or per machine by policy) and WinHTTP's machine-wide blob.
type WinINetValues struct {
	ProxyEnable   uint32
	ProxyServer   string // "host:port" or "http=h:p;https=h:p;socks=h:p"
	ProxyOverride string // "*.local;10.*;<local>"
	AutoConfigURL string
	// Connection is Connections\DefaultConnectionSettings, whose flags carry "Automatically
	// detect settings"; WinHTTP is Connections\WinHttpSettings (netsh winhttp set proxy).
	Connection []byte
	WinHTTP    []byte
}

// Flags of the connection settings blobs (WinINet's INTERNET_PER_CONN_FLAGS values).
const (
	connProxy      = 0x02
	connAutoURL    = 0x04
	connAutoDetect = 0x08
)

// FromWinINet turns the registry values into a System. The Internet Options win; WinHTTP's
// settings are used when they say nothing, as services and unattended machines often have only those.
func FromWinINet(v WinINetValues) System {
	s := System{Source: SourceWinINet}
	flags, blobProxy, blobBypass, blobPAC, haveBlob := parseConnBlob(v.Connection, true)
	s.PACURL = strings.TrimSpace(v.AutoConfigURL)
	if s.PACURL == "" && haveBlob && flags&connAutoURL != 0 {
		s.PACURL = blobPAC
	}
	s.AutoDetect = haveBlob && flags&connAutoDetect != 0
	server, bypass := v.ProxyServer, v.ProxyOverride
	enabled := v.ProxyEnable == 1
	if !enabled && haveBlob && flags&connProxy != 0 {
		enabled, server, bypass = true, blobProxy, blobBypass
	}
	if enabled {
		s.Proxy = pickWinProxy(server)
		s.Bypass = splitWinList(bypass)
	}
	if s.Configured() {
		return s
	}
	if wf, wp, wb, _, ok := parseConnBlob(v.WinHTTP, false); ok && wf&connProxy != 0 {
		return System{Source: SourceWinHTTP, Proxy: pickWinProxy(wp), Bypass: splitWinList(wb)}
	}
	return s
}

// pickWinProxy returns the proxy for HTTPS from a ProxyServer value.
func pickWinProxy(v string) string {
	var plain, https string
	for _, part := range strings.Split(v, ";") {
		part = strings.TrimSpace(part)
		if k, hp, ok := strings.Cut(part, "="); ok {
			if strings.EqualFold(k, "https") {
				https = hp
			}
			continue
		}
		if plain == "" {
			plain = part
		}
	}
	if https != "" {
		return https
	}
	return plain
}

func splitWinList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ' ' || r == ',' })
}

// parseConnBlob reads a DefaultConnectionSettings or WinHttpSettings value: a version, a
// counter and flags (little-endian DWORDs), then length-prefixed strings: the proxy, the bypass
// list and (DefaultConnectionSettings only) the PAC address.
func parseConnBlob(b []byte, hasPAC bool) (flags uint32, proxy, bypass, pac string, ok bool) {
	if len(b) < 12 {
		return 0, "", "", "", false
	}
	flags = binary.LittleEndian.Uint32(b[8:])
	rest := b[12:]
	str := func() (string, bool) {
		if len(rest) < 4 {
			return "", false
		}
		n := binary.LittleEndian.Uint32(rest)
		if uint64(n) > uint64(len(rest)-4) {
			return "", false
		}
		s := string(rest[4 : 4+n])
		rest = rest[4+n:]
		return s, true
	}
	var good bool
	if proxy, good = str(); !good {
		return flags, "", "", "", true
	}
	if bypass, good = str(); !good {
		return flags, proxy, "", "", true
	}
	if hasPAC {
		pac, _ = str()
	}
	return flags, proxy, bypass, pac, true
}
