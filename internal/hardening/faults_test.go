package hardening

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/server"
	"github.com/mag-desktop/magdesk/internal/server/password"
	"github.com/mag-desktop/magdesk/internal/service"
)

// magdOn opens magd on a fixed loopback address with a data folder that outlives it, so that it
// can be stopped and brought back on the same port with the same CA.
func magdOn(t *testing.T, dir, addr string) *server.Server {
	t.Helper()
	s, err := server.Open(server.Config{DataDir: dir, Addr: addr, Argon2: password.Fast, SecurityQuestions: true, LoginRatePerMinute: 6000})
	if err != nil {
		t.Fatalf("open magd on %s: %v", addr, err)
	}
	if err := s.Start(); err != nil {
		_ = s.Close()
		t.Fatalf("start magd: %v", err)
	}
	return s
}

// faultServer misbehaves on addr until closed.
type faultServer struct {
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	conn []net.Conn
	once sync.Once
}

// stall accepts TCP connections on addr and never sends a byte: the TLS handshake hangs.
func stall(t *testing.T, addr string) *faultServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	f := &faultServer{ln: ln}
	t.Cleanup(f.close) // also when the test stops early
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conn = append(f.conn, c)
			f.mu.Unlock()
		}
	}()
	return f
}

func (f *faultServer) close() {
	f.once.Do(func() {
		_ = f.ln.Close()
		f.wg.Wait()
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, c := range f.conn {
			_ = c.Close()
		}
	})
}

// slow completes the TLS handshake with magd's own certificate, reads the request and then
// does not answer (for at most 20 s, so nothing outlives the test).
func slow(t *testing.T, addr, dataDir string) *http.Server {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(filepath.Join(dataDir, "ca", "server.pem"), filepath.Join(dataDir, "ca", "server-key.pem"))
	if err != nil {
		t.Fatalf("load magd's server certificate: %v", err)
	}
	ln, err := tls.Listen("tcp", addr, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() }) // also when the test stops early
	return srv
}

// TestClientOfflineAndRecovers: the real client facing a dead, a slow and a half-open server says
// offline (timeout for the last two) within its timeout, and works again as soon as magd is back
// on the same port — with the same Client value.
func TestClientOfflineAndRecovers(t *testing.T) {
	t.Parallel() // independent of the environment; overlaps with the other slow network tests
	dir := t.TempDir()
	first := magdOn(t, dir, "127.0.0.1:0")
	addr := first.URL()[len("https://"):]
	caPEM := first.CACertPEM()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	const timeout = 1500 * time.Millisecond
	c, err := client.New(client.Options{ServerURL: "https://" + addr, CAPEM: caPEM, Timeout: timeout, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	back := func(stage string) {
		t.Helper()
		s := magdOn(t, dir, addr)
		defer func() {
			if err := s.Close(); err != nil {
				t.Errorf("close magd: %v", err)
			}
		}()
		// A few tries: on a loaded machine one TLS handshake can outlast the short timeout;
		// what matters is that the same client gets through, and says offline until it does.
		var err error
		for range 5 {
			var m *api.Meta
			if m, err = c.Meta(context.Background()); err == nil && m.APIVersion == api.Version {
				return
			}
			if err != nil && !client.IsOffline(err) {
				break
			}
		}
		t.Fatalf("after %s, magd is back on %s but the client says: %v", stage, addr, err)
	}
	call := func(stage string, wantTimeout bool) {
		t.Helper()
		start := time.Now()
		_, err := c.Meta(context.Background())
		took := time.Since(start)
		if !client.IsOffline(err) || client.IsTimeout(err) != wantTimeout {
			t.Fatalf("%s: err = %v (offline %v, timeout %v), want offline with timeout=%v", stage, err, client.IsOffline(err), client.IsTimeout(err), wantTimeout)
		}
		if msg := service.Message(err); msg == "" {
			t.Fatalf("%s: no message for the user", stage)
		}
		if took > timeout+5*time.Second {
			t.Fatalf("%s: the call took %v with a timeout of %v", stage, took, timeout)
		}
		t.Logf("%s: %s", stage, service.Message(err))
	}

	call("dead server (closed port)", false)
	back("the dead server")

	f := stall(t, addr)
	call("half-open server (TCP accepted, TLS handshake stalled)", true)
	f.close()
	back("the half-open server")

	s := slow(t, addr, dir)
	call("slow server (request read, never answered)", true)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = s.Shutdown(ctx)
	cancel()
	_ = s.Close()
	back("the slow server")
}

// mountTmpfs mounts a small tmpfs at dir for the rest of the test.
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := execOut("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir); err != nil {
		t.Skipf("cannot mount a tmpfs for the full-disk test (needs root/CAP_SYS_ADMIN): %v %s", err, out)
	}
	t.Cleanup(func() {
		// Lazily if busy: a file left open in this process (see TestCLIClosesItsFiles) must
		// not stop the folder from being cleaned up.
		if _, err := execOut("umount", dir); err != nil {
			if out, err := execOut("umount", "-l", dir); err != nil {
				t.Errorf("umount %s: %v %s", dir, err, out)
			}
		}
	})
}

// fillDisk writes a file until the file system is full (bounded by max bytes).
func fillDisk(t *testing.T, path string, max int) int {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("create filler: %v", err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	n := 0
	for n < max {
		w, err := f.Write(buf)
		n += w
		if err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filler: %v", err)
			}
			return n
		}
	}
	t.Fatalf("wrote %d bytes without filling the disk", n)
	return n
}

func execOut(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}
