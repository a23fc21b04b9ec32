// Package server is magd, the reference gateway server: the HTTP API of package api over TLS, backed
// by SQLite or PostgreSQL (server/store), its own CA (server/ca) and a mail outbox (server/mail).
package server

import (
	"cmp"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mag-desktop/magdesk/internal/server/ca"
	"github.com/mag-desktop/magdesk/internal/server/keyring"
	"github.com/mag-desktop/magdesk/internal/server/mail"
	"github.com/mag-desktop/magdesk/internal/server/oidcop"
	"github.com/mag-desktop/magdesk/internal/server/password"
	"github.com/mag-desktop/magdesk/internal/server/samlidp"
	"github.com/mag-desktop/magdesk/internal/server/store"
)

// Config configures a Server. The zero value of every field has a sensible default.
type Config struct {
	DataDir string
	// Database is a postgres:// URL of the database shared by every instance; "" is the SQLite
	// file DataDir/magd.db of this instance alone.
	Database          string
	Addr              string // default 127.0.0.1:8443; "127.0.0.1:0" for a free port
	Hostnames         []string
	Demo              bool
	SecurityQuestions bool            // MAG fidelity: four security questions at activation
	Argon2            password.Params // zero -> password.Default (OWASP); tests use password.Fast
	Now               func() time.Time
	Logger            *slog.Logger
	SMTP              *mail.SMTPConfig // nil -> Maildir only

	// AdminOnly opens DataDir for `magd admin` while `magd serve` may be running on it:
	// no listener, and the CA files are left alone.
	AdminOnly bool
	// LoginRatePerMinute is the per-IP login budget (burst twice that); 0 -> 30, negative -> off.
	LoginRatePerMinute int
	// PasswordPolicy; zero -> password.DefaultPolicy.
	PasswordPolicy password.Policy
	// HashConcurrency is how many Argon2id hashes run at once (the queue holds four times as
	// many more). 0 -> one less than the number of CPUs (at least one), so that a CPU is left
	// for the other requests: with every CPU hashing their p99 was 15-35 times higher
	// (cmd/magload, 200 clients). One per CPU with HashLowPriority or for hashes that cost next
	// to nothing (test parameters).
	HashConcurrency int
	// HashLowPriority runs each hash on a thread of its own below every other request's OS
	// priority (Linux only; elsewhere a warning is logged and hashes run normally), with a slot
	// per CPU by default and GOMAXPROCS raised by as many. hashprio.go has the trade-off.
	HashLowPriority bool
	// ProxyAddrs are the addresses of TCP proxies in front of magd (HAProxy in TCP mode).
	// Without the PROXY protocol they hide the clients' addresses: guesses that come through
	// them are not counted per source, which would throttle every client at once; their (user
	// id, source) lock then acts per user id.
	ProxyAddrs []string
	// ProxyProtocol reads a PROXY protocol header (v1 or v2) on connections from ProxyAddrs, so
	// that the clients behind them are told apart again; a header from any other address is
	// refused.
	ProxyProtocol bool
	// CertsPerHour and MaxActiveCerts bound the certificates one account may be issued in an
	// hour and hold active at once; 0 -> 6 and 10 (a person has a few devices and renews each
	// about once a year, so these leave room for every honest use while bounding the signing
	// work and the records one account can cause).
	CertsPerHour, MaxActiveCerts int
	// PublicURL is the base URL clients reach this server at, put into emails and launch links;
	// "" derives it from the first hostname and the listener's port. Behind a load balancer it
	// is the balancer's address, the same for every instance.
	PublicURL string
	// NoCaches turns off the per-process caches (sessions, Home): for tests that spread each
	// request over several instances and must see every write at once. With the caches on, a
	// change made through one instance shows on the others within their TTLs (README).
	NoCaches bool
	// OpsAddr is the address of the operations listener (/healthz, /readyz, /metrics; plain
	// HTTP, see ops.go); "" for none.
	OpsAddr string
	// DrainDelay is how long Close answers /readyz with 503 while still serving, so that the load
	// balancer's health check moves new requests to other instances before the listener closes.
	DrainDelay time.Duration
	// RecoveryMinDuration pads every recovery answer to this duration so that known and unknown
	// user ids take equally long; 0 -> 300 ms, negative -> no padding.
	RecoveryMinDuration time.Duration
}

// Lifetimes and limits.
const (
	activationTTL   = 24 * time.Hour
	sessionIdle     = 60 * time.Minute
	sessionAbsolute = 24 * time.Hour
	mfaTicketTTL    = 5 * time.Minute
	mfaMaxAttempts  = 5
	launchTTL       = 60 * time.Second
	enrollmentTTL   = 10 * time.Minute
	maxBodyBytes    = 64 << 10
	requestTimeout  = 30 * time.Second
)

// Server is one magd instance.
type Server struct {
	cfg     Config
	log     *slog.Logger
	st      *store.Store
	ca      *ca.Authority
	outbox  mail.Outbox
	mailDir string
	policy  password.Policy

	secret   []byte // DATA/secret.key: root of the TOTP and signing-key encryption keys
	aead     cipher.AEAD
	mailAEAD cipher.AEAD // bodies in the mail outbox table
	dummyPHC string

	sessions    sessionCache
	hub         eventHub
	apps        appsCache
	hashSem     chan struct{}
	hashQueue   chan struct{}
	hashLowPrio bool // hashes on threads of their own at a lower OS priority (hashprio.go)
	keys        *keyring.Ring
	oidc        *oidcop.Provider
	saml        *samlidp.IdP
	demoRPs     http.Handler // the demo applications (--demo only)
	ipLimiter   *limiter
	keyLimiter  *limiter // per user id / email, for the recovery endpoints

	metrics  *metrics
	opsSrv   *http.Server
	opsURL   string
	draining atomic.Bool // Close has begun: /readyz says so

	ln      net.Listener
	srv     *http.Server
	baseURL string
	demo    *DemoInfo
	closeMu sync.Once
	bg      sync.WaitGroup // background notices (notifyLockout); Close waits for them
	served  chan struct{}
	stop    chan struct{} // ends the janitor
	swept   chan struct{} // closed when the janitor has ended
}

// withDefaults fills in the defaults documented on Config.
func (c Config) withDefaults() Config {
	c.Addr = cmp.Or(c.Addr, "127.0.0.1:8443")
	if c.Argon2 == (password.Params{}) {
		c.Argon2 = password.Default
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.PasswordPolicy == (password.Policy{}) {
		c.PasswordPolicy = password.DefaultPolicy
	}
	if c.HashConcurrency <= 0 {
		c.HashConcurrency = defaultHashConcurrency(c.Argon2, c.HashLowPriority && hashesAtLowPriority(c.Argon2))
	}
	if c.RecoveryMinDuration == 0 {
		c.RecoveryMinDuration = 300 * time.Millisecond
	}
	c.CertsPerHour = cmp.Or(c.CertsPerHour, 6)
	c.MaxActiveCerts = cmp.Or(c.MaxActiveCerts, 10)
	if c.LoginRatePerMinute == 0 {
		c.LoginRatePerMinute = 30
	}
	return c
}

// Open initialises or opens cfg.DataDir (database, CA, key, mail) and binds the listener, so
// that URL is known before Start. With cfg.Demo it seeds the demo data into an empty DataDir.
func Open(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if cfg.DataDir == "" {
		return nil, errors.New("magd: no data folder given (--data DIR)")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("magd: create data folder: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, policy: cfg.PasswordPolicy, served: make(chan struct{}), stop: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			if s.ln != nil {
				_ = s.ln.Close()
			}
			_ = s.closeResources()
		}
	}()
	var err error
	if s.st, err = store.Open(cmp.Or(cfg.Database, filepath.Join(cfg.DataDir, "magd.db"))); err != nil {
		return nil, err
	}
	if cfg.Database != "" {
		if err := s.checkInitialised(context.Background()); err != nil {
			return nil, err
		}
	}
	if err := s.loadSecret(); err != nil {
		return nil, err
	}
	if cfg.Database != "" {
		if err := s.checkSameFolder(context.Background()); err != nil {
			return nil, err
		}
	}
	transport, mailDir, err := openOutbox(cfg)
	if err != nil {
		return nil, err
	}
	s.outbox, s.mailDir = newQueuedOutbox(s.st, s.mailAEAD, transport, s.now, s.log, !cfg.AdminOnly), mailDir
	if s.dummyPHC, err = password.Dummy(cfg.Argon2); err != nil {
		return nil, err
	}
	// Argon2id runs HashConcurrency at a time with four times as many callers waiting; beyond
	// that a login gets SERVER_BUSY instead of piling up memory and latency.
	n := cfg.HashConcurrency
	s.hashLowPrio = cfg.HashLowPriority && hashesAtLowPriority(cfg.Argon2)
	if cfg.HashLowPriority && !s.hashLowPrio && !cheapHash(cfg.Argon2) {
		s.log.Warn("hashes run at normal priority: a lower priority per thread is only available on Linux")
	}
	if s.hashLowPrio && !cfg.AdminOnly {
		makeRoomForHashing(n)
	}
	s.hashSem = make(chan struct{}, n)
	s.hashQueue = make(chan struct{}, 5*n)
	s.metrics = s.newMetrics()
	s.ipLimiter = newLimiter(cfg.LoginRatePerMinute)
	s.keyLimiter = newLimiter(5)
	if cfg.AdminOnly {
		ok = true
		return s, nil
	}
	if s.ca, err = ca.LoadOrCreate(filepath.Join(cfg.DataDir, "ca"), cfg.Hostnames, cfg.Now()); err != nil {
		return nil, err
	}
	if cfg.ProxyProtocol && len(cfg.ProxyAddrs) == 0 {
		return nil, errors.New("magd: the PROXY protocol is accepted only from named proxies: give their addresses (--proxy-addr)")
	}
	if s.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, fmt.Errorf("magd: listen on %s: %w", cfg.Addr, err)
	}
	s.baseURL = cmp.Or(strings.TrimSuffix(cfg.PublicURL, "/"), publicBase(s.ln.Addr().(*net.TCPAddr), cfg.Hostnames))
	ctx := context.Background()
	if err := s.st.SetSetting(ctx, "public_url", s.baseURL); err != nil {
		return nil, err
	}
	if err := s.initFederation(ctx); err != nil {
		return nil, fmt.Errorf("magd: federation keys: %w", err)
	}
	if cfg.Demo {
		if s.demo, err = s.seedDemo(ctx); err != nil {
			return nil, fmt.Errorf("magd: seed demo data: %w", err)
		}
		if err := s.startDemoRPs(ctx); err != nil {
			return nil, fmt.Errorf("magd: demo applications: %w", err)
		}
	}
	ok = true
	return s, nil
}

// publicBase is the URL put into emails and launch links: the first --hostname, else the
// loopback address the listener is bound to.
func publicBase(addr *net.TCPAddr, hostnames []string) string {
	host := "127.0.0.1"
	if len(hostnames) > 0 {
		host = hostnames[0]
	} else if !addr.IP.IsUnspecified() {
		host = addr.IP.String()
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

func openOutbox(cfg Config) (mail.Outbox, string, error) {
	dir := filepath.Join(cfg.DataDir, "mail")
	if cfg.SMTP != nil {
		o, err := mail.NewSMTP(*cfg.SMTP, dir, cfg.Logger)
		return o, dir, err
	}
	o, err := mail.NewMaildir(dir)
	return o, dir, err
}

// loadSecret reads DATA/secret.key (32 random bytes, 0600), creating it on first start. A
// database that already holds encrypted TOTP secrets never gets a new key: they would be lost.
func (s *Server) loadSecret() error {
	path := filepath.Join(s.cfg.DataDir, secretFile)
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		has, herr := s.st.HasTOTP(context.Background())
		if herr != nil {
			return herr
		}
		if has {
			return fmt.Errorf("magd: %s is missing but the database holds secrets encrypted with it; restore it from the backup of this data folder", path)
		}
		key, err = createSecret(path)
	}
	if err != nil {
		return fmt.Errorf("magd: %s: %w", path, err)
	}
	if len(key) != 32 {
		return fmt.Errorf("magd: %s is damaged (want 32 bytes, found %d); restore it from a backup", path, len(key))
	}
	s.secret = key
	block, err := aes.NewCipher(subKey(key, "totp-secret-encryption"))
	if err != nil {
		return err
	}
	if s.aead, err = cipher.NewGCM(block); err != nil {
		return err
	}
	mailBlock, err := aes.NewCipher(subKey(key, "mail-outbox-encryption"))
	if err != nil {
		return err
	}
	if s.mailAEAD, err = cipher.NewGCM(mailBlock); err != nil {
		return err
	}
	return nil
}

// createSecret writes a new random key atomically (a temporary file linked into place), so
// that `magd serve` and `magd admin` starting together end up with the same key.
func createSecret(path string) ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	tmp := path + ".tmp-" + randomHex(6)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	_, werr := f.Write(key)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return nil, err
	}
	if err := os.Link(tmp, path); errors.Is(err, fs.ErrExist) {
		return os.ReadFile(path) // the other process won
	} else if err != nil {
		return nil, err
	}
	return key, nil
}

// Start serves HTTPS on the listener bound by Open, in the background.
func (s *Server) Start() error {
	if s.ln == nil {
		return errors.New("magd: server opened for administration only")
	}
	cert := s.ca.ServerCertificate()
	tlsCfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		// Requested but verified by the handlers against our CA, so that every certificate
		// problem becomes a JSON error instead of a bare TLS alert (research §5.1).
		ClientAuth: tls.RequestClientCert,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,
		},
	}
	s.srv = &http.Server{
		Handler:           s.Handler(),
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ConnContext:       withConn,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	if err := s.startOps(); err != nil {
		return err
	}
	s.swept = make(chan struct{})
	go func() {
		defer close(s.swept)
		s.janitor(s.stop)
	}()
	go func() {
		defer close(s.served)
		if err := s.srv.ServeTLS(s.proxyListener(s.ln), "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "err", err)
		}
	}()
	s.log.Info("magd listening", "url", s.baseURL, "data", s.cfg.DataDir)
	return nil
}

// Addr is the address the API listener is bound to (host:port).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the server's base URL, https://127.0.0.1:PORT (or the first --hostname).
func (s *Server) URL() string { return s.baseURL }

// CACertPEM is the CA certificate clients trust.
func (s *Server) CACertPEM() []byte {
	if s.ca == nil {
		return nil
	}
	return s.ca.CACertPEM()
}

// Demo is the seeded demo data, nil unless seeded by this process.
func (s *Server) Demo() *DemoInfo { return s.demo }

// MailDir is the Maildir that receives every email (or the SMTP spool).
func (s *Server) MailDir() string { return s.mailDir }

// Close shuts the server down gracefully: /readyz turns 503, and after DrainDelay the listener
// closes and requests in flight finish (for up to 10 s); then the database closes.
func (s *Server) Close() error {
	var err error
	s.closeMu.Do(func() {
		s.draining.Store(true)
		if s.srv != nil && s.cfg.DrainDelay > 0 {
			time.Sleep(s.cfg.DrainDelay)
		}
		close(s.stop)
		if s.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = s.srv.Shutdown(ctx)
			<-s.served
			<-s.swept
		} else if s.ln != nil {
			err = s.ln.Close()
		}
		s.bg.Wait()
		if s.opsSrv != nil {
			err = errors.Join(err, s.opsSrv.Close())
		}
		err = errors.Join(err, s.closeResources())
	})
	return err
}

func (s *Server) closeResources() error {
	var err error
	if s.outbox != nil {
		err = s.outbox.Close()
	}
	if s.st != nil {
		err = errors.Join(err, s.st.Close())
	}
	return err
}

func (s *Server) now() time.Time { return s.cfg.Now().UTC() }

// TuneGC sets the garbage collector's target to GOGC=400 unless GOGC is set in the environment;
// a process that serves magd calls it once at start. Each Argon2id hash allocates its whole
// memory parameter (19 MiB by default) and drops it, so at the default target the collector
// runs about once per hash and takes CPU from the other requests; a higher target gives the
// CPU back to them (magload shows it), at the cost of a heap up to five times the live data.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}
