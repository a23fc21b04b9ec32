// Package cli is magdesk's command line: the same powers as the GUI for scripts and
// for machines where the window cannot open. Every command goes through package client; exit
// status 0 success, 1 error, 2 usage, 3 a problem found by certs check.
//
// Sessions live in the OS keyring (client.SessionStore), one per (server, user id). Which user
// is current on each server, the last server logged in to, the CA file given with --ca at that
// login and a pending OTP enrolment id are not secrets: they are kept in MAGDESK_HOME/
// cli-state.json, so after `login --server URL --ca FILE` the other commands need neither flag.
// `sessions use USER` switches between the accounts cached for a server.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"

	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/config"
	"github.com/mag-desktop/magdesk/internal/version"
	"golang.org/x/term"
)

// IO is where a command reads and writes.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
}

// Stdio is the process's standard streams.
func Stdio() IO { return IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr} }

// WantsGUI reports whether args ask for the window: no command, --demo, or a magdesk:// link
// (the URL-scheme handler starts the app with the link as its only argument).
func WantsGUI(args []string) bool {
	if len(args) == 0 {
		return true
	}
	return args[0] == "--demo" || strings.HasPrefix(strings.ToLower(args[0]), "magdesk://")
}

type command struct {
	run   func(e *Env, args []string) int
	usage string
}

// commands are the top-level commands; groups (apps, admin, otp, sessions, recover) dispatch
// their own subcommands.
var commands = map[string]command{
	"activate":       {runActivate, "activate LINK|TOKEN [--password-stdin] [--answers FILE]"},
	"login":          {runLogin, "login --user ID [--password-stdin] [--otp CODE] [--cert auto|none|SHA256]"},
	"logout":         {runLogout, "logout"},
	"me":             {runMe, "me"},
	"apps":           {runApps, "apps | apps request APP | apps open APP [--print]"},
	"admin":          {runAdmin, "admin terms APP | admin accept-terms APP | admin requests | admin decide REQUEST approve|deny [--reason R]"},
	"otp":            {runOTP, "otp enroll | otp verify CODE"},
	"certs":          {runCerts, "certs list|request|check|import|export|remove|connect ..."},
	"support-bundle": {runSupportBundle, "support-bundle FILE"},
	"doctor":         {runDoctor, "doctor [--app APP]"},
	"proxy-login":    {runProxyLogin, "proxy-login HOST:PORT --user NAME [--password-stdin]"},
	"sessions":       {runSessions, "sessions list | sessions clear | sessions use USER"},
	"recover":        {runRecover, "recover activation --user ID --email E | recover user-id --email E | recover password --user ID"},
}

// Run runs one command and returns the exit status.
func Run(args []string, stdio IO) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return run(ctx, args, stdio, nil)
}

func run(ctx context.Context, args []string, stdio IO, sessions func() *client.SessionStore) int {
	e := &Env{IO: stdio, ctx: ctx, openSessions: sessions, Log: slog.New(slog.DiscardHandler)}
	if f, ok := stdio.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		e.Terminal, e.termFd = true, int(f.Fd())
	}
	var logLevel string
	global := flag.NewFlagSet("magdesk", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	e.globalFlags(global)
	global.StringVar(&logLevel, "log-level", "", "log level: debug, info, warn, error")
	showVersion := global.Bool("version", false, "print the version")
	if err := global.Parse(args); err != nil {
		if err == flag.ErrHelp {
			usage(stdio.Out)
			return ExitOK
		}
		fmt.Fprintln(stdio.Err, "magdesk:", err)
		usage(stdio.Err)
		return ExitUsage
	}
	if *showVersion {
		fmt.Fprintln(stdio.Out, "magdesk", version.Version)
		return ExitOK
	}
	rest := global.Args()
	if len(rest) == 0 || rest[0] == "help" {
		usage(stdio.Out)
		if len(rest) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	cmd, ok := commands[rest[0]]
	if !ok {
		fmt.Fprintf(stdio.Err, "magdesk: unknown command %q\n", rest[0])
		usage(stdio.Err)
		return ExitUsage
	}
	closeLog, err := e.setup(logLevel)
	if err != nil {
		return e.Fail(err)
	}
	defer closeLog()
	return cmd.run(e, rest[1:])
}

// setup reads the settings and opens the log; the function returned closes the log.
func (e *Env) setup(logLevel string) (func(), error) {
	home, err := config.Home()
	if err != nil {
		return nil, err
	}
	e.Home = home
	eff, err := config.Load(home)
	e.Settings = eff
	if err != nil {
		// Load is usable even when a source had a problem; say so and carry on.
		fmt.Fprintln(e.IO.Err, "magdesk: warning: settings:", err)
	}
	if logLevel == "" {
		logLevel = eff.LogLevel
	}
	var closeLog func()
	e.Log, closeLog = openLog(home, logLevel, e.IO.Err)
	return closeLog, nil
}

// server is --server, else the settings, else the last server used here.
func (e *Env) server() string {
	if e.ServerURL != "" {
		return e.ServerURL
	}
	if e.Settings.ServerURL != "" {
		return e.Settings.ServerURL
	}
	st, _ := loadState(e.Home)
	return st.LastServer
}

// globalFlags registers the flags every command accepts, before or after its name.
func (e *Env) globalFlags(fs *flag.FlagSet) {
	fs.StringVar(&e.ServerURL, "server", e.ServerURL, "gateway URL, e.g. https://gateway.example:8443")
	fs.StringVar(&e.CAFile, "ca", e.CAFile, "extra CA certificate (PEM) to trust for the gateway")
	fs.BoolVar(&e.JSON, "json", e.JSON, "machine-readable output")
}

// Flags returns a FlagSet for a command that also accepts the global flags.
func (e *Env) Flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("magdesk "+name, flag.ContinueOnError)
	fs.SetOutput(e.IO.Err)
	e.globalFlags(fs)
	return fs
}

// parseArgs parses flags anywhere among the arguments ("apps open APP --print") and returns
// the positional arguments. Errors are usage errors.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, usageErrorf("see the usage above")
			}
			return nil, usageErrorf("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// wantArgs checks the number of positional arguments.
func wantArgs(pos []string, n int, what string) error {
	if len(pos) != n {
		return usageErrorf("expected %s, got %d argument(s)", what, len(pos))
	}
	return nil
}

// subcommand dispatches a group ("apps request APP").
func subcommand(e *Env, group string, args []string, subs map[string]func(*Env, []string) int, dflt string) int {
	name := dflt
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	run, ok := subs[name]
	if !ok {
		names := make([]string, 0, len(subs))
		for k := range subs {
			names = append(names, k)
		}
		sort.Strings(names)
		if name == "" {
			return e.Usagef("%s needs a subcommand: %s", group, strings.Join(names, ", "))
		}
		return e.Usagef("unknown command %q for %s: use one of %s", name, group, strings.Join(names, ", "))
	}
	return run(e, args)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: magdesk                      the desktop window")
	fmt.Fprintln(w, "       magdesk --demo               the window against a built-in demo server")
	fmt.Fprintln(w, "       magdesk [--server URL] [--ca FILE] [--json] [--log-level L] COMMAND")
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(commands))
	for k := range commands {
		names = append(names, k)
	}
	order := []string{"activate", "login", "logout", "me", "apps", "admin", "otp", "certs", "sessions", "recover", "doctor", "proxy-login", "support-bundle"}
	sort.Slice(names, func(i, j int) bool { return slices.Index(order, names[i]) < slices.Index(order, names[j]) })
	for _, n := range names {
		fmt.Fprintln(w, "  "+commands[n].usage)
	}
	fmt.Fprintln(w, "Secrets come from a terminal prompt (no echo), or one per line on standard input with --password-stdin.")
	fmt.Fprintln(w, "Exit status: 0 success, 1 error, 2 usage, 3 certs check or doctor found a problem.")
}
