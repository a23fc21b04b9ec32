package server

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/pires/go-proxyproto"
)

// The PROXY protocol (HAProxy's send-proxy-v2) lets a TCP proxy that passes TLS through tell
// magd whose connection it carries, so that throttling and the audit log see the client's
// address instead of the proxy's. Only the proxies named in Config.ProxyAddrs may say so: a
// PROXY header from any other address would let a client choose its own address, and is refused.

// proxyListener reads the PROXY header of connections from the named proxies when
// Config.ProxyProtocol is on; a connection from a proxy without one (its health check, a
// tool on its host) keeps the proxy's address.
func (s *Server) proxyListener(ln net.Listener) net.Listener {
	if !s.cfg.ProxyProtocol {
		return ln
	}
	return &proxyproto.Listener{
		Listener:          ln,
		ReadHeaderTimeout: 5 * time.Second,
		ConnPolicy: func(o proxyproto.ConnPolicyOptions) (proxyproto.Policy, error) {
			if slices.Contains(s.cfg.ProxyAddrs, hostOf(o.Upstream)) {
				return proxyproto.USE, nil
			}
			return proxyproto.REJECT, nil
		},
	}
}

func hostOf(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	host, _, _ := net.SplitHostPort(a.String())
	return host
}

type connKey struct{}

// withConn keeps the connection in the request's context (http.Server.ConnContext); reading
// its PROXY header is left to the request, off the accept loop.
func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// hidesClient reports whether r reached magd through a proxy that did not say whose
// connection it is: r's address is then the proxy's, shared by all its clients.
func (s *Server) hidesClient(r *http.Request) bool {
	if !slices.Contains(s.cfg.ProxyAddrs, clientIP(r)) {
		return false
	}
	c, _ := r.Context().Value(connKey{}).(net.Conn)
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	pc, ok := c.(*proxyproto.Conn)
	return !ok || pc.ProxyHeader() == nil || pc.ProxyHeader().Command.IsLocal()
}
