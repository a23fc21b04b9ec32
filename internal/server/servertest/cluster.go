package servertest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/internal/server"
	"github.com/mag-desktop/magdesk/internal/testenv"
)

// StartCluster runs magd as two instances on one fresh PostgreSQL database and one data folder
// (made by server.Init, as `magd init` does) behind a real HAProxy (StartBalanced). Clients of
// the Env open a connection per request, so that requests spread over both instances; the
// per-process caches are off (Config.NoCaches) so that each request sees every write made
// through the other.
func StartCluster(t testing.TB, opts ...Option) *Env {
	t.Helper()
	env := StartBalanced(t, 2, append(opts, WithPostgres(t), WithConfig(func(c *server.Config) { c.NoCaches = true }))...)
	env.spread = true
	return env
}

// StartBalanced runs n magd instances with one data folder behind a real HAProxy in TCP mode:
// TLS passes through, so each instance still sees the client certificate, and HAProxy tells
// each instance the client's address with the PROXY protocol. HAProxy balances
// connections round robin and health-checks /readyz on each instance's operations listener.
// Several instances need a shared database among opts (WithPostgres). Env.URL is HAProxy's,
// Env.Server the first instance and Env.Instances all of them.
func StartBalanced(t testing.TB, n int, opts ...Option) *Env {
	t.Helper()
	haproxy := testenv.NeedTool(t, "haproxy")
	front := FreePort(t)
	public := "https://127.0.0.1:" + strconv.Itoa(front)
	dir := t.TempDir()
	var envs []*Env
	for range n {
		e := Start(t, append(append([]Option{}, opts...), WithConfig(func(c *server.Config) {
			c.DataDir, c.PublicURL = dir, public
			c.ProxyAddrs, c.ProxyProtocol = []string{"127.0.0.1"}, true
		}))...)
		envs = append(envs, e)
	}
	backends := ""
	env := *envs[0]
	for i, e := range envs {
		_, ops, _ := net.SplitHostPort(e.OpsURL[len("http://"):])
		backends += fmt.Sprintf("  server magd%d %s send-proxy-v2 check port %s inter 300ms fall 2 rise 1\n", i+1, e.Server.Addr(), ops)
		env.Instances = append(env.Instances, e.Server)
	}
	StartHAProxy(t, haproxy, front, backends)
	env.URL = public
	return &env
}

// FreePort is a TCP port free on 127.0.0.1 at the time of the call.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// StartHAProxy runs HAProxy in TCP mode on 127.0.0.1:front in front of the server lines of
// backends (HAProxy syntax), until the test ends. A connection refused by an instance is
// retried on another (redispatch).
func StartHAProxy(t testing.TB, haproxy string, front int, backends string) {
	t.Helper()
	cfg := fmt.Sprintf(`global
  maxconn 2000
defaults
  mode tcp
  timeout connect 2s
  timeout client 120s
  timeout server 120s
  retries 3
  option redispatch
frontend magd_tls
  bind 127.0.0.1:%d
  default_backend magd
backend magd
  balance roundrobin
  option httpchk GET /readyz
%s`, front, backends)
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(haproxy, "-f", path, "-db")
	log, _ := os.Create(filepath.Join(filepath.Dir(path), "haproxy.log"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("servertest: start haproxy: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = log.Close()
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("haproxy's output:\n%s", b)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(front))
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(log.Name())
			t.Fatalf("servertest: haproxy does not listen: %v\n%s", err, b)
		}
	}
}
