package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"

	"github.com/mag-desktop/magdesk/internal/server"
	"github.com/mag-desktop/magdesk/internal/server/password"
)

// target is the magd under load: where it answers, the CA to trust, and its administration.
type target struct {
	url   string
	roots *x509.CertPool
	adm   admin
	close func() error
}

// localOptions configure an in-process magd.
type localOptions struct {
	fastHash          bool
	loginRate         int
	securityQuestions bool
	hashConcurrency   int
	hashLowPriority   bool
	log               io.Writer // magd's warnings and errors; nil: discarded
}

// startLocal runs magd in this process on a free loopback port with a fresh data folder,
// removed again by close.
func startLocal(o localOptions) (*target, error) {
	server.TuneGC() // as `magd serve` does
	dir, err := os.MkdirTemp("", "magload-*")
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.DiscardHandler)
	if o.log != nil {
		logger = slog.New(slog.NewTextHandler(o.log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	cfg := server.Config{DataDir: dir, Addr: "127.0.0.1:0", SecurityQuestions: o.securityQuestions,
		LoginRatePerMinute: o.loginRate, HashConcurrency: o.hashConcurrency,
		HashLowPriority: o.hashLowPriority, Logger: logger}
	if o.fastHash {
		cfg.Argon2 = password.Fast
	}
	s, err := server.Open(cfg)
	if err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	if err := s.Start(); err != nil {
		return nil, errors.Join(err, s.Close(), os.RemoveAll(dir))
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(s.CACertPEM())
	return &target{url: s.URL(), roots: roots, adm: s, close: func() error { return errors.Join(s.Close(), os.RemoveAll(dir)) }}, nil
}

// openRemote targets a magd serving dataDir at rawURL; the accounts are made on dataDir the
// way `magd admin` does, beside the running server.
func openRemote(rawURL, dataDir, caFile string) (*target, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("-url %q must be https://HOST:PORT", rawURL)
	}
	if caFile == "" {
		caFile = filepath.Join(dataDir, "ca", "ca.pem")
	}
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read the CA certificate: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	s, err := server.Open(server.Config{DataDir: dataDir, AdminOnly: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("open %s for administration: %w", dataDir, err)
	}
	return &target{url: u.Scheme + "://" + u.Host, roots: roots, adm: s, close: s.Close}, nil
}
