// Package secrets is where MAG Desktop keeps what must never reach a file in clear: session
// tokens, the random passwords of its certificate files, the activation token of an interrupted
// setup. A Keyring holds secrets by service name and key; System is the OS keyring (Secret
// Service, Keychain, Credential Manager), Memory keeps them for one run (the demo, tests), and
// Profile keeps one profile's services apart from another's. A Store is one service's view.
package secrets

import (
	"errors"
	"os"
	"sync"

	"github.com/zalando/go-keyring"
)

// ErrNotFound is a secret that is not there. It is the OS keyring's own error value, so
// errors.Is matches on what every Keyring returns.
var ErrNotFound = keyring.ErrNotFound

// ErrTooBig is a secret the OS keyring refuses for its size.
var ErrTooBig = keyring.ErrSetDataTooBig

// Keyring keeps secrets by service name and key. Get and Delete of a missing secret return
// ErrNotFound.
type Keyring interface {
	Set(service, key, secret string) error
	Get(service, key string) (string, error)
	Delete(service, key string) error
}

// System is the OS keyring through go-keyring; keyring.MockInit replaces it in tests.
type System struct{}

// Set implements Keyring.
func (System) Set(service, key, secret string) error { return keyring.Set(service, key, secret) }

// Get implements Keyring.
func (System) Get(service, key string) (string, error) { return keyring.Get(service, key) }

// Delete implements Keyring.
func (System) Delete(service, key string) error { return keyring.Delete(service, key) }

// Memory keeps secrets in memory for this run, so that throwaway ones (the demo's) never land
// in the user's keyring. It is safe for concurrent use.
type Memory struct {
	mu sync.Mutex
	m  map[[2]string]string
}

// NewMemory returns an empty in-memory keyring.
func NewMemory() *Memory { return &Memory{m: map[[2]string]string{}} }

// Set implements Keyring.
func (k *Memory) Set(service, key, secret string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[[2]string{service, key}] = secret
	return nil
}

// Get implements Keyring.
func (k *Memory) Get(service, key string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[[2]string{service, key}]
	if !ok {
		return "", ErrNotFound
	}
	return v, nil
}

// Delete implements Keyring.
func (k *Memory) Delete(service, key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[[2]string{service, key}]; !ok {
		return ErrNotFound
	}
	delete(k.m, [2]string{service, key})
	return nil
}

// ProfileEnv names the environment variable that selects a keyring profile: separate profiles
// on one desktop, and test runs side by side that must not clear each other's secrets.
const ProfileEnv = "MAGDESK_KEYRING_SERVICE"

// Profile is k with every service name S kept as "S [profile]", so that two profiles never
// see each other's secrets. An empty profile is k itself.
func Profile(k Keyring, profile string) Keyring {
	if profile == "" {
		return k
	}
	return profiled{k: k, suffix: " [" + profile + "]"}
}

type profiled struct {
	k      Keyring
	suffix string
}

func (p profiled) Set(service, key, secret string) error {
	return p.k.Set(service+p.suffix, key, secret)
}
func (p profiled) Get(service, key string) (string, error) { return p.k.Get(service+p.suffix, key) }
func (p profiled) Delete(service, key string) error        { return p.k.Delete(service+p.suffix, key) }

// OS is the OS keyring under the profile of $MAGDESK_KEYRING_SERVICE (none when unset).
func OS() Keyring { return Profile(System{}, os.Getenv(ProfileEnv)) }

// Store is the secrets of one service of a Keyring.
type Store struct {
	k       Keyring
	service string
}

// In is the secrets of service in k.
func In(k Keyring, service string) Store { return Store{k: k, service: service} }

// Service is the name the secrets are kept under.
func (s Store) Service() string { return s.service }

// Set keeps a secret.
func (s Store) Set(key, secret string) error { return s.k.Set(s.service, key, secret) }

// Get returns a secret, or ErrNotFound.
func (s Store) Get(key string) (string, error) { return s.k.Get(s.service, key) }

// Delete removes a secret; a missing one is not an error.
func (s Store) Delete(key string) error {
	if err := s.k.Delete(s.service, key); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}
