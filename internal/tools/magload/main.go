// Command magload is the load generator: N concurrent clients, each with its own
// TLS connections, run login -> me -> apps -> launch -> logout against magd on loopback,
// bounded in count and time, and it reports throughput, p50/p90/p99 latency per call type and
// errors by code. It provisions its own accounts through the real activation, terms and
// access-request flows: in a magd it starts in-process (the default), or beside a running
// `magd serve` given -url and -data.
//
// Exit status: 0 when every error was documented back-pressure (SERVER_BUSY, RATE_LIMITED),
// 1 otherwise, 2 for a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/password"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("magload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rawURL := fs.String("url", "", "magd to load, https://HOST:PORT (default: start one in this process on loopback)")
	data := fs.String("data", "", "with -url: magd's data folder, where the test accounts are made as `magd admin` does")
	caFile := fs.String("ca", "", "with -url: CA certificate to trust (default DATA/ca/ca.pem)")
	clients := fs.Int("clients", 20, "concurrent clients (1-2000)")
	iterations := fs.Int("iterations", 5, "flows per client (1-1000)")
	duration := fs.Duration("duration", time.Minute, "start no flow after this (at most 30m)")
	setupTimeout := fs.Duration("setup-timeout", 10*time.Minute, "give up making the test accounts after this")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	var local localOptions
	fs.BoolVar(&local.fastHash, "fast-hash", false, "in-process magd: cheap test Argon2id parameters instead of OWASP's")
	fs.IntVar(&local.loginRate, "login-rate", -1, "in-process magd: per-IP logins per minute (-1: off, as every client shares 127.0.0.1)")
	fs.BoolVar(&local.securityQuestions, "security-questions", false, "in-process magd: ask four security answers at activation")
	fs.IntVar(&local.hashConcurrency, "hash-concurrency", 0, "in-process magd: Argon2id hashes at a time (0: magd's default)")
	fs.BoolVar(&local.hashLowPriority, "hash-low-priority", false, "in-process magd: hash below every other request's priority (Linux)")
	serverLog := fs.Bool("server-log", false, "in-process magd: print its warnings and errors on standard error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	usage := func(msg string) int {
		fmt.Fprintln(stderr, "magload:", msg)
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return usage("unexpected arguments")
	case *clients < 1 || *clients > 2000:
		return usage("-clients must be 1 to 2000")
	case *iterations < 1 || *iterations > 1000:
		return usage("-iterations must be 1 to 1000")
	case *duration <= 0 || *duration > 30*time.Minute:
		return usage("-duration must be over 0 and at most 30m")
	case *setupTimeout <= 0 || *setupTimeout > time.Hour:
		return usage("-setup-timeout must be over 0 and at most 1h")
	case (*rawURL == "") != (*data == ""):
		return usage("-url and -data go together")
	case local.hashConcurrency < 0 || local.hashConcurrency > 256:
		return usage("-hash-concurrency must be 0 to 256")
	}

	var (
		t   *target
		err error
	)
	desc := &setupDescriptor{Clients: *clients, Iterations: *iterations, InProcess: *rawURL == ""}
	if desc.InProcess {
		if *serverLog {
			local.log = stderr
		}
		t, err = startLocal(local)
		desc.Argon2 = paramsText(password.Default)
		if local.fastHash {
			desc.Argon2 = paramsText(password.Fast) + " (test parameters)"
		}
	} else {
		t, err = openRemote(*rawURL, *data, *caFile)
	}
	if err != nil {
		fmt.Fprintln(stderr, "magload:", err)
		return 1
	}
	desc.URL = t.url
	rep, err := loadTarget(ctx, t, *setupTimeout,
		loadConfig{Clients: *clients, Iterations: *iterations, Duration: *duration, Grace: 30 * time.Second}, stderr)
	if cerr := t.close(); err == nil {
		err = cerr
	}
	if rep == nil {
		fmt.Fprintln(stderr, "magload:", err)
		return 1
	}
	rep.Setup = desc
	if *asJSON {
		err = errors.Join(err, rep.writeJSON(stdout))
	} else {
		rep.writeText(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "magload:", err)
		return 1
	}
	if rep.unexpected() > 0 {
		return 1
	}
	return 0
}

// loadTarget provisions one account per client (within setupTimeout) and runs the load.
func loadTarget(ctx context.Context, t *target, setupTimeout time.Duration, cfg loadConfig, progress io.Writer) (*report, error) {
	setupCtx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	f, err := provision(setupCtx, t.adm, t.url, t.roots, cfg.Clients, progress)
	if errorCode(err) == string(api.CodeRateLimited) {
		return nil, fmt.Errorf("set up the test accounts: %w; magd limits logins and activations per IP address, "+
			"and every client here shares one: use fewer -clients, or a magd without that limit (`magd serve --login-rate 0`; "+
			"the in-process one has none)", err)
	}
	if err != nil {
		return nil, fmt.Errorf("set up the test accounts: %w", err)
	}
	return runLoad(ctx, t.url, t.roots, f, cfg), nil
}

func paramsText(p password.Params) string {
	return fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads)
}
