package service

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/config"
	"github.com/mag-desktop/magdesk/internal/server/servertest"
)

// countingProxy forwards loopback TCP to target and counts the bytes both ways (TLS records,
// HTTP/2 frames and all: what goes over the wire).
type countingProxy struct {
	ln    net.Listener
	bytes atomic.Int64
	conns atomic.Int64
	wg    sync.WaitGroup
	mu    sync.Mutex
	open  []net.Conn
}

func newCountingProxy(tb testing.TB, target string) *countingProxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &countingProxy{ln: ln}
	tb.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		for _, c := range p.open { // the client keeps its connection for a minute
			_ = c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.conns.Add(1)
			p.mu.Lock()
			p.open = append(p.open, c)
			p.mu.Unlock()
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer c.Close()
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				done := make(chan struct{}, 2)
				pipe := func(dst, src net.Conn) {
					n, _ := io.Copy(dst, src)
					p.bytes.Add(n)
					if tc, ok := dst.(*net.TCPConn); ok {
						_ = tc.CloseWrite()
					}
					done <- struct{}{}
				}
				go pipe(up, countingConn{c, &p.bytes})
				pipe(c, countingConn{up, &p.bytes})
				<-done
			}()
		}
	}()
	return p
}

// countingConn counts what is read as it is read, so that a connection still open is counted.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// BenchmarkIdleEventsTraffic measures what an idle logged-in app sends and receives for the
// events feed: the watcher long-polls a real magd through a byte-counting loopback proxy with
// the wait shortened to one second, and the per-hour figures scale the measured requests (and
// their bytes) to the app's default wait (the goals are in benchreport's table of figures).
func BenchmarkIdleEventsTraffic(b *testing.B) {
	const wait, polls = time.Second, 10
	env := servertest.Start(b, servertest.WithSecurityQuestions(false))
	uid := env.CreateActiveUser(b, env.CreateOrg(b, "Acme"), "a@acme.example", "Ann", "Able", "plum orbit lantern quietly 42", false)
	proxy := newCountingProxy(b, strings.TrimPrefix(env.URL, "https://"))
	home := b.TempDir()
	ca := filepath.Join(home, "ca.pem")
	if err := os.WriteFile(ca, env.CAPEM, 0o600); err != nil {
		b.Fatal(err)
	}
	st := config.Defaults()
	st.ServerURL, st.CABundle = "https://"+proxy.ln.Addr().String(), ca
	svc := NewService(Options{Home: home, Settings: config.Effective{Settings: st}, Sessions: client.NewSessionStore(nil)})
	ctx := context.Background()
	me, err := svc.Login(ctx, LoginRequest{UserID: uid, Password: "plum orbit lantern quietly 42", NoCertificate: true})
	if err != nil {
		b.Fatal(err)
	}
	var perPoll, pollSecs, perHour, kbPerHour float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// The first two polls (the cursor, then one wait) come after the login's handshake;
		// counting starts after them, as in the app long after it went idle.
		var n int
		var began time.Time
		var counted, conns int64
		wctx, cancel := context.WithCancel(ctx)
		err := svc.WatchEvents(wctx, WatchOptions{Wait: wait, OwnSession: me.Session.ID, Polled: func(api.EventPage) {
			n++
			switch {
			case n == 2:
				proxy.bytes.Store(0)
				conns = proxy.conns.Load()
				began = time.Now()
			case n == 2+polls:
				counted = proxy.bytes.Load()
				conns = proxy.conns.Load() - conns
				cancel()
			}
		}}, func(Notice) {})
		elapsed := time.Since(began)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		perPoll = float64(counted) / polls
		pollSecs = elapsed.Seconds() / polls
		// At the default wait each poll lasts api.EventsDefaultWait s instead of wait.
		perHour = 3600 / (pollSecs * api.EventsDefaultWait / wait.Seconds())
		kbPerHour = perHour * perPoll / 1000
		if conns != 0 {
			b.Errorf("%d new connections while idle: the watcher should keep its one", conns)
		}
	}
	b.StopTimer()
	b.ReportMetric(perHour, "requests/idle-hour")
	b.ReportMetric(kbPerHour, "KB/idle-hour")
	b.ReportMetric(perPoll, "bytes/poll")
	b.ReportMetric(pollSecs, "s/poll-at-1s-wait")
}
