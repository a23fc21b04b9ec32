package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/netconf"
)

// Kind tells apart what went wrong, independently of the server's problem code.
type Kind int

// Kinds of errors. KindProblem is an answer of the API (see Error.Problem); the others
// mean no usable answer arrived.
const (
	KindProblem         Kind = iota + 1 // the server answered with problem+json
	KindOffline                         // no network, DNS failure, connection refused or reset
	KindTimeout                         // the server did not answer in time
	KindUntrustedServer                 // the server's certificate is not trusted or not for this name
	KindTLS                             // the secure connection failed for another reason
	KindServer                          // 5xx without problem+json, HTML, garbage, body too large
	KindAccountMismatch                 // the session belongs to another account than expected
	KindCanceled                        // the caller cancelled
	KindConfig                          // bad server URL, CA bundle or proxy
	KindInput                           // bad input caught before sending (e.g. a malformed link)
	KindProxy                           // the proxy configuration or the proxy itself failed (see Error.Proxy)
	KindIntercepted                     // a proxy on the network re-signed the connection with its own CA
	KindClock                           // the server's certificate looks not yet valid: this computer's clock is behind
)

var kindNames = map[Kind]string{
	KindProblem: "problem", KindOffline: "offline", KindTimeout: "timeout",
	KindUntrustedServer: "untrusted_server", KindTLS: "tls", KindServer: "server_error",
	KindAccountMismatch: "account_mismatch", KindCanceled: "canceled", KindConfig: "config",
	KindInput: "input", KindProxy: "proxy", KindIntercepted: "tls_intercepted", KindClock: "clock",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "unknown"
}

// Error is every error the client returns. errors.As(err, new(*api.Problem)) finds the
// server's problem when there is one.
type Error struct {
	Kind    Kind
	Op      string       // what was attempted, e.g. "login"
	Server  string       // host:port
	Status  int          // HTTP status, 0 when no answer
	Problem *api.Problem // the server's answer, for KindProblem (and a mismatch the server found)
	Err     error        // the underlying cause
	// ExpectedUser and ActualUser are set for KindAccountMismatch when known.
	ExpectedUser, ActualUser string
	// Issuer names who signed the server's certificate, for KindUntrustedServer, KindIntercepted
	// and KindClock; ValidFrom is the certificate's start, for KindClock.
	Issuer    string
	ValidFrom time.Time
	// ClockSkew is the server's clock minus this computer's when the answer came, if measured.
	ClockSkew time.Duration
	// retryAfter is the Retry-After (seconds) of an answer that carried no problem.
	retryAfter int
}

func (e *Error) Error() string {
	prefix := e.Op
	if prefix == "" {
		prefix = "request"
	}
	switch {
	case e.Problem != nil:
		return prefix + ": " + e.Problem.Error()
	case e.Err != nil:
		return fmt.Sprintf("%s: %s: %v", prefix, e.Kind, e.Err)
	default:
		return prefix + ": " + e.Kind.String()
	}
}

// Unwrap exposes both the problem and the cause to errors.Is/As.
func (e *Error) Unwrap() []error {
	var out []error
	if e.Problem != nil {
		out = append(out, e.Problem)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// Code is the problem code, or "" when the server gave none.
func (e *Error) Code() api.Code {
	if e.Problem == nil {
		return ""
	}
	return e.Problem.Code
}

// ErrNoServer is the cause of the configuration error of a client without a server address.
var ErrNoServer = errors.New("no server is set")

// IsNoServer reports that no server address is set.
func IsNoServer(err error) bool { return errors.Is(err, ErrNoServer) }

// AsError finds the client's Error in err's chain.
func AsError(err error) (*Error, bool) {
	var ce *Error
	ok := errors.As(err, &ce)
	return ce, ok
}

// ProblemOf returns the server's problem in err's chain, or nil.
func ProblemOf(err error) *api.Problem {
	var p *api.Problem
	if errors.As(err, &p) {
		return p
	}
	return nil
}

// HasCode reports whether err carries the problem code.
func HasCode(err error, code api.Code) bool {
	p := ProblemOf(err)
	return p != nil && p.Code == code
}

func isKind(err error, k Kind) bool {
	ce, ok := AsError(err)
	return ok && ce.Kind == k
}

// IsWrongCertificate reports Error 2035: the certificate presented is bound to another account.
func IsWrongCertificate(err error) bool {
	p := ProblemOf(err)
	return p != nil && (p.Code == api.CodeCertWrongAccount || p.MagCode == api.MagCodeWrongCertificate)
}

// IsAccountMismatch reports that the cached session acts as another account than expected
// (SESSION_ACCOUNT_MISMATCH, or GET /v1/me naming someone else). Offer to clear cached sessions.
func IsAccountMismatch(err error) bool {
	return isKind(err, KindAccountMismatch) || HasCode(err, api.CodeSessionAccountMismatch)
}

// IsMFARequired reports that the password was right and a one-time code is needed; ticket
// goes to LoginMFA.
func IsMFARequired(err error) (ticket string, ok bool) {
	p := ProblemOf(err)
	if p == nil || p.Code != api.CodeMFARequired {
		return "", false
	}
	return p.MFATicket, true
}

// IsLocked reports a temporary lockout and how long to wait (0 when the server did not say).
func IsLocked(err error) (retryAfter time.Duration, ok bool) {
	p := ProblemOf(err)
	if p == nil || p.Code != api.CodeAccountLocked {
		return 0, false
	}
	return seconds(p.RetryAfter), true
}

// ProblemRetry is how long the server asked to wait before trying again (0 when it did not
// say), bounded to a day.
func ProblemRetry(p *api.Problem) time.Duration { return seconds(p.RetryAfter) }

// IsOffline reports that the server could not be reached at all (network, DNS, refused, timeout).
func IsOffline(err error) bool { return isKind(err, KindOffline) || isKind(err, KindTimeout) }

// IsTimeout reports that the server did not answer in time.
func IsTimeout(err error) bool { return isKind(err, KindTimeout) }

// IsUntrustedServer reports that the server's certificate was not trusted: wrong server, or a
// private CA that needs adding (--ca, settings).
func IsUntrustedServer(err error) bool { return isKind(err, KindUntrustedServer) }

// ProxyError is the proxy problem in err's chain, or nil.
func ProxyError(err error) *netconf.Error {
	var pe *netconf.Error
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// IsIntercepted reports that something on the network presented its own certificate for the
// gateway: a TLS-inspecting proxy whose CA this computer does not trust.
func IsIntercepted(err error) bool { return isKind(err, KindIntercepted) }

// IsServerError reports a broken answer: 5xx, HTML, garbage.
func IsServerError(err error) bool {
	return isKind(err, KindServer) || HasCode(err, api.CodeInternal)
}

// IsUnauthenticated reports that the session is gone (expired, revoked, never valid): log in again.
func IsUnauthenticated(err error) bool {
	return HasCode(err, api.CodeUnauthenticated) || HasCode(err, api.CodeSessionExpired)
}

// classifyTransport turns an error of the HTTP round trip into an *Error.
func classifyTransport(ctx context.Context, op, server string, err error) *Error {
	e := &Error{Op: op, Server: server, Err: err}
	var (
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalid    x509.CertificateInvalidError
		verifyErr  *tls.CertificateVerificationError
		dnsErr     *net.DNSError
		netErr     net.Error
		recordErr  tls.RecordHeaderError
		alertErr   tls.AlertError
		opErr      *net.OpError
		proxyErr   *netconf.Error
		tooLargeIs = errors.Is(err, errBodyTooLarge)
	)
	switch {
	case ctx.Err() == context.Canceled:
		e.Kind = KindCanceled
	case errors.As(err, &proxyErr):
		e.Kind = KindProxy
	case errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalid),
		errors.As(err, &verifyErr):
		e.Kind = KindUntrustedServer
	case tooLargeIs:
		e.Kind = KindServer
	case errors.As(err, &dnsErr):
		e.Kind = KindOffline
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		e.Kind = KindTimeout
	case errors.As(err, &recordErr), errors.As(err, &alertErr):
		e.Kind = KindTLS
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE):
		e.Kind = KindOffline
	case errors.As(err, &opErr):
		e.Kind = KindOffline
	default:
		// EOF and friends: the server hung up mid-answer; treat it as unreachable so
		// idempotent calls are retried and the user is told to try again.
		e.Kind = KindOffline
	}
	return e
}

// OfflineCause is why a server could not be reached, when it is known.
type OfflineCause string

// Causes of KindOffline.
const (
	OfflineUnknown OfflineCause = ""
	OfflineProxy   OfflineCause = "proxy"
	OfflineDNS     OfflineCause = "dns"
	OfflineRefused OfflineCause = "refused"
)

// OfflineCauseOf says why the server of an unreachable err could not be reached.
func OfflineCauseOf(err error) OfflineCause {
	var (
		dnsErr *net.DNSError
		opErr  *net.OpError
	)
	switch {
	case errors.As(err, &opErr) && opErr.Op == "proxyconnect":
		return OfflineProxy
	case errors.As(err, &dnsErr):
		return OfflineDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return OfflineRefused
	default:
		return OfflineUnknown
	}
}
