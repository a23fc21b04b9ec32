package hardening

import (
	"bufio"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
)

// TestTruncatedBodiesOnTheWire sends bodies that end before they said they would (a short
// Content-Length body followed by the end of the stream, a broken chunked encoding) over a raw
// TLS connection: the answer is still a catalogued problem.
func TestTruncatedBodiesOnTheWire(t *testing.T) {
	w := newWorld(t)
	host := strings.TrimPrefix(w.env.URL, "https://")
	cases := []struct {
		name, head, body string
	}{
		{"content-length beyond the body", "Content-Length: 1000\r\n", `{"user_id":"x","password":"y"`},
		{"broken chunk", "Transfer-Encoding: chunked\r\n", "5\r\n{\"use\r\nzz\r\nnot a chunk\r\n"},
		{"chunked, no end", "Transfer-Encoding: chunked\r\n", "4\r\n{\"us\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", host, &tls.Config{RootCAs: w.env.CAPool, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
			req := "POST " + api.PathLogin + " HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\n" + tc.head + "\r\n" + tc.body
			if _, err := conn.Write([]byte(req)); err != nil {
				t.Fatal(err)
			}
			if err := conn.CloseWrite(); err != nil { // the stream ends here
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := problemOf(answer{status: resp.StatusCode, header: resp.Header, body: body}); err != nil {
				t.Fatal(err)
			}
		})
	}
	w.metaUp(t, w.rawClient(t))
}
