package service

import (
	"sync"

	"github.com/zalando/go-keyring"

	"github.com/mag-desktop/magdesk/internal/setup"
)

// MemoryKeyring keeps secrets in memory for this run. The demo uses it so that its throwaway
// sessions, store passwords and activation tokens never land in the user's real keyring.
type MemoryKeyring struct {
	mu sync.Mutex
	m  map[string]string
}

// NewMemoryKeyring returns an empty keyring.
func NewMemoryKeyring() *MemoryKeyring { return &MemoryKeyring{m: map[string]string{}} }

func memKey(service, user string) string { return service + "\x00" + user }

// Set stores a secret (client.Keyring, certstore.Keyring).
func (k *MemoryKeyring) Set(service, user, secret string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[memKey(service, user)] = secret
	return nil
}

// Get returns a secret or keyring.ErrNotFound, as the OS keyring does.
func (k *MemoryKeyring) Get(service, user string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[memKey(service, user)]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

// Delete removes a secret; a missing one is keyring.ErrNotFound.
func (k *MemoryKeyring) Delete(service, user string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[memKey(service, user)]; !ok {
		return keyring.ErrNotFound
	}
	delete(k.m, memKey(service, user))
	return nil
}

// Keyring is the shape of the OS keyring that client and certstore use.
type Keyring interface {
	Set(service, user, secret string) error
	Get(service, user string) (string, error)
	Delete(service, user string) error
}

// SetupSecrets is the keyring seen as setup.Secrets (one service).
func (k *MemoryKeyring) SetupSecrets() SetupSecrets { return SetupSecrets{k} }

// SetupSecrets adapts a Keyring to setup.Secrets, under setup's service name.
type SetupSecrets struct{ k Keyring }

// SetupSecretsIn keeps setup's activation token in k.
func SetupSecretsIn(k Keyring) SetupSecrets { return SetupSecrets{k} }

const setupService = setup.KeyringService

// Set implements setup.Secrets.
func (s SetupSecrets) Set(key, value string) error { return s.k.Set(setupService, key, value) }

// Get implements setup.Secrets.
func (s SetupSecrets) Get(key string) (string, error) { return s.k.Get(setupService, key) }

// Delete implements setup.Secrets.
func (s SetupSecrets) Delete(key string) error { return s.k.Delete(setupService, key) }
