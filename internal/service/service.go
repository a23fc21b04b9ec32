package service

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/certstore"
	"github.com/mag-desktop/magdesk/client"
	"github.com/mag-desktop/magdesk/internal/config"
	"github.com/mag-desktop/magdesk/internal/netconf"
	"github.com/mag-desktop/magdesk/internal/secrets"
	"github.com/mag-desktop/magdesk/internal/setup"
)

// Options configure a Service.
type Options struct {
	// Home is MAGDESK_HOME (settings, setup progress, the app's certificate store).
	Home string
	// Settings are the effective settings loaded from Home and policy.
	Settings config.Effective
	// Demo, when set, points the app at the embedded demo server: its URL and CA replace the
	// settings for this run and nothing about them is saved.
	Demo *DemoServer
	// Keyring keeps every secret of the run: sessions, the passwords of the app's certificate
	// files, the activation token of an interrupted setup (nil: secrets.OS()).
	Keyring secrets.Keyring
	// Sessions caches sessions (nil: a session store over Keyring, opened on first use so that
	// a slow keyring never delays the first frame).
	Sessions *client.SessionStore
	// Certs is the certificate side (nil: the stores of this computer, opened with Stores).
	Certs Certs
	// Stores says which stores to open; Home and the settings' cert_stores fill what it leaves empty.
	Stores certstore.InventoryOptions
	// Connect, when set, gives the options of the clients of a server ("" for the one the
	// service works with) instead of the settings (the command line's flags and remembered state).
	Connect func(server string) (client.Options, error)
	Log     *slog.Logger
	Version string
	// Autostart is the start-at-login entry (nil: SystemAutostart).
	Autostart Autostart
}

// DemoServer is the embedded magd of `magdesk --demo`.
type DemoServer struct {
	URL   string
	CAPEM []byte
}

// Service implements Backend over client, certstore and config. It is safe for concurrent use.
type Service struct {
	o Options

	mu       sync.Mutex
	settings config.Effective
	c        *client.Client // the logged-in account's client (nil when logged out)
	mfa      *client.Client // the client of a login waiting for its one-time code
	server   string         // server version, from the last CheckServer
	demo     *DemoServer
	net      *netconf.Resolver // see network()
	netCfg   netconf.Config

	sessOnce sync.Once

	curMu sync.Mutex
	cur   map[string]string // the current accounts when they are not written down (see inMemory)

	setupMu     sync.Mutex // the setup's file and token
	setupLoaded bool
	setupState  setup.State
}

// sessions is the session cache, opened on first use.
func (s *Service) sessions() *client.SessionStore {
	s.sessOnce.Do(func() {
		if s.o.Sessions == nil {
			s.o.Sessions = client.NewSessionStore(s.o.Keyring)
		}
	})
	return s.o.Sessions
}

// SetDemo points the app at the embedded demo gateway once it has started.
func (s *Service) SetDemo(d *DemoServer) {
	s.mu.Lock()
	s.demo = d
	s.dropSessionLocked()
	s.mu.Unlock()
}

// demoServer is the demo gateway, or nil.
func (s *Service) demoServer() *DemoServer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.demo
}

var _ Backend = (*Service)(nil)

// NewService builds the backend. It does not contact the server.
func NewService(o Options) *Service {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Keyring == nil {
		o.Keyring = secrets.OS()
	}
	if o.Certs == nil {
		o.Stores.FileOpts = append([]certstore.FileOption{certstore.WithKeyring(o.Keyring)}, o.Stores.FileOpts...)
		if o.Stores.Home == "" {
			o.Stores.Home = o.Home
		}
		if len(o.Stores.Backends) == 0 {
			o.Stores.Backends = o.Settings.CertStores
		}
		o.Certs = NewLocalCerts(o.Stores, o.Log)
	}
	return &Service{o: o, settings: o.Settings, demo: o.Demo}
}

// KeyringWarning says why sessions are kept in memory only, or "".
func (s *Service) KeyringWarning() string { return s.sessions().Warning() }

// Settings implements Backend.
func (s *Service) Settings() Settings {
	s.mu.Lock()
	e := s.settings
	s.mu.Unlock()
	st := Settings{ServerURL: e.ServerURL, CABundle: e.CABundle, Theme: e.Theme, LogLevel: e.LogLevel,
		RememberUserID: e.RememberUserID, Locked: map[string]bool{}}
	for _, k := range []string{KeyServerURL, KeyCABundle, KeyLogLevel, KeyTheme, KeyRememberUserID} {
		st.Locked[k] = e.Locked(k)
	}
	if d := s.demoServer(); d != nil {
		st.ServerURL, st.CABundle, st.Demo = d.URL, "", true
		st.Locked[KeyServerURL], st.Locked[KeyCABundle] = true, true
	}
	return st
}

// SaveSettings implements Backend: settings locked by policy are kept as they are; in demo
// mode changes last for this run only.
func (s *Service) SaveSettings(st Settings) error {
	demo := s.demoServer() != nil
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.settings
	u := e.Settings
	set := func(key string, apply func()) {
		if !e.Locked(key) {
			apply()
		}
	}
	if !demo {
		set(KeyServerURL, func() { u.ServerURL = strings.TrimSpace(st.ServerURL) })
		set(KeyCABundle, func() { u.CABundle = strings.TrimSpace(st.CABundle) })
	}
	set(KeyTheme, func() { u.Theme = st.Theme })
	set(KeyLogLevel, func() { u.LogLevel = st.LogLevel })
	set(KeyRememberUserID, func() { u.RememberUserID = st.RememberUserID })
	if u.ServerURL != "" {
		norm, err := client.NormalizeServerURL(u.ServerURL)
		if err != nil {
			return err
		}
		u.ServerURL = norm
	}
	if u.CABundle != "" {
		if _, err := os.Stat(u.CABundle); err != nil {
			return newError(CodeCAFileUnreadable, u.CABundle, err)
		}
	}
	if u.ServerURL != e.ServerURL || u.CABundle != e.CABundle {
		s.dropSessionLocked()
	}
	if demo {
		s.settings.Settings = u
		return nil
	}
	if err := config.SaveUser(s.o.Home, u); err != nil {
		return err
	}
	loaded, err := config.Load(s.o.Home)
	if err != nil {
		// A policy problem is reported, but the saved user settings still apply.
		s.o.Log.Warn("settings reloaded with a problem", "err", err)
	}
	s.settings = loaded
	return nil
}

func (s *Service) dropSessionLocked() {
	if s.c != nil {
		s.c.CloseIdleConnections()
	}
	s.c, s.mfa = nil, nil
}

// UseSession makes c, a client acting as an account with its session, the logged-in client
// (the command line resumes the session it cached for the current user).
func (s *Service) UseSession(c *client.Client) {
	s.mu.Lock()
	s.c, s.mfa = c, nil
	s.mu.Unlock()
}

// clientOptions are the options of every client of this run.
func (s *Service) clientOptions() (client.Options, error) {
	if s.o.Connect != nil {
		return s.o.Connect("")
	}
	st := s.Settings()
	host, _ := os.Hostname()
	o := client.Options{ServerURL: st.ServerURL, CAFile: st.CABundle, ClientInfo: api.ClientInfo{
		Name: "magdesk", Version: s.o.Version, Device: host + " (" + runtime.GOOS + ")"}, Logger: s.o.Log}
	o.Network = s.network()
	if d := s.demoServer(); d != nil {
		o.CAPEM = d.CAPEM
	}
	return o, nil
}

// connectTo are the options of a client of another server than the configured one (to end
// the sessions cached for it).
func (s *Service) connectTo(server string) (client.Options, error) {
	if s.o.Connect != nil {
		return s.o.Connect(server)
	}
	o, err := s.clientOptions()
	o.ServerURL = server
	return o, err
}

// anon is a client of the configured server acting as nobody.
func (s *Service) anon() (*client.Client, error) {
	o, err := s.clientOptions()
	if err != nil {
		return nil, err
	}
	return client.New(o)
}

// current is the logged-in account's client.
func (s *Service) current() (*client.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil {
		return nil, newError(CodeNotLoggedIn, "", nil)
	}
	return s.c, nil
}

// CheckServer implements Backend.
func (s *Service) CheckServer(ctx context.Context) (api.Meta, error) {
	c, err := s.anon()
	if err != nil {
		return api.Meta{}, err
	}
	m, err := c.Meta(ctx)
	if err != nil {
		return api.Meta{}, err
	}
	s.mu.Lock()
	s.server = m.ServerVersion
	s.mu.Unlock()
	return *m, nil
}

// ParseActivationLink implements Backend.
func (s *Service) ParseActivationLink(link string) (string, error) {
	return client.ParseActivationLink(link)
}

// InspectActivation implements Backend.
func (s *Service) InspectActivation(ctx context.Context, token string) (api.ActivationInfo, error) {
	c, err := s.anon()
	if err != nil {
		return api.ActivationInfo{}, err
	}
	return deref(c.InspectActivation(ctx, token))
}

// SecurityQuestions implements Backend.
func (s *Service) SecurityQuestions(ctx context.Context) ([]api.SecurityQuestion, error) {
	c, err := s.anon()
	if err != nil {
		return nil, err
	}
	return c.SecurityQuestions(ctx)
}

// CompleteActivation implements Backend.
func (s *Service) CompleteActivation(ctx context.Context, req api.ActivationCompleteRequest) (api.ActivationCompleteResponse, error) {
	c, err := s.anon()
	if err != nil {
		return api.ActivationCompleteResponse{}, err
	}
	return deref(c.CompleteActivation(ctx, req))
}

func deref[T any](v *T, err error) (T, error) {
	var zero T
	if err != nil || v == nil {
		if err == nil {
			err = errors.New("the server sent an empty answer")
		}
		return zero, err
	}
	return *v, nil
}

// Versions implements Backend.
func (s *Service) Versions() Versions {
	v := Versions{App: s.o.Version, Go: runtime.Version(), API: api.Version}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "fyne.io/fyne/v2" {
				v.Fyne = d.Version
			}
		}
	}
	s.mu.Lock()
	v.Server = s.server
	s.mu.Unlock()
	return v
}
