package netconf

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/mag-desktop/magdesk/internal/secrets"
)

// Error codes carried by *Error.
const (
	CodeProxyConfig          = "PROXY_CONFIG"           // the proxy settings are not usable
	CodePACUnavailable       = "PROXY_PAC_UNAVAILABLE"  // the PAC script could not be downloaded
	CodePACFailed            = "PROXY_PAC_FAILED"       // the PAC script failed or gave nothing usable
	CodeProxyAuthRequired    = "PROXY_AUTH_REQUIRED"    // the proxy wants credentials and none were sent
	CodeProxyAuthRejected    = "PROXY_AUTH_REJECTED"    // the proxy refused the credentials sent
	CodeProxyAuthUnsupported = "PROXY_AUTH_UNSUPPORTED" // the proxy only accepts NTLM or Negotiate
	CodeProxyRefused         = "PROXY_REFUSED"          // the proxy refused to open the tunnel
)

// Error is a proxy problem. Its text is for logs; the user's sentence is in the client's
// message catalogue, keyed by Code.
type Error struct {
	Code    string
	Proxy   string   // the proxy, without credentials, when known
	Script  string   // the PAC script, when one is involved
	Status  int      // the proxy's HTTP status, when it answered
	Schemes []string // the authentication schemes the proxy offered
	Err     error
}

func (e *Error) Error() string {
	s := "proxy: " + e.Code
	if e.Proxy != "" {
		s += " (" + e.Proxy + ")"
	}
	if e.Script != "" {
		s += " script " + e.Script
	}
	if e.Status != 0 {
		s += fmt.Sprintf(": HTTP %d", e.Status)
	}
	if len(e.Schemes) > 0 {
		s += " offering " + strings.Join(e.Schemes, ", ")
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// OnProxyConnectResponse is the hook for http.Transport.OnProxyConnectResponse: it turns a
// refused CONNECT into an *Error that says whether credentials are missing, wrong, or of a
// kind magdesk cannot give.
func OnProxyConnectResponse(_ context.Context, proxy *url.URL, _ *http.Request, res *http.Response) error {
	if res.StatusCode == http.StatusOK {
		return nil
	}
	e := &Error{Code: CodeProxyRefused, Proxy: Redact(proxy), Status: res.StatusCode}
	// tinyproxy answers 401 rather than 407 to wrong credentials; from a proxy's CONNECT
	// both mean the same.
	if res.StatusCode != http.StatusProxyAuthRequired && res.StatusCode != http.StatusUnauthorized {
		return e
	}
	basic := false
	for _, v := range res.Header.Values("Proxy-Authenticate") {
		scheme, _, _ := strings.Cut(strings.TrimSpace(v), " ")
		e.Schemes = append(e.Schemes, scheme)
		basic = basic || strings.EqualFold(scheme, "Basic")
	}
	switch {
	case !basic && len(e.Schemes) > 0:
		// NTLM and Negotiate need a connection-bound handshake and the Windows logon; no
		// well-kept Go library does that for proxies, so say so instead of failing obscurely.
		e.Code = CodeProxyAuthUnsupported
	case proxy.User != nil:
		e.Code = CodeProxyAuthRejected
	default:
		e.Code = CodeProxyAuthRequired
	}
	return e
}

// KeyringService is the OS keyring service under which proxy credentials are kept: key
// "host:port", secret "user:password".
const KeyringService = "MAG Desktop proxy"

// KeyringCredentials reads proxy credentials from the OS keyring (secrets.OS, so a keyring
// profile sees its own).
func KeyringCredentials(hostport string) (user, password string, ok bool) {
	v, err := secrets.In(secrets.OS(), KeyringService).Get(hostport)
	if err != nil {
		return "", "", false
	}
	user, password, ok = strings.Cut(v, ":")
	return user, password, ok && user != ""
}

// SaveCredentials stores proxy credentials in the OS keyring.
func SaveCredentials(hostport, user, password string) error {
	if user == "" || strings.Contains(user, ":") {
		return fmt.Errorf("the proxy user name must be non-empty and contain no colon")
	}
	return secrets.In(secrets.OS(), KeyringService).Set(hostport, user+":"+password)
}

func osGetenv(k string) string { return os.Getenv(k) }
