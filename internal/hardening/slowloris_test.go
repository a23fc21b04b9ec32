package hardening

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSlowClientsAreDropped: connections that never finish the TLS handshake, or never finish
// their request headers (slowloris), are closed by magd within its header timeout (10 s) instead
// of holding a connection for ever.
func TestSlowClientsAreDropped(t *testing.T) {
	t.Parallel() // independent of the environment; overlaps with the other slow network tests
	w := newWorld(t)
	host := strings.TrimPrefix(w.env.URL, "https://")
	const limit = 25 * time.Second // the server's 10 s, with room for a loaded machine
	stalls := map[string]func() (net.Conn, error){
		"silent TCP (no TLS handshake)": func() (net.Conn, error) { return net.Dial("tcp", host) },
		"headers never finished": func() (net.Conn, error) {
			c, err := tls.Dial("tcp", host, &tls.Config{RootCAs: w.env.CAPool, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}})
			if err != nil {
				return nil, err
			}
			_, err = c.Write([]byte("GET /v1/meta HTTP/1.1\r\nHost: " + host + "\r\nX-Slow: "))
			return c, err
		},
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	took := map[string]time.Duration{}
	for name, open := range stalls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := open()
			if err != nil {
				t.Errorf("%s: %v", name, err)
				return
			}
			defer c.Close()
			start := time.Now()
			_ = c.SetReadDeadline(start.Add(limit))
			_, err = io.Copy(io.Discard, c) // returns when the server closes the connection
			d := time.Since(start)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("%s: still open after %v", name, d)
			}
			mu.Lock()
			took[name] = d
			mu.Unlock()
		}()
	}
	wg.Wait()
	w.metaUp(t, w.rawClient(t))
	t.Logf("closed by the server after: %v", took)
}
