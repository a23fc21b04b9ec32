package setup

import (
	"errors"

	"github.com/zalando/go-keyring"
)

// KeyringService is the Secret Service / Credential Manager / Keychain service name.
const KeyringService = "MAG Desktop setup"

// Keyring keeps the activation token in the OS keyring.
type Keyring struct{}

// Set implements Secrets.
func (Keyring) Set(key, value string) error { return keyring.Set(KeyringService, key, value) }

// Get implements Secrets.
func (Keyring) Get(key string) (string, error) { return keyring.Get(KeyringService, key) }

// Delete implements Secrets.
func (Keyring) Delete(key string) error { return keyring.Delete(KeyringService, key) }

func isNotFound(err error) bool { return errors.Is(err, keyring.ErrNotFound) }
