package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/mag-desktop/magdesk/internal/netconf"
)

// MaxClockSkew is the largest difference between this computer's clock and the server's at
// which one-time codes still work: a code is valid for one 30-second step either side.
const MaxClockSkew = 30 * time.Second

// netState is what every answer teaches about the network, shared by a client and those
// derived from it with WithCertificate.
type netState struct {
	mu      sync.Mutex
	skew    time.Duration
	skewSet bool
	peer    []*x509.Certificate
}

// watch wraps the transport: it reads the server's Date header of every answer (the server's
// clock) and keeps the certificate chain the server presented.
type watch struct {
	base http.RoundTripper
	st   *netState
}

func (w watch) RoundTrip(req *http.Request) (*http.Response, error) {
	sent := time.Now()
	resp, err := w.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	got := time.Now()
	w.st.mu.Lock()
	defer w.st.mu.Unlock()
	if d, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
		// Date has whole seconds: compare its middle with the middle of the round trip.
		local := sent.Add(got.Sub(sent) / 2)
		w.st.skew = d.Add(500 * time.Millisecond).Sub(local).Round(time.Second)
		w.st.skewSet = true
	}
	if resp.TLS != nil {
		w.st.peer = resp.TLS.PeerCertificates
	}
	return resp, nil
}

// ClockSkew is the server's clock minus this computer's, measured on the last answer; ok is
// false before any answer.
func (c *Client) ClockSkew() (skew time.Duration, ok bool) {
	c.net.mu.Lock()
	defer c.net.mu.Unlock()
	return c.net.skew, c.net.skewSet
}

// ServerChain is the certificate chain the server presented on the last answer, leaf first.
func (c *Client) ServerChain() []*x509.Certificate {
	c.net.mu.Lock()
	defer c.net.mu.Unlock()
	return c.net.peer
}

// Network is the proxy resolver of this client (shared by its derived clients).
func (c *Client) Network() *netconf.Resolver { return c.resolver }

// SkewTooLarge reports whether a clock difference breaks one-time codes.
func SkewTooLarge(d time.Duration) bool { return d > MaxClockSkew || d < -MaxClockSkew }

// refineTLS tells an intercepting proxy and a wrong local clock apart from an untrusted server.
// A certificate for the right name from an issuer that is neither trusted nor the gateway's CA
// (when the gateway's CA is configured, a gateway certificate verifies) is a proxy re-signing
// the connection. A certificate that is not yet valid means this computer's clock is behind.
func (c *Client) refineTLS(e *Error) {
	var verr *tls.CertificateVerificationError
	if !errors.As(e.Err, &verr) || len(verr.UnverifiedCertificates) == 0 {
		return
	}
	leaf := verr.UnverifiedCertificates[0]
	e.Issuer = IssuerName(leaf)
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(e.Err, &invalid) && invalid.Reason == x509.Expired && time.Now().Before(leaf.NotBefore):
		e.Kind = KindClock
		e.ValidFrom = leaf.NotBefore
	case errors.As(e.Err, &unknown) && leaf.VerifyHostname(c.server.Hostname()) == nil && c.gatewayCAKnown():
		e.Kind = KindIntercepted
	}
}

func (c *Client) gatewayCAKnown() bool { return len(c.opts.CAPEM) > 0 || c.opts.CAFile != "" }

// IssuerName is a certificate's issuer as people read it: its common name, or the whole name.
func IssuerName(cert *x509.Certificate) string {
	if cert.Issuer.CommonName != "" {
		return cert.Issuer.CommonName
	}
	return cert.Issuer.String()
}
