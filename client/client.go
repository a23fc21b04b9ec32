package client

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/netconf"
)

// Defaults used when Options leaves a field zero.
const (
	DefaultTimeout = 20 * time.Second
	DefaultRetries = 3
	// maxResponseBody bounds what the client reads from a server (the API's largest answer, a
	// service agreement, is far smaller); a bigger body is a server error, not an out-of-memory.
	maxResponseBody = 4 << 20
)

// Options configure a Client.
type Options struct {
	// ServerURL is the gateway, e.g. https://gateway.example:8443. A bare host gets https://.
	ServerURL string
	// CAPEM and CAFile add trusted CA certificates (PEM) to the system roots, for gateways whose
	// server certificate comes from a private CA (--ca, settings, IT policy). Both may be set.
	CAPEM  []byte
	CAFile string
	// Network chooses the proxy of every request (shared by all clients of a run, so a PAC
	// script is fetched once). Nil builds one from ProxyURL: that proxy when set, otherwise
	// the operating system's proxy settings and the environment.
	Network *netconf.Resolver
	// ProxyURL is an explicit proxy, used when Network is nil.
	ProxyURL string
	// Timeout bounds each attempt of each call; zero means DefaultTimeout.
	Timeout time.Duration
	// Retries is how many times an idempotent call is retried after a network error, 429 or 503;
	// zero means DefaultRetries, negative means never.
	Retries int
	// ClientInfo is sent with logins and recorded with the session on the server.
	ClientInfo api.ClientInfo
	// Logger receives one debug line per request (method, path, status, duration; never a body,
	// token or header). Nil discards.
	Logger *slog.Logger
}

// Client talks to one gateway as at most one account, with at most one client certificate.
// It is safe for concurrent use. Derive a client for another certificate with WithCertificate;
// switch account with SetSession (which closes pooled connections of the previous account).
type Client struct {
	server   *url.URL
	opts     Options
	roots    *x509.CertPool
	resolver *netconf.Resolver
	net      *netState
	cert     *tls.Certificate
	tr       *http.Transport
	rc       *resty.Client
	log      *slog.Logger
	timeout  time.Duration
	retries  int

	mu     sync.Mutex
	userID string
	token  string
}

// New checks the options and builds a client. It does not contact the server.
func New(o Options) (*Client, error) {
	server, err := parseServerURL(o.ServerURL)
	if err != nil {
		return nil, err
	}
	roots, err := rootPool(o.CAPEM, o.CAFile)
	if err != nil {
		return nil, err
	}
	res := o.Network
	if res == nil {
		if o.ProxyURL != "" {
			if _, err := netconf.ParseProxy(o.ProxyURL); err != nil {
				return nil, &Error{Kind: KindConfig, Op: "configure", Server: server.Host, Err: err}
			}
		}
		res = netconf.New(netconf.Options{Config: netconf.Config{URL: o.ProxyURL}})
	}
	c := &Client{server: server, opts: o, roots: roots, resolver: res, net: &netState{}, log: o.Logger,
		timeout: o.Timeout, retries: o.Retries}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.retries == 0 {
		c.retries = DefaultRetries
	} else if c.retries < 0 {
		c.retries = 0
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.build(nil)
	return c, nil
}

// build gives the client its own transport and resty client presenting cert (nil: none).
func (c *Client) build(cert *tls.Certificate) {
	c.cert = cert
	tlsConf := &tls.Config{RootCAs: c.roots, MinVersion: tls.VersionTLS12}
	// Exactly one certificate, whatever the server's CertificateRequest lists: resty's
	// SetCertificates appends and Go then sends the first acceptable one, which is how a
	// stale certificate of another account produces Error 2035.
	tlsConf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		if cert == nil {
			return &tls.Certificate{}, nil
		}
		return cert, nil
	}
	c.tr = &http.Transport{
		Proxy:                  c.resolver.Proxy,
		OnProxyConnectResponse: netconf.OnProxyConnectResponse,
		DialContext:            (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:        tlsConf,
		TLSHandshakeTimeout:    10 * time.Second,
		IdleConnTimeout:        60 * time.Second,
		MaxIdleConnsPerHost:    4,
		ForceAttemptHTTP2:      true,
		ExpectContinueTimeout:  time.Second,
	}
	// No cookie jar: the API sets no cookies, and a jar is how a browser ends up acting as the
	// wrong account. Redirects are not followed: the API never redirects.
	hc := &http.Client{Transport: watch{base: c.tr, st: c.net}, Jar: nil,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	c.rc = resty.NewWithClient(hc).
		SetBaseURL(c.server.String()).
		SetResponseBodyLimit(maxResponseBody).
		SetHeader("Accept", "application/json, "+api.ProblemContentType).
		SetHeader("User-Agent", userAgent(c.opts.ClientInfo))
	c.rc.SetLogger(discardRestyLogger{})
}

func userAgent(ci api.ClientInfo) string {
	name, ver := ci.Name, ci.Version
	if name == "" {
		name = "magdesk"
	}
	if ver == "" {
		ver = "dev"
	}
	return name + "/" + ver
}

// WithCertificate returns a client for the same server and account that presents cert (nil:
// no certificate) on its own connections. The receiver is unchanged.
func (c *Client) WithCertificate(cert *tls.Certificate) *Client {
	c.mu.Lock()
	userID, token := c.userID, c.token
	c.mu.Unlock()
	d := &Client{server: c.server, opts: c.opts, roots: c.roots, resolver: c.resolver, net: c.net, log: c.log,
		timeout: c.timeout, retries: c.retries, userID: userID, token: token}
	d.build(cert)
	return d
}

// Certificate is the client certificate this client presents, or nil.
func (c *Client) Certificate() *tls.Certificate { return c.cert }

// CertificateSHA256 is the lower-case hex SHA-256 of the presented certificate, or "".
func (c *Client) CertificateSHA256() string {
	if c.cert == nil || len(c.cert.Certificate) == 0 {
		return ""
	}
	sum := sha256.Sum256(c.cert.Certificate[0])
	return hex.EncodeToString(sum[:])
}

// Server is the normalised server URL, the key under which sessions are cached.
func (c *Client) Server() string { return c.server.String() }

// SetSession makes the client act as userID with a session token; every request then carries
// Expected-User-Id. Switching to another account closes the pooled connections of the old one.
func (c *Client) SetSession(userID, token string) {
	c.mu.Lock()
	changed := c.userID != userID || c.token != token
	c.userID, c.token = userID, token
	c.mu.Unlock()
	if changed {
		c.tr.CloseIdleConnections()
	}
}

// ClearSession forgets the token and the expected user (it does not log out on the server).
func (c *Client) ClearSession() { c.SetSession("", "") }

// UserID is the account the client acts as, or "".
func (c *Client) UserID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.userID
}

// HasSession reports whether the client holds a session token.
func (c *Client) HasSession() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token != ""
}

// CloseIdleConnections drops pooled connections; call it when done with the client.
func (c *Client) CloseIdleConnections() { c.tr.CloseIdleConnections() }

func (c *Client) session() (userID, token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.userID, c.token
}

// NormalizeServerURL returns the canonical form of a gateway address (https, lower-case host,
// no trailing slash), the form under which sessions are cached.
func NormalizeServerURL(s string) (string, error) {
	u, err := parseServerURL(s)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

func parseServerURL(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	bad := func(why string) error {
		return &Error{Kind: KindConfig, Op: "configure",
			Err: fmt.Errorf("the server address %q %s; use the form https://gateway.example:8443", s, why)}
	}
	if s == "" {
		return nil, &Error{Kind: KindConfig, Op: "configure",
			Err: ErrNoServer}
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, bad("is not a valid URL")
	}
	switch {
	case !strings.EqualFold(u.Scheme, "https"):
		return nil, bad("must start with https:// (the gateway only speaks TLS)")
	case u.Host == "" || u.Hostname() == "":
		return nil, bad("has no host name")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return nil, bad("must not contain a user name, query or fragment")
	case strings.Trim(u.Path, "/") != "":
		return nil, bad("must not contain a path")
	}
	return &url.URL{Scheme: "https", Host: strings.ToLower(u.Host)}, nil
}

// rootPool is the system roots plus the extra CA certificates.
func rootPool(pemData []byte, file string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	add := func(data []byte, from string) error {
		if !pool.AppendCertsFromPEM(data) {
			return &Error{Kind: KindConfig, Op: "configure",
				Err: fmt.Errorf("%s contains no PEM certificate; give the CA certificate file of your gateway (for magd: DATA/ca/ca.pem)", from)}
		}
		return nil
	}
	if len(pemData) > 0 {
		if err := add(pemData, "the CA bundle"); err != nil {
			return nil, err
		}
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, &Error{Kind: KindConfig, Op: "configure",
				Err: fmt.Errorf("cannot read the CA bundle %s: %w", file, err)}
		}
		if err := add(data, "the CA bundle "+file); err != nil {
			return nil, err
		}
	}
	return pool, nil
}

// discardRestyLogger keeps resty from printing warnings to stderr on its own.
type discardRestyLogger struct{}

func (discardRestyLogger) Errorf(string, ...any) {}
func (discardRestyLogger) Warnf(string, ...any)  {}
func (discardRestyLogger) Debugf(string, ...any) {}
