package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	netmail "net/mail"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/mag-desktop/magdesk/internal/server"
	"github.com/mag-desktop/magdesk/internal/server/mail"
)

func serve(args []string, stdout, stderr io.Writer) error {
	cfg, err := serveConfig(args, stderr)
	if err != nil {
		return err
	}
	server.TuneGC()
	// The OpenID Connect provider library logs through the default logger (refused requests at
	// warn): it goes where magd's log goes, at its level.
	slog.SetDefault(cfg.Logger)
	s, err := server.Open(cfg)
	if err != nil {
		return err
	}
	if err := s.Start(); err != nil {
		_ = s.Close()
		return err
	}
	fmt.Fprintf(stdout, "magd is running at %s\nCA certificate (trust it in MAG Desktop): %s\nMail: %s\n",
		s.URL(), filepath.Join(cfg.DataDir, "ca", "ca.pem"), s.MailDir())
	if d := s.Demo(); d != nil {
		printDemo(stdout, d)
	} else if cfg.Demo {
		fmt.Fprintln(stdout, "The data folder already had data, so no demo data was seeded; use an empty folder for a fresh demo.")
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	fmt.Fprintln(stdout, "magd: shutting down")
	return s.Close()
}

// serveConfig parses the flags of `magd serve`; every mistake is a usage error.
func serveConfig(args []string, stderr io.Writer) (server.Config, error) {
	fs := newFlags("serve")
	data := fs.String("data", "", "data folder (created on first start)")
	addr := fs.String("addr", "127.0.0.1:8443", "address to listen on")
	db := dbFlag(fs)
	publicURL := fs.String("public-url", "", "base URL clients reach magd at, for emails and launch links (behind a load balancer: its https://NAME[:PORT]; default from --hostname and --addr)")
	opsAddr := fs.String("ops-addr", "", "plain-HTTP address for /healthz, /readyz and /metrics (e.g. 127.0.0.1:9443; default: none)")
	drain := fs.Duration("drain-delay", 0, "on SIGTERM, answer /readyz with 503 this long before closing the listener (e.g. 3s behind a load balancer)")
	var hostnames multi
	fs.Var(&hostnames, "hostname", "extra host name for the server certificate (repeatable)")
	demo := fs.Bool("demo", false, "seed demo data into an empty data folder")
	noQuestions := fs.Bool("no-security-questions", false, "do not ask for security questions at activation")
	smtpAddr := fs.String("smtp-addr", "", "deliver mail through this SMTP server (host:port) instead of the Maildir")
	smtpUser := fs.String("smtp-user", "", "SMTP user name (password from MAGD_SMTP_PASSWORD)")
	smtpFrom := fs.String("smtp-from", "", "sender address of the emails")
	smtpCA := fs.String("smtp-ca", "", "PEM file of the CA that signed the SMTP server's certificate (default: system roots)")
	smtpPlain := fs.Bool("smtp-plain", false, "allow an SMTP server without STARTTLS (a relay on this machine only)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	hashes := fs.Int("hash-concurrency", 0, "Argon2id hashes at a time (default: one less than the number of CPUs, at least 1; with --hash-low-priority one per CPU)")
	hashLow := fs.Bool("hash-low-priority", false, "Linux: hash on threads below every other request's priority (for a dedicated host; see server/hashprio.go)")
	var proxies multi
	fs.Var(&proxies, "proxy-addr", "IP address of a TCP proxy in front of magd (repeatable); unless it speaks the PROXY protocol it hides client addresses: no per-source throttling for it")
	proxyProto := fs.Bool("proxy-protocol", false, "read a PROXY protocol header (HAProxy send-proxy-v2) on connections from the --proxy-addr proxies, so that each client is seen at its own address")
	loginRate := fs.Int("login-rate", 30, "logins (and other public attempts) per minute per IP address, bursts of twice that; 0: no limit")
	if err := parse(fs, args); err != nil {
		return server.Config{}, err
	}
	if *data == "" || fs.NArg() > 0 {
		return server.Config{}, fmt.Errorf("%w: serve needs --data DIR and no other arguments", errUsage)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return server.Config{}, fmt.Errorf("%w: --log-level %q", errUsage, *logLevel)
	}
	switch {
	case *hashes < 0:
		return server.Config{}, fmt.Errorf("%w: --hash-concurrency must be 1 or more (0: the default)", errUsage)
	case *loginRate < 0:
		return server.Config{}, fmt.Errorf("%w: --login-rate must be 0 (no limit) or more", errUsage)
	}
	rate := *loginRate
	if rate == 0 {
		rate = -1 // Config: negative is off, 0 the default
	}
	for _, p := range proxies {
		if net.ParseIP(p) == nil {
			return server.Config{}, fmt.Errorf("%w: --proxy-addr %q is not an IP address", errUsage, p)
		}
	}
	if *proxyProto && len(proxies) == 0 {
		return server.Config{}, fmt.Errorf("%w: --proxy-protocol needs --proxy-addr IP of each proxy allowed to name its clients", errUsage)
	}
	if err := checkDB(*db); err != nil {
		return server.Config{}, err
	}
	if *publicURL != "" && !strings.HasPrefix(*publicURL, "https://") {
		return server.Config{}, fmt.Errorf("%w: --public-url must be an https:// URL (magd speaks only TLS)", errUsage)
	}
	cfg := server.Config{DataDir: *data, Database: *db, Addr: *addr, OpsAddr: *opsAddr, DrainDelay: *drain, PublicURL: *publicURL, Hostnames: hostnames, Demo: *demo, SecurityQuestions: !*noQuestions,
		HashConcurrency: *hashes, HashLowPriority: *hashLow, LoginRatePerMinute: rate, ProxyAddrs: proxies, ProxyProtocol: *proxyProto,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))}
	if *smtpAddr == "" {
		if *smtpUser != "" || *smtpFrom != "" || *smtpCA != "" || *smtpPlain {
			return server.Config{}, fmt.Errorf("%w: --smtp-user, --smtp-from, --smtp-ca and --smtp-plain need --smtp-addr HOST:PORT", errUsage)
		}
		return cfg, nil
	}
	if *smtpFrom == "" {
		return server.Config{}, fmt.Errorf("%w: --smtp-addr needs --smtp-from ADDRESS, the sender of magd's emails "+
			"(an address the SMTP server accepts, e.g. --smtp-from \"MAG <magd@example.com>\")", errUsage)
	}
	if _, err := netmail.ParseAddress(*smtpFrom); err != nil {
		return server.Config{}, fmt.Errorf("%w: --smtp-from %q is not an email address (%v); give one like \"MAG <magd@example.com>\"",
			errUsage, *smtpFrom, err)
	}
	cfg.SMTP = &mail.SMTPConfig{Addr: *smtpAddr, Username: *smtpUser, Password: os.Getenv("MAGD_SMTP_PASSWORD"), From: *smtpFrom,
		RequireTLS: !*smtpPlain}
	if *smtpCA != "" {
		pemBytes, err := os.ReadFile(*smtpCA)
		if err != nil {
			return server.Config{}, fmt.Errorf("--smtp-ca: %w", err)
		}
		cfg.SMTP.RootCAs = x509.NewCertPool()
		if !cfg.SMTP.RootCAs.AppendCertsFromPEM(pemBytes) {
			return server.Config{}, fmt.Errorf("--smtp-ca: %s holds no PEM certificate", *smtpCA)
		}
	}
	return cfg, nil
}

func printDemo(w io.Writer, d *server.DemoInfo) {
	fp := ""
	if b, _ := pem.Decode(d.SecondCertPEM); b != nil {
		sum := sha256.Sum256(b.Bytes)
		fp = hex.EncodeToString(sum[:])
	}
	fmt.Fprintf(w, `
Demo data (organisation %q, %s):
  org admin       user id %-16s password %s
  user            user id %-16s password %s
  same person's second account
                  user id %-16s password %s
                  (has a certificate, SHA-256 %s, kept in memory only)
  pending account user id %s — activation link:
                  %s
`, d.OrgName, d.OrgID, d.AdminUserID, d.AdminPassword, d.UserUserID, d.UserPassword, d.SecondUserID, d.SecondPassword, fp,
		d.PendingUserID, d.ActivationLink)
}
