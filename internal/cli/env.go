package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/config"
	"github.com/mag-desktop/magdesk/internal/netconf"
	"github.com/mag-desktop/magdesk/internal/service"
	"github.com/mag-desktop/magdesk/internal/version"
	"golang.org/x/term"
)

// Exit statuses.
const (
	ExitOK      = 0
	ExitError   = 1
	ExitUsage   = 2
	ExitProblem = 3 // certs check found a wrong-account certificate
)

// Env is what every command gets: where to read and write, the settings, how to reach the
// server, and how to obtain secrets. Commands in other files (certs, support-bundle) use it the
// same way:
//
//	fs := e.Flags("certs list")            // a FlagSet that also knows --json/--server/--ca
//	rest, err := parseArgs(fs, args)        // flags may follow positional arguments
//	pos, svc, c, err := e.withService(fs, args, 0, "no arguments") // the service as the current account
//	pw, err := e.Secret("Password: ")       // stdin line with --password-stdin, else no-echo prompt
//	return e.Output(v, func(w io.Writer) { ... })  // JSON with --json, text otherwise
//	return e.Fail(err)                      // service.Message on stderr, exit 1 (2 for usage errors)
type Env struct {
	IO IO
	// Home is MAGDESK_HOME: settings, the app's own certificate store, the CLI's state file.
	Home string
	// Settings are the effective settings (policy > user > defaults).
	Settings config.Effective
	// ServerURL and CAFile come from --server/--ca. Without --server, the settings' server_url
	// (IT policy wins there), else the last server logged in to here; see ClientOptions for
	// the CAs trusted.
	ServerURL string
	CAFile    string
	// JSON asks for machine output on stdout.
	JSON bool
	// PasswordStdin makes Secret read lines from IO.In, in the order the command needs them
	// (set by a command's --password-stdin flag).
	PasswordStdin bool
	// Terminal reports whether IO.In is an interactive terminal, so prompts can be shown.
	Terminal bool
	termFd   int
	// Log is the app log (never a secret in it).
	Log *slog.Logger

	ctx      context.Context
	in       *bufio.Reader
	once     sync.Once
	sessions *client.SessionStore
	// openSessions opens the session store; tests replace it.
	openSessions func() *client.SessionStore
	// warned keeps the keyring warning to one line per run.
	warned bool
	// net is the proxy resolver of this run (see Network).
	netOnce sync.Once
	net     *netconf.Resolver
	svc     *service.Service
}

// service is the service every command's work goes through, over this run's settings, server
// and CA (made on first use).
func (e *Env) service() *service.Service {
	if e.svc == nil {
		e.svc = service.NewService(service.Options{Home: e.Home, Settings: e.Settings, Log: e.Log, Version: version.Version,
			Sessions: e.Sessions(),
			Connect: func(server string) (client.Options, error) {
				if server == "" {
					server = e.server()
				}
				return e.ClientOptions(server)
			}})
	}
	return e.svc
}

// sessionService is the service acting as the current account with its cached session; on
// error the service is returned all the same, acting as nobody.
func (e *Env) sessionService() (*service.Service, error) {
	svc := e.service()
	if err := e.needServer(); err != nil {
		return svc, err
	}
	_, err := svc.ActAsCurrent(e.Context())
	return svc, err
}

// needServer is the usage error of a command that needs a server when none is configured.
func (e *Env) needServer() error {
	if e.server() == "" {
		return usageErrorf("no server is configured: pass --server https://HOST:PORT (it is remembered), or set server_url in the settings")
	}
	return nil
}

// Context is the command's context (cancelled on interrupt).
func (e *Env) Context() context.Context {
	if e.ctx == nil {
		return context.Background()
	}
	return e.ctx
}

// ClientOptions are the options of a client of server. Besides the system roots it trusts the
// CA bundle of the settings (IT policy wins there) and the gateway's own CA: --ca when server is
// this run's server, else the CA file remembered from the last login to server with --ca.
func (e *Env) ClientOptions(server string) (client.Options, error) {
	host, _ := os.Hostname()
	// MAGDESK_TIMEOUT (a Go duration such as 45s) lengthens or shortens each call's timeout,
	// for slow links and for tests of unresponsive servers.
	timeout, _ := time.ParseDuration(os.Getenv("MAGDESK_TIMEOUT"))
	o := client.Options{
		Timeout:    timeout,
		ServerURL:  server,
		CAFile:     e.Settings.CABundle,
		Network:    e.Network(),
		ClientInfo: api.ClientInfo{Name: "magdesk-cli", Version: version.Version, Device: host + " (" + runtime.GOOS + ")"},
		Logger:     e.Log,
	}
	key, _ := client.NormalizeServerURL(server)
	ca := ""
	if e.CAFile != "" && key == e.serverKey() {
		ca = e.CAFile
	} else if st, _ := loadState(e.Home); st.CAFiles[key] != "" {
		ca = st.CAFiles[key]
	}
	if ca != "" {
		pemData, err := os.ReadFile(ca)
		if err != nil {
			return o, &client.Error{Kind: client.KindConfig, Op: "configure",
				Err: fmt.Errorf("cannot read the CA file %s for %s (%w); pass --ca FILE again", ca, server, err)}
		}
		o.CAPEM = pemData
	}
	return o, nil
}

// Sessions is the session cache (OS keyring, or memory with a warning on stderr).
func (e *Env) Sessions() *client.SessionStore {
	e.once.Do(func() {
		open := e.openSessions
		if open == nil {
			open = client.OpenSessionStore
		}
		e.sessions = open()
	})
	if w := e.sessions.Warning(); w != "" && !e.warned {
		e.warned = true
		fmt.Fprintln(e.IO.Err, "magdesk: warning:", w)
	}
	return e.sessions
}

func (e *Env) serverKey() string {
	if s, err := client.NormalizeServerURL(e.server()); err == nil {
		return s
	}
	return e.server()
}

// withService parses a command's flags and its n positional arguments (what describes them in
// the usage error) and returns them with the service acting as the current account, and that
// account's client.
func (e *Env) withService(fs *flag.FlagSet, args []string, n int, what string) ([]string, *service.Service, *client.Client, error) {
	pos, err := parseArgs(fs, args)
	if err == nil {
		err = wantArgs(pos, n, what)
	}
	if err == nil {
		err = e.needServer()
	}
	if err != nil {
		return nil, nil, nil, err
	}
	svc := e.service()
	c, err := svc.ActAsCurrent(e.Context())
	if err != nil {
		return nil, nil, nil, err
	}
	return pos, svc, c, nil
}

// failSession reports an error of an authenticated call; a session the server no longer
// knows is forgotten here too, so the next command says "log in" straight away.
func (e *Env) failSession(err error) int {
	e.service().ForgetIfEnded(err)
	return e.Fail(err)
}

// Secret reads one secret: the next line of standard input with --password-stdin, else a
// prompt without echo on the terminal. Without either it is a usage error.
func (e *Env) Secret(prompt string) (string, error) {
	if e.PasswordStdin {
		line, err := e.line()
		if err != nil {
			return "", usageErrorf("--password-stdin: standard input ended before the %s", strings.ToLower(strings.TrimSuffix(strings.TrimSpace(prompt), ":")))
		}
		return line, nil
	}
	if !e.Terminal {
		return "", usageErrorf("%s is needed but standard input is not a terminal: pass --password-stdin and give it on standard input",
			strings.ToLower(strings.TrimSuffix(strings.TrimSpace(prompt), ":")))
	}
	fmt.Fprint(e.IO.Err, prompt)
	// Ctrl-C is delivered to the command's context, not as a kill: stop waiting for the line
	// and give the terminal its echo back.
	state, _ := term.GetState(e.termFd)
	type line struct {
		b   []byte
		err error
	}
	got := make(chan line, 1)
	go func() {
		b, err := term.ReadPassword(e.termFd)
		got <- line{b, err}
	}()
	select {
	case l := <-got:
		fmt.Fprintln(e.IO.Err)
		if l.err != nil {
			return "", fmt.Errorf("reading from the terminal: %w", l.err)
		}
		return string(l.b), nil
	case <-e.Context().Done():
		if state != nil {
			_ = term.Restore(e.termFd, state)
		}
		fmt.Fprintln(e.IO.Err)
		return "", &client.Error{Kind: client.KindCanceled, Op: "read " + strings.ToLower(strings.TrimSpace(prompt)), Err: e.Context().Err()}
	}
}

// NewSecret asks for a new secret twice on a terminal (once from stdin) and checks they match.
func (e *Env) NewSecret(prompt, again string) (string, error) {
	first, err := e.Secret(prompt)
	if err != nil || e.PasswordStdin {
		return first, err
	}
	second, err := e.Secret(again)
	if err != nil {
		return "", err
	}
	if first != second {
		return "", errors.New("the two entries do not match; run the command again")
	}
	return first, nil
}

// Ask reads a visible answer (a code, a choice): a line of stdin, after a prompt on a terminal.
func (e *Env) Ask(prompt string) (string, error) {
	if e.Terminal {
		fmt.Fprint(e.IO.Err, prompt)
	}
	line, err := e.line()
	if err != nil {
		return "", usageErrorf("%s is needed but standard input ended", strings.ToLower(strings.TrimSuffix(strings.TrimSpace(prompt), ":")))
	}
	return strings.TrimSpace(line), nil
}

func (e *Env) line() (string, error) {
	if e.in == nil {
		e.in = bufio.NewReader(e.IO.In)
	}
	s, err := e.in.ReadString('\n')
	if err != nil && (err != io.EOF || s == "") {
		return "", err
	}
	return strings.TrimRight(s, "\r\n"), nil
}

// Output writes v as JSON with --json, else calls text.
func (e *Env) Output(v any, text func(w io.Writer)) int {
	if e.JSON {
		enc := jsonEncoder(e.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return e.Fail(err)
		}
		return ExitOK
	}
	text(e.IO.Out)
	return ExitOK
}

// jsonEncoder writes JSON for scripts and people: "&", "<" and ">" stay as they are (the
// default escapes them for HTML, which no reader of --json is).
func jsonEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// Fail reports err and returns its exit status: 2 for usage errors, 1 otherwise. The message
// is the catalogue's (service.Message), then the command that follows its advice (hint) on a
// line of its own; with --json an {"error": ...} object also goes to stdout.
func (e *Env) Fail(err error) int {
	var ue *usageError
	status := ExitError
	msg, how := service.Message(err), hint(err)
	if errors.As(err, &ue) {
		status, msg, how = ExitUsage, ue.msg, ""
	}
	e.Log.Info("command failed", "err", err.Error())
	fmt.Fprintln(e.IO.Err, "magdesk:", msg)
	if how != "" {
		fmt.Fprintln(e.IO.Err, "magdesk: hint:", how)
	}
	if e.JSON {
		out := jsonError{Message: msg, Hint: how, Kind: "usage"}
		if status != ExitUsage {
			out.Kind = "error"
			if ce, ok := client.AsError(err); ok {
				out.Kind = ce.Kind.String()
				out.Status = ce.Status
			}
			if p := client.ProblemOf(err); p != nil {
				out.Code, out.MagCode = string(p.Code), p.MagCode
			}
		}
		_ = jsonEncoder(e.IO.Out).Encode(map[string]jsonError{"error": out})
	}
	return status
}

type jsonError struct {
	Kind    string `json:"kind"`
	Code    string `json:"code,omitempty"`
	MagCode int    `json:"mag_code,omitempty"`
	Status  int    `json:"status,omitempty"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"` // the magdesk command that does what Message advises
}

// usageError is a mistake in how the command was called (exit 2).
type usageError struct{ msg string }

func (u *usageError) Error() string { return u.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// Usagef reports a usage error and returns exit status 2.
func (e *Env) Usagef(format string, args ...any) int {
	return e.Fail(usageErrorf(format, args...))
}
