// Command magd is the reference gateway server: `magd serve` runs it, `magd admin` manages
// organisations, users and applications in the same data folder (also while serve runs).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mag-desktop/magdesk/internal/server/store"
	"github.com/mag-desktop/magdesk/internal/version"
)

const usage = `magd — the MAG Desktop reference gateway server

  magd serve --data DIR [--db postgres://USER@HOST/DB] [--addr 127.0.0.1:8443] [--ops-addr ADDR] [--drain-delay 3s] [--public-url URL] [--hostname NAME]... [--demo]
             [--no-security-questions] [--smtp-addr HOST:PORT --smtp-user U --smtp-from ADDR]
             [--smtp-ca FILE] [--smtp-plain] [--log-level debug|info|warn|error] [--hash-concurrency N]
             [--hash-low-priority] [--login-rate N] (logins per minute per IP address, default 30; 0: no limit)
             [--proxy-addr IP]... [--proxy-protocol] (TCP proxies in front; with the PROXY protocol they name
             each client, without it they hide client addresses: no per-source throttling for them)
             (the SMTP password is read from the environment variable MAGD_SMTP_PASSWORD)
  magd init --data DIR [--hostname NAME]...   (a data folder for several instances on one --db)
  magd admin --data DIR [--db URL] [--json] org add --name NAME
  magd admin --data DIR [--json] org list
  magd admin --data DIR [--json] user list --org ORG
  magd admin --data DIR [--json] user add --org ORG --email E --first F --last L [--role org_admin]
  magd admin --data DIR [--json] user resend-activation USER_ID
  magd admin --data DIR [--json] app add --id APP --name NAME --url URL --terms FILE [--required-aal 2] [--description TEXT]
             [--protocol oidc --redirect-uri URI... [--initiate-login-uri URI] [--post-logout-redirect-uri URI]... [--public]]
             [--protocol saml --sp-metadata FILE|URL]
             (oidc prints the issuer, the client id and, once, the client secret; saml prints magd's IdP metadata URL)
  magd admin --data DIR [--json] app subscribe --org ORG --app APP
  magd admin --data DIR [--json] cert revoke CERTIFICATE_ID   (also ends the sessions that logged in with it)
  magd admin --data DIR [--json] access suspend --user USER_ID --app APP
  magd version
`

// errUsage marks a command-line mistake (exit status 2).
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:], stdout, stderr)
	case "init":
		err = initFolder(args[1:], stdout)
	case "admin":
		err = admin(args[1:], stdout)
	case "version", "--version":
		fmt.Fprintln(stdout, "magd", version.Version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		err = fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(stderr, "magd: %v\n\n%s", err, usage)
		return 2
	default:
		fmt.Fprintf(stderr, "magd: %v\n", err)
		return 1
	}
}

// newFlags makes a flag set that reports errors to the caller instead of exiting.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// dbFlag is --db of serve and admin.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", "", "postgres://USER@HOST/DB: the PostgreSQL database shared by several instances (default: SQLite in the data folder); the password from PGPASSWORD or ~/.pgpass")
}

func checkDB(db string) error {
	if db != "" && !store.IsPostgres(db) {
		return fmt.Errorf("%w: --db takes a postgres:// URL (without --db magd uses SQLite in the data folder)", errUsage)
	}
	return nil
}

// parse parses flags and turns a flag error into a usage error.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %s: %v", errUsage, fs.Name(), err)
	}
	return nil
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return fmt.Sprint(*m) }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }
