// Package servertest runs a real magd in-process for tests: a temporary data folder, real TLS
// with its own CA on a free loopback port, real SQLite (or PostgreSQL: WithPostgres, or every
// Start with MAGDESK_TEST_ENGINE=postgres) and a real Maildir, and fast Argon2id parameters.
// Every other package's tests talk to the server through it.
package servertest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server"
	"github.com/mag-desktop/magdesk/internal/server/mail"
	"github.com/mag-desktop/magdesk/internal/server/password"
	"github.com/mag-desktop/magdesk/internal/testenv"
)

// Env is a running magd.
type Env struct {
	URL     string
	OpsURL  string // the operations listener: /healthz, /readyz, /metrics
	CAPEM   []byte
	CAPool  *x509.CertPool
	DataDir string
	// Database is the postgres:// URL magd runs on, "" for SQLite in DataDir.
	Database string
	Server   *server.Server
	// Instances are the magd instances behind the load balancer (StartCluster); nil otherwise.
	Instances []*server.Server
	spread    bool // clients open a connection per request (StartCluster)
	cfg       server.Config
}

// Option changes the server configuration.
type Option func(*server.Config)

// WithSecurityQuestions turns the activation security questions on (the default) or off.
func WithSecurityQuestions(on bool) Option {
	return func(c *server.Config) { c.SecurityQuestions = on }
}

// WithDemo seeds the demo data (see Env.Server.Demo()).
func WithDemo() Option { return func(c *server.Config) { c.Demo = true } }

// WithNow injects the server's clock.
func WithNow(now func() time.Time) Option { return func(c *server.Config) { c.Now = now } }

// WithLoginRate sets the per-IP login budget per minute (tests default to 6000, i.e. off in practice).
func WithLoginRate(perMinute int) Option {
	return func(c *server.Config) { c.LoginRatePerMinute = perMinute }
}

// EngineEnv set to "postgres" makes every Start without WithSQLite use PostgreSQL, one fresh
// database per data folder (testenv.Postgres; a second Start on the same folder finds the
// same data): scripts/test.sh runs the server's scenario tests once more that way. Set to
// "cluster", Start is StartCluster (two instances behind HAProxy) for tests that ask for
// Cluster() (the seed scenarios).
const EngineEnv = "MAGDESK_TEST_ENGINE"

// WithPostgres runs magd on a fresh PostgreSQL database of its own (testenv.Postgres).
func WithPostgres(t testing.TB) Option {
	dsn := testenv.Postgres(t)
	return func(c *server.Config) { c.Database = dsn }
}

// Cluster starts a magd like Start, or like StartCluster when EngineEnv is "cluster": the
// scenario tests call it so that they run through the load balancer too.
func Cluster(t testing.TB, opts ...Option) *Env {
	t.Helper()
	if os.Getenv(EngineEnv) == "cluster" {
		return StartCluster(t, opts...)
	}
	return Start(t, opts...)
}

// WithSQLite keeps magd on SQLite in its data folder whatever EngineEnv says, for tests of
// the SQLite file itself.
func WithSQLite() Option { return func(c *server.Config) { c.Database = sqliteOnly } }

const sqliteOnly = "sqlite-only"

// folderDBs maps a data folder to its PostgreSQL database under EngineEnv.
var folderDBs sync.Map

func engineFor(t testing.TB, cfg *server.Config) {
	switch {
	case cfg.Database == sqliteOnly:
		cfg.Database = ""
	case cfg.Database == "" && os.Getenv(EngineEnv) == "postgres":
		dsn, ok := folderDBs.Load(cfg.DataDir)
		if !ok {
			dsn = testenv.Postgres(t)
			folderDBs.Store(cfg.DataDir, dsn)
			t.Cleanup(func() { folderDBs.Delete(cfg.DataDir) })
		}
		cfg.Database = dsn.(string)
	}
}

// WithConfig applies any change to the configuration.
func WithConfig(fn func(*server.Config)) Option { return func(c *server.Config) { fn(c) } }

// Start runs magd for the rest of the test.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	cfg := server.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", OpsAddr: "127.0.0.1:0", SecurityQuestions: true,
		Argon2: password.Fast, LoginRatePerMinute: 6000}
	for _, o := range opts {
		o(&cfg)
	}
	engineFor(t, &cfg)
	if cfg.Database != "" { // a shared database takes a data folder made by `magd init`
		now := time.Now
		if cfg.Now != nil {
			now = cfg.Now
		}
		if err := server.Init(cfg.DataDir, cfg.Hostnames, now()); err != nil {
			t.Fatalf("servertest: init the data folder: %v", err)
		}
	}
	s, err := server.Open(cfg)
	if err != nil {
		t.Fatalf("servertest: open magd: %v", err)
	}
	if err := s.Start(); err != nil {
		_ = s.Close()
		t.Fatalf("servertest: start magd: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CACertPEM()) {
		t.Fatal("servertest: the CA certificate does not parse")
	}
	e := &Env{URL: s.URL(), OpsURL: s.OpsURL(), CAPEM: s.CACertPEM(), CAPool: pool, DataDir: cfg.DataDir, Database: cfg.Database, Server: s, cfg: cfg}
	t.Cleanup(func() {
		if e.Server == nil {
			return
		}
		if err := e.Server.Close(); err != nil {
			t.Errorf("servertest: close magd: %v", err)
		}
	})
	return e
}

// Stop shuts magd down (its port then refuses connections); Restart starts it again.
func (e *Env) Stop(t testing.TB) {
	t.Helper()
	if err := e.Server.Close(); err != nil {
		t.Fatalf("servertest: stop magd: %v", err)
	}
	e.Server = nil
}

// Restart starts a stopped magd again on the same address, data folder and database: its
// sessions, accounts and CA are those it had.
func (e *Env) Restart(t testing.TB) {
	t.Helper()
	cfg := e.cfg
	u, err := url.Parse(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = u.Host
	s, err := server.Open(cfg)
	if err != nil {
		t.Fatalf("servertest: reopen magd: %v", err)
	}
	if err := s.Start(); err != nil {
		_ = s.Close()
		t.Fatalf("servertest: restart magd: %v", err)
	}
	e.Server = s
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// CreateOrg creates an organisation.
func (e *Env) CreateOrg(t testing.TB, name string) string {
	t.Helper()
	id, err := e.Server.CreateOrg(ctx(t), name)
	if err != nil {
		t.Fatalf("servertest: create org: %v", err)
	}
	return id
}

// CreateUser creates a pending account; its activation email is in the Maildir.
func (e *Env) CreateUser(t testing.TB, orgID, email, first, last string, orgAdmin bool) string {
	t.Helper()
	id, err := e.Server.CreateUser(ctx(t), server.NewUser{OrgID: orgID, Email: email, FirstName: first, LastName: last, OrgAdmin: orgAdmin})
	if err != nil {
		t.Fatalf("servertest: create user: %v", err)
	}
	return id
}

var tokenRE = regexp.MustCompile(`magdesk://activate\?token=([A-Za-z0-9_-]{43})`)

// ActivationToken is the token of the newest activation email of a user.
func (e *Env) ActivationToken(t testing.TB, userID string) string {
	t.Helper()
	msgs := e.Mails(t)
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Template == "activation" && strings.Contains(m.Body, "Your user ID: "+userID+"\n") {
			if sm := tokenRE.FindStringSubmatch(m.Body); sm != nil {
				return sm[1]
			}
		}
	}
	t.Fatalf("servertest: no activation email for %s", userID)
	return ""
}

// Answers are four valid security answers (used when the server asks for them).
var Answers = []api.SecurityAnswer{
	{QuestionID: "q01", Answer: "Rex the dog"}, {QuestionID: "q02", Answer: "Lisbon"},
	{QuestionID: "q03", Answer: "Hill Street School"}, {QuestionID: "q04", Answer: "Volvo"},
}

// CreateActiveUser creates an account and activates it through the real activation endpoint.
func (e *Env) CreateActiveUser(t testing.TB, orgID, email, first, last, pw string, orgAdmin bool) string {
	t.Helper()
	id := e.CreateUser(t, orgID, email, first, last, orgAdmin)
	req := api.ActivationCompleteRequest{Token: e.ActivationToken(t, id), Password: pw, PasswordConfirm: pw}
	var meta api.Meta
	if st, p := e.Do(t, e.Client(t, nil), "GET", api.PathMeta, "", nil, &meta); st != http.StatusOK {
		t.Fatalf("servertest: meta: %d %v", st, p)
	}
	if meta.SecurityQuestionsRequired > 0 {
		req.SecurityAnswers = Answers
	}
	if st, p := e.Do(t, e.Client(t, nil), "POST", api.PathActivationComplete, "", req, nil); st != http.StatusOK {
		t.Fatalf("servertest: activate %s: %d %v", id, st, p)
	}
	return id
}

// AddApp adds an application (url may be a path on magd, e.g. /demoapps/APP).
func (e *Env) AddApp(t testing.TB, appID, name, url, terms string, requiredAAL int) {
	t.Helper()
	if err := e.Server.AddApp(ctx(t), server.NewApp{ID: appID, Name: name, URL: url, Terms: terms, RequiredAAL: requiredAAL}); err != nil {
		t.Fatalf("servertest: add app: %v", err)
	}
}

// Subscribe subscribes an organisation to an application.
func (e *Env) Subscribe(t testing.TB, orgID, appID string) {
	t.Helper()
	if err := e.Server.Subscribe(ctx(t), orgID, appID); err != nil {
		t.Fatalf("servertest: subscribe: %v", err)
	}
}

// Mails is every email in the Maildir, oldest first.
func (e *Env) Mails(t testing.TB) []mail.Message {
	t.Helper()
	msgs, err := mail.ReadMaildir(e.Server.MailDir())
	if err != nil {
		t.Fatalf("servertest: read Maildir: %v", err)
	}
	return msgs
}

// Client is an HTTPS client that trusts the server's CA and offers cert when given; every
// answer it gets is checked against api/openapi.yaml (CheckContract).
func (e *Env) Client(t testing.TB, cert *tls.Certificate) *http.Client {
	t.Helper()
	cfg := &tls.Config{RootCAs: e.CAPool, MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 16, DisableKeepAlives: e.spread}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: CheckContract(t, tr), Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Do sends a JSON request (token "" for none) and decodes a 2xx answer into out; for an error
// it returns the decoded problem.
func (e *Env) Do(t testing.TB, c *http.Client, method, path, token string, body, out any) (int, *api.Problem) {
	t.Helper()
	return e.DoHeaders(t, c, method, path, token, nil, body, out)
}

// DoHeaders is Do with extra request headers (Expected-User-Id, for instance).
func (e *Env) DoHeaders(t testing.TB, c *http.Client, method, path, token string, h http.Header, body, out any) (int, *api.Problem) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("servertest: encode body: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx(t), method, e.URL+path, rd)
	if err != nil {
		t.Fatalf("servertest: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("servertest: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("servertest: read answer: %v", err)
	}
	if resp.StatusCode >= 300 {
		var p api.Problem
		if ct := resp.Header.Get("Content-Type"); ct != api.ProblemContentType {
			t.Fatalf("servertest: %s %s: status %d with Content-Type %q: %s", method, path, resp.StatusCode, ct, data)
		}
		if err := json.Unmarshal(data, &p); err != nil {
			t.Fatalf("servertest: %s %s: bad problem body %q: %v", method, path, data, err)
		}
		return resp.StatusCode, &p
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("servertest: %s %s: decode %q: %v", method, path, data, err)
		}
	}
	return resp.StatusCode, nil
}

// Login logs in with a password (and optional OTP) and returns the session token.
func (e *Env) Login(t testing.TB, c *http.Client, userID, pw string) (api.LoginResponse, *api.Problem) {
	t.Helper()
	var out api.LoginResponse
	_, p := e.Do(t, c, "POST", api.PathLogin, "", api.LoginRequest{UserID: userID, Password: pw}, &out)
	return out, p
}
