// Package netconf decides how magdesk reaches the network: which proxy (if any) each request
// goes through, and why. The choice follows the managed policy or settings (Config), and by
// default the operating system's own proxy configuration (SystemReader: the Windows Internet
// Options, macOS network settings, GNOME or KDE settings) and the proxy environment variables,
// including proxy auto-configuration (PAC) scripts and WPAD. Every HTTP request the app makes
// uses one Resolver, so the CLI, the window and the doctor all agree.
package netconf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// Mode is how the proxy is chosen.
type Mode string

// Modes, as the proxy_mode policy key names them.
const (
	ModeSystem Mode = "system" // the OS settings, then the environment (the default)
	ModeDirect Mode = "direct" // never a proxy
	ModeFixed  Mode = "fixed"  // Config.URL for everything not bypassed
	ModePAC    Mode = "pac"    // the PAC script at Config.PACURL
)

// Modes lists the accepted modes.
var Modes = []string{string(ModeSystem), string(ModeDirect), string(ModeFixed), string(ModePAC)}

// Config is the choice made by policy or settings.
type Config struct {
	Mode   Mode
	URL    string   // the proxy for ModeFixed: http://host:port, https://... or socks5://...
	PACURL string   // the script for ModePAC: http(s):// or file://
	Bypass []string // hosts reached directly in ModeFixed (see Bypassed)
	// Origin says who chose, for explanations: "your organisation's policy", "your settings".
	Origin string
}

// System is the proxy configuration the operating system holds.
type System struct {
	Source     string   // where it was read, in plain words ("the Windows Internet Options")
	Proxy      string   // proxy for HTTPS requests (a URL or host:port), "" for none
	PACURL     string   // automatic configuration script, "" for none
	AutoDetect bool     // WPAD: discover the script on the local network
	Bypass     []string // hosts reached directly ("<local>" means names without a dot)
}

// Configured reports whether the OS asks for anything else than a direct connection.
func (s System) Configured() bool { return s.Proxy != "" || s.PACURL != "" || s.AutoDetect }

// SystemReader reads the operating system's proxy configuration; one implementation per OS.
type SystemReader interface {
	ReadSystem(ctx context.Context) (System, error)
}

// Decision is the way one request goes.
type Decision struct {
	Proxy *url.URL // nil: a direct connection
	// Why says in plain words where the choice came from; it never contains a password.
	Why string
	// Mode is the mode in force and Script the PAC script used, if any.
	Mode   Mode
	Script string
}

// ProxyText is the proxy without credentials, or "none (direct connection)".
func (d Decision) ProxyText() string {
	if d.Proxy == nil {
		return "none (direct connection)"
	}
	return Redact(d.Proxy)
}

// Redact is u without its password.
func Redact(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	return c.String()
}

// Credentials looks up the user name and password for a proxy (host:port); ok is false when
// none is stored.
type Credentials func(hostport string) (user, password string, ok bool)

// Options configure a Resolver.
type Options struct {
	Config Config
	// System reads the OS configuration (nil: this OS's reader).
	System SystemReader
	// Credentials fill in proxy credentials missing from the proxy URL (nil: the OS keyring).
	Credentials Credentials
	// Env reads environment variables (nil: os.Getenv); tests replace it.
	Env func(string) string
	// Refresh is how long a read of the OS settings or a PAC script is kept (zero: 5 minutes).
	Refresh time.Duration
}

// Resolver picks the proxy of each request. It is safe for concurrent use.
type Resolver struct {
	o Options

	mu      sync.Mutex
	sys     System
	sysErr  error
	sysAt   time.Time
	scripts map[string]*pacScript
	wpad    *wpadResult
	creds   map[string]cred
}

// cred is a keyring answer, kept for Refresh so that a slow keyring is asked once, not per request.
type cred struct {
	user, password string
	ok             bool
	at             time.Time
}

// New builds a resolver; it reads nothing until the first request.
func New(o Options) *Resolver {
	if o.Config.Mode == "" {
		o.Config.Mode = ModeSystem
		if o.Config.URL != "" {
			o.Config.Mode = ModeFixed
		}
	}
	if o.Config.Origin == "" {
		o.Config.Origin = "the settings"
	}
	if o.System == nil {
		o.System = OSReader()
	}
	if o.Credentials == nil {
		o.Credentials = KeyringCredentials
	}
	if o.Env == nil {
		o.Env = osGetenv
	}
	if o.Refresh <= 0 {
		o.Refresh = 5 * time.Minute
	}
	return &Resolver{o: o, scripts: map[string]*pacScript{}, creds: map[string]cred{}}
}

// Check validates a configuration, saying what is wrong in plain words.
func (c Config) Check() error {
	switch c.Mode {
	case "", ModeSystem, ModeDirect:
		return nil
	case ModeFixed:
		_, err := ParseProxy(c.URL)
		return err
	case ModePAC:
		return checkPACURL(c.PACURL)
	}
	return fmt.Errorf("the proxy mode %q is not one of %s", c.Mode, strings.Join(Modes, ", "))
}

// Proxy is the function for http.Transport.Proxy.
func (r *Resolver) Proxy(req *http.Request) (*url.URL, error) {
	d, err := r.Decide(req.Context(), req.URL)
	if err != nil {
		return nil, err
	}
	if d.Proxy != nil && d.Proxy.User == nil {
		if c := r.credentials(d.Proxy.Host); c.ok {
			p := *d.Proxy
			p.User = url.UserPassword(c.user, c.password)
			return &p, nil
		}
	}
	return d.Proxy, nil
}

func (r *Resolver) credentials(hostport string) cred {
	r.mu.Lock()
	c, found := r.creds[hostport]
	r.mu.Unlock()
	if found && time.Since(c.at) < r.o.Refresh {
		return c
	}
	c.user, c.password, c.ok = r.o.Credentials(hostport)
	c.at = time.Now()
	r.mu.Lock()
	r.creds[hostport] = c
	r.mu.Unlock()
	return c
}

// Decide says how a request to target goes. An error means the configured proxy cannot be used
// (a PAC script that cannot be loaded or run): the request must fail rather than go direct
// around the proxy IT chose.
func (r *Resolver) Decide(ctx context.Context, target *url.URL) (Decision, error) {
	c := r.o.Config
	switch c.Mode {
	case ModeDirect:
		return Decision{Mode: ModeDirect, Why: c.Origin + " say to connect directly, without a proxy"}, nil
	case ModeFixed:
		p, err := ParseProxy(c.URL)
		if err != nil {
			return Decision{Mode: ModeFixed}, &Error{Code: CodeProxyConfig, Err: err}
		}
		if Bypassed(c.Bypass, target.Hostname()) {
			return Decision{Mode: ModeFixed, Why: fmt.Sprintf("%s name a proxy, but %s is on the bypass list", c.Origin, target.Hostname())}, nil
		}
		return Decision{Mode: ModeFixed, Proxy: p, Why: c.Origin + " name this proxy"}, nil
	case ModePAC:
		return r.viaPAC(ctx, c.PACURL, target, c.Origin+" name the proxy configuration script "+c.PACURL, ModePAC)
	}
	return r.viaSystem(ctx, target)
}

func (r *Resolver) viaSystem(ctx context.Context, target *url.URL) (Decision, error) {
	sys, err := r.system(ctx)
	if err != nil {
		// An unreadable OS configuration is not fatal: the environment may still say.
		sys = System{}
	}
	host := target.Hostname()
	switch {
	case sys.PACURL != "":
		return r.viaPAC(ctx, sys.PACURL, target, sys.Source+" name the proxy configuration script "+sys.PACURL, ModeSystem)
	case sys.Proxy != "":
		p, perr := ParseProxy(sys.Proxy)
		if perr != nil {
			return Decision{Mode: ModeSystem}, &Error{Code: CodeProxyConfig, Err: fmt.Errorf("%s: %w", sys.Source, perr)}
		}
		if Bypassed(sys.Bypass, host) {
			return Decision{Mode: ModeSystem, Why: fmt.Sprintf("%s name a proxy, but %s is on its bypass list", sys.Source, host)}, nil
		}
		return Decision{Mode: ModeSystem, Proxy: p, Why: sys.Source + " name this proxy"}, nil
	case sys.AutoDetect:
		if script := r.discover(ctx); script != "" {
			return r.viaPAC(ctx, script, target, sys.Source+" ask for automatic detection (WPAD), which found "+script, ModeSystem)
		}
	}
	return r.viaEnv(target, sys, err)
}

func (r *Resolver) viaEnv(target *url.URL, sys System, sysErr error) (Decision, error) {
	env := &httpproxy.Config{
		HTTPProxy:  firstEnv(r.o.Env, "HTTP_PROXY", "http_proxy"),
		HTTPSProxy: firstEnv(r.o.Env, "HTTPS_PROXY", "https_proxy"),
		NoProxy:    firstEnv(r.o.Env, "NO_PROXY", "no_proxy"),
	}
	p, err := env.ProxyFunc()(target)
	if err != nil {
		return Decision{Mode: ModeSystem}, &Error{Code: CodeProxyConfig, Err: fmt.Errorf("the HTTPS_PROXY environment variable: %w", err)}
	}
	if p != nil {
		return Decision{Mode: ModeSystem, Proxy: p, Why: "the HTTPS_PROXY environment variable names this proxy"}, nil
	}
	why := "no proxy is configured on this computer"
	switch {
	case sysErr != nil:
		why = "the proxy settings of this computer could not be read (" + sysErr.Error() + ") and no proxy environment variable is set"
	case sys.AutoDetect:
		why = sys.Source + " ask for automatic detection (WPAD), which found no configuration script on this network"
	case env.HTTPSProxy != "":
		why = "the NO_PROXY environment variable (or the loopback rule) excludes this server"
	case sys.Source != "":
		why = sys.Source + " say to connect directly and no proxy environment variable is set"
	}
	return Decision{Mode: ModeSystem, Why: why}, nil
}

// system is the OS configuration, read at most once per Refresh.
func (r *Resolver) system(ctx context.Context) (System, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.sysAt.IsZero() && time.Since(r.sysAt) < r.o.Refresh {
		return r.sys, r.sysErr
	}
	r.sys, r.sysErr = r.o.System.ReadSystem(ctx)
	r.sysAt = time.Now()
	return r.sys, r.sysErr
}

// ParseProxy reads a proxy address: a URL (http, https, socks5) or a bare host:port, which
// means an HTTP proxy.
func ParseProxy(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("no proxy address is given")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("the proxy address %q is not a URL like http://proxy.example.com:3128", Redact(u))
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, fmt.Errorf("the proxy address %q must start with http://, https:// or socks5://", Redact(u))
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("the proxy address %q has no valid port", Redact(u))
		}
	}
	return &url.URL{Scheme: u.Scheme, User: u.User, Host: u.Host}, nil
}

// Bypassed reports whether host matches a bypass list. Entries are host names (which also
// match their subdomains), wildcards (*.example.com, 10.*), a leading dot (.example.com),
// networks in CIDR form (10.0.0.0/8, or macOS's short 169.254/16), "<local>" (names without a
// dot) and "*" (everything).
func Bypassed(list []string, host string) bool {
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	ip := net.ParseIP(host)
	for _, e := range list {
		e = strings.ToLower(strings.TrimSpace(e))
		if i := strings.LastIndex(e, ":"); i > 0 && !strings.Contains(e, "/") && net.ParseIP(e) == nil {
			e = e[:i] // a port in the entry: the host part decides
		}
		switch {
		case e == "":
		case e == "*":
			return true
		case e == "<local>":
			if ip == nil && !strings.Contains(host, ".") {
				return true
			}
		case strings.Contains(e, "/"):
			if ip != nil {
				if n := parseNet(e); n != nil && n.Contains(ip) {
					return true
				}
			}
		case strings.Contains(e, "*"):
			if ok, _ := matchGlob(e, host); ok {
				return true
			}
		case strings.HasPrefix(e, "."):
			if strings.HasSuffix(host, e) {
				return true
			}
		default:
			if host == e || (ip == nil && strings.HasSuffix(host, "."+e)) {
				return true
			}
		}
	}
	return false
}

// parseNet reads a CIDR, padding macOS's short IPv4 form (169.254/16).
func parseNet(s string) *net.IPNet {
	addr, bits, _ := strings.Cut(s, "/")
	if !strings.Contains(addr, ":") {
		for strings.Count(addr, ".") < 3 {
			addr += ".0"
		}
	}
	_, n, err := net.ParseCIDR(addr + "/" + bits)
	if err != nil {
		return nil
	}
	return n
}

func firstEnv(get func(string) string, names ...string) string {
	for _, n := range names {
		if v := get(n); v != "" {
			return v
		}
	}
	return ""
}
