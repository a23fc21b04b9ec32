package netconf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
)

// PAC limits: real scripts are a few kilobytes and answer in microseconds; a script that loops
// or a server that streams forever must not hang every request.
const (
	maxPACBytes  = 1 << 20
	pacFetchTime = 10 * time.Second
	pacRunTime   = 2 * time.Second
	dnsTime      = 2 * time.Second
	// pacRetry is how soon a script that could not be loaded is tried again.
	pacRetry = 30 * time.Second
)

// pacHelpers are the standard PAC functions that need no host access; dnsResolve, myIpAddress
// and their IPv6 variants come from Go (see newPAC).
const pacHelpers = `
function isPlainHostName(host) { return host.indexOf('.') < 0; }
function dnsDomainIs(host, domain) {
  host = String(host).toLowerCase(); domain = String(domain).toLowerCase();
  return host.length >= domain.length && host.substring(host.length - domain.length) == domain;
}
function localHostOrDomainIs(host, hostdom) {
  return host == hostdom || hostdom.lastIndexOf(host + '.', 0) == 0;
}
function dnsDomainLevels(host) { return host.split('.').length - 1; }
function isResolvable(host) { return dnsResolve(host) !== null; }
function isResolvableEx(host) { return dnsResolveEx(host) !== ''; }
function convert_addr(ip) {
  var b = String(ip).split('.');
  return (((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff)) >>> 0;
}
function isInNet(ip, pattern, mask) {
  if (!/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip)) {
    ip = dnsResolve(ip);
    if (ip === null) return false;
  }
  return ((convert_addr(ip) & convert_addr(mask)) >>> 0) == ((convert_addr(pattern) & convert_addr(mask)) >>> 0);
}
function shExpMatch(str, pattern) {
  var re = String(pattern).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp('^' + re + '$').test(str);
}
var __days = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
var __months = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
function __args(a) {
  a = Array.prototype.slice.call(a);
  var gmt = a.length > 0 && a[a.length - 1] == 'GMT';
  if (gmt) a.pop();
  var d = new Date();
  var now = gmt ?
    { y: d.getUTCFullYear(), m: d.getUTCMonth(), d: d.getUTCDate(), wd: d.getUTCDay(), h: d.getUTCHours(), mi: d.getUTCMinutes(), s: d.getUTCSeconds() } :
    { y: d.getFullYear(), m: d.getMonth(), d: d.getDate(), wd: d.getDay(), h: d.getHours(), mi: d.getMinutes(), s: d.getSeconds() };
  return { a: a, now: now };
}
function __within(lo, x, hi, wraps) {
  if (lo <= hi) return lo <= x && x <= hi;
  return wraps && (x >= lo || x <= hi);
}
function weekdayRange() {
  var p = __args(arguments), a = p.a;
  var w1 = __days.indexOf(a[0]), w2 = a.length > 1 ? __days.indexOf(a[1]) : w1;
  if (w1 < 0 || w2 < 0) return false;
  return __within(w1, p.now.wd, w2, true);
}
function dateRange() {
  var p = __args(arguments), a = p.a, now = p.now;
  var parts = a.map(function (v) {
    if (typeof v == 'string' && __months.indexOf(v) >= 0) return { k: 'm', v: __months.indexOf(v) };
    v = Number(v);
    return v > 31 ? { k: 'y', v: v } : { k: 'd', v: v };
  });
  var half = parts.length == 1 ? 1 : parts.length / 2;
  if (half != Math.floor(half)) return false;
  var lo = parts.slice(0, half), hi = parts.length == 1 ? lo : parts.slice(half);
  var hasY = lo.some(function (x) { return x.k == 'y'; });
  function val(ps) {
    var t = { y: now.y, m: now.m, d: now.d };
    var keys = {};
    ps.forEach(function (x) { t[x.k] = x.v; keys[x.k] = true; });
    return { v: (keys.y ? t.y : 0) * 10000 + (keys.m ? t.m : 0) * 100 + (keys.d ? t.d : 0), keys: keys };
  }
  var l = val(lo), h = val(hi);
  var n = (l.keys.y ? now.y : 0) * 10000 + (l.keys.m ? now.m : 0) * 100 + (l.keys.d ? now.d : 0);
  return __within(l.v, n, h.v, !hasY);
}
function timeRange() {
  var p = __args(arguments), a = p.a.map(Number), t = p.now;
  var now = t.h * 3600 + t.mi * 60 + t.s;
  switch (a.length) {
  case 1: return t.h == a[0];
  case 2: return __within(a[0] * 3600, now, a[1] * 3600 - 1, true);
  case 4: return __within(a[0] * 3600 + a[1] * 60, now, a[2] * 3600 + a[3] * 60 - 1, true);
  case 6: return __within(a[0] * 3600 + a[1] * 60 + a[2], now, a[3] * 3600 + a[4] * 60 + a[5], true);
  }
  return false;
}
`

var helpersProgram = goja.MustCompile("pac-helpers.js", pacHelpers, false)

// pacScript is one downloaded and compiled script with its own JavaScript runtime, which is
// not safe for concurrent use: find holds mu.
type pacScript struct {
	mu  sync.Mutex
	rt  *goja.Runtime
	fn  goja.Callable
	err error
	at  time.Time
}

func newPAC(name, src string) (*pacScript, error) {
	prog, err := goja.Compile(name, src, false)
	if err != nil {
		return nil, fmt.Errorf("the script is not valid JavaScript: %w", err)
	}
	rt := goja.New()
	rt.Set("dnsResolve", func(host string) goja.Value {
		for _, ip := range lookup(host) {
			if ip.To4() != nil {
				return rt.ToValue(ip.String())
			}
		}
		return goja.Null()
	})
	rt.Set("dnsResolveEx", func(host string) string { return joinIPs(lookup(host)) })
	rt.Set("myIpAddress", func() string {
		for _, ip := range localIPs() {
			if ip.To4() != nil {
				return ip.String()
			}
		}
		return "127.0.0.1"
	})
	rt.Set("myIpAddressEx", func() string { return joinIPs(localIPs()) })
	rt.Set("isInNetEx", func(ip, prefix string) bool {
		_, n, err := net.ParseCIDR(prefix)
		addr := net.ParseIP(ip)
		return err == nil && addr != nil && n.Contains(addr)
	})
	if _, err := rt.RunProgram(helpersProgram); err != nil {
		return nil, err
	}
	if _, err := runBounded(rt, func() (goja.Value, error) { return rt.RunProgram(prog) }); err != nil {
		return nil, fmt.Errorf("the script failed while loading: %w", err)
	}
	fn, ok := goja.AssertFunction(rt.Get("FindProxyForURL"))
	if !ok {
		return nil, errors.New("the script defines no FindProxyForURL function")
	}
	return &pacScript{rt: rt, fn: fn}, nil
}

// runBounded runs JavaScript with a time limit.
func runBounded(rt *goja.Runtime, run func() (goja.Value, error)) (goja.Value, error) {
	t := time.AfterFunc(pacRunTime, func() { rt.Interrupt("the script took too long") })
	defer func() {
		t.Stop()
		rt.ClearInterrupt()
	}()
	return run()
}

// find calls FindProxyForURL.
func (s *pacScript) find(rawURL, host string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := runBounded(s.rt, func() (goja.Value, error) {
		return s.fn(goja.Undefined(), s.rt.ToValue(rawURL), s.rt.ToValue(host))
	})
	if err != nil {
		return "", err
	}
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return "", errors.New("FindProxyForURL returned nothing")
	}
	return v.String(), nil
}

// ParsePAC reads a FindProxyForURL answer ("PROXY p:3128; DIRECT") into the first entry this
// client can use: nil for DIRECT. Later entries are fallbacks the transport does not try.
func ParsePAC(answer string) (*url.URL, error) {
	for _, entry := range strings.Split(answer, ";") {
		f := strings.Fields(entry)
		if len(f) == 0 {
			continue
		}
		kind := strings.ToUpper(f[0])
		if kind == "DIRECT" {
			return nil, nil
		}
		if len(f) < 2 {
			continue
		}
		scheme := map[string]string{"PROXY": "http", "HTTP": "http", "HTTPS": "https", "SOCKS": "socks5", "SOCKS5": "socks5"}[kind]
		if scheme == "" {
			continue
		}
		if u, err := ParseProxy(scheme + "://" + f[1]); err == nil {
			return u, nil
		}
	}
	return nil, fmt.Errorf("the answer %q names no usable proxy", answer)
}

func (r *Resolver) viaPAC(ctx context.Context, script string, target *url.URL, why string, mode Mode) (Decision, error) {
	d := Decision{Mode: mode, Script: script}
	s, err := r.script(ctx, script)
	if err != nil {
		return d, err
	}
	// Like browsers, give the script only scheme, host and port: a path may carry secrets.
	u := url.URL{Scheme: target.Scheme, Host: target.Host, Path: "/"}
	answer, err := s.find(u.String(), target.Hostname())
	if err != nil {
		return d, &Error{Code: CodePACFailed, Script: script, Err: err}
	}
	p, err := ParsePAC(answer)
	if err != nil {
		return d, &Error{Code: CodePACFailed, Script: script, Err: err}
	}
	d.Proxy = p
	d.Why = why + ", which answers " + strings.TrimSpace(answer)
	return d, nil
}

// script returns the compiled script at addr, downloading it at most once per Refresh (and
// retrying a failed download after pacRetry).
func (r *Resolver) script(ctx context.Context, addr string) (*pacScript, error) {
	r.mu.Lock()
	s := r.scripts[addr]
	r.mu.Unlock()
	if s != nil {
		age := time.Since(s.at)
		if (s.err == nil && age < r.o.Refresh) || (s.err != nil && age < pacRetry) {
			return s, s.err
		}
	}
	src, err := fetchPAC(ctx, addr)
	var fresh *pacScript
	if err == nil {
		fresh, err = newPAC(addr, src)
		if err != nil {
			err = &Error{Code: CodePACFailed, Script: addr, Err: err}
		}
	} else {
		err = &Error{Code: CodePACUnavailable, Script: addr, Err: err}
	}
	if err != nil {
		if s != nil && s.err == nil {
			return s, nil // keep the script that worked rather than break every request
		}
		fresh = &pacScript{err: err}
	}
	fresh.at = time.Now()
	r.mu.Lock()
	r.scripts[addr] = fresh
	r.mu.Unlock()
	return fresh, fresh.err
}

func checkPACURL(s string) error {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || !(u.Scheme == "http" || u.Scheme == "https" || u.Scheme == "file") || (u.Scheme != "file" && u.Host == "") {
		return fmt.Errorf("the proxy script address %q must be an http://, https:// or file:// URL", s)
	}
	return nil
}

// directClient fetches PAC scripts. It never uses a proxy: the script is what says which
// proxy to use, and operating systems fetch it directly too.
var directClient = &http.Client{
	Timeout:   pacFetchTime,
	Transport: &http.Transport{Proxy: nil, TLSHandshakeTimeout: pacFetchTime, DisableKeepAlives: true},
}

func fetchPAC(ctx context.Context, addr string) (string, error) {
	if err := checkPACURL(addr); err != nil {
		return "", err
	}
	u, _ := url.Parse(addr)
	var body io.Reader
	if u.Scheme == "file" {
		f, err := os.Open(fileURLPath(u))
		if err != nil {
			return "", err
		}
		defer f.Close()
		body = f
	} else {
		ctx, cancel := context.WithTimeout(ctx, pacFetchTime)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, addr, nil)
		if err != nil {
			return "", err
		}
		resp, err := directClient.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("the server answered HTTP %d", resp.StatusCode)
		}
		body = resp.Body
	}
	data, err := io.ReadAll(io.LimitReader(body, maxPACBytes+1))
	if err != nil {
		return "", err
	}
	if len(data) > maxPACBytes {
		return "", fmt.Errorf("the script is larger than %d bytes", maxPACBytes)
	}
	return string(data), nil
}

// fileURLPath turns file:///C:/x.pac and file:///etc/x.pac into paths.
func fileURLPath(u *url.URL) string {
	p := u.Path
	if len(p) > 2 && p[0] == '/' && p[2] == ':' {
		p = p[1:]
	}
	return p
}

func lookup(host string) []net.IP {
	if ip := net.ParseIP(host); ip != nil {
		return []net.IP{ip}
	}
	ctx, cancel := context.WithTimeout(context.Background(), dnsTime)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return nil
	}
	out := make([]net.IP, len(addrs))
	for i, a := range addrs {
		out[i] = a.IP
	}
	return out
}

// localIPs are this machine's addresses on interfaces that are up, loopback last.
func localIPs() []net.IP {
	var out, loop []net.IP
	ifs, _ := net.Interfaces()
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			n, ok := a.(*net.IPNet)
			if !ok || n.IP.IsLinkLocalUnicast() {
				continue
			}
			if n.IP.IsLoopback() {
				loop = append(loop, n.IP)
			} else {
				out = append(out, n.IP)
			}
		}
	}
	return append(out, loop...)
}

func joinIPs(ips []net.IP) string {
	s := make([]string, len(ips))
	for i, ip := range ips {
		s[i] = ip.String()
	}
	return strings.Join(s, ";")
}

// matchGlob matches a shell wildcard pattern (* and ?) against s, case-insensitively.
func matchGlob(pattern, s string) (bool, error) {
	var b strings.Builder
	b.WriteString("(?i)^")
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return false, err
	}
	return re.MatchString(s), nil
}
