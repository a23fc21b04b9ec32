package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mag-desktop/magdesk/internal/secrets"
)

// KeyringService is the service name of every MAG Desktop item in the OS keyring.
const KeyringService = "MAG Desktop"

// Keyring item names. Sessions are "session:<server>|<user id>" (both query-escaped, so the
// separator cannot occur inside them); the index of cached accounts is one item too, so that
// listing and clearing never needs a file.
const (
	sessionKeyPrefix = "session:"
	indexKey         = "sessions-index"
)

// ErrNoSession means no session is cached for that server and user.
var ErrNoSession = errors.New("no cached session: log in first")

// Session is one cached login: a secret, kept only in the keyring (or in memory).
type Session struct {
	Server      string    `json:"server"`
	UserID      string    `json:"user_id"`
	Token       string    `json:"token"`
	ExpiresAt   time.Time `json:"expires_at"`
	SavedAt     time.Time `json:"saved_at"`
	DisplayName string    `json:"display_name,omitempty"`
	OrgName     string    `json:"org_name,omitempty"`
	// CertSHA256 is the certificate the login presented (sessions may be bound to it).
	CertSHA256 string `json:"cert_sha256,omitempty"`
}

// Ref names a cached session without its token, for lists.
func (s Session) Ref() SessionRef {
	return SessionRef{Server: s.Server, UserID: s.UserID, DisplayName: s.DisplayName,
		OrgName: s.OrgName, SavedAt: s.SavedAt, ExpiresAt: s.ExpiresAt}
}

// SessionRef is an entry of the index of cached accounts (no secret in it).
type SessionRef struct {
	Server      string    `json:"server"`
	UserID      string    `json:"user_id"`
	DisplayName string    `json:"display_name,omitempty"`
	OrgName     string    `json:"org_name,omitempty"`
	SavedAt     time.Time `json:"saved_at"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// Expired reports whether the session's absolute lifetime is over.
func (r SessionRef) Expired(now time.Time) bool {
	return !r.ExpiresAt.IsZero() && now.After(r.ExpiresAt)
}

// SessionStore caches one session per (server, user id), several accounts side by side.
// It is safe for concurrent use within a process.
type SessionStore struct {
	mu      sync.Mutex
	kr      secrets.Store // the zero Store: in memory for this run
	inKR    bool
	mem     map[string]string // the in-memory fallback, same keys as the keyring
	warning string
}

// OpenSessionStore uses the OS keyring (secrets.OS: the profile of $MAGDESK_KEYRING_SERVICE)
// if it answers, else keeps sessions in memory for this run and says why in Warning. It never
// writes a file.
func OpenSessionStore() *SessionStore { return NewSessionStore(secrets.OS()) }

// NewSessionStore is OpenSessionStore over a given keyring (nil: memory only).
func NewSessionStore(k secrets.Keyring) *SessionStore {
	s := &SessionStore{mem: map[string]string{}}
	if k == nil {
		s.warning = "No keyring is in use: sessions are kept in memory for this run only."
		return s
	}
	kr := secrets.In(k, KeyringService)
	if _, err := kr.Get(indexKey); err != nil && !errors.Is(err, secrets.ErrNotFound) {
		s.fallBack(err)
		return s
	}
	s.kr, s.inKR = kr, true
	return s
}

func (s *SessionStore) fallBack(err error) {
	s.inKR = false
	s.warning = fmt.Sprintf("The system keyring is not available (%v), so your login is kept in memory for this run only "+
		"and you will have to log in again next time. On Linux, install and unlock a Secret Service such as GNOME Keyring or KWallet.", err)
}

// InMemory reports whether sessions live only in memory for this run.
func (s *SessionStore) InMemory() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.inKR
}

// Warning says why sessions are not in the keyring, or "".
func (s *SessionStore) Warning() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.warning
}

func sessionKey(server, userID string) string {
	return sessionKeyPrefix + url.QueryEscape(server) + "|" + url.QueryEscape(strings.ToLower(userID))
}

func sameAccount(a SessionRef, server, userID string) bool {
	return a.Server == server && strings.EqualFold(a.UserID, userID)
}

// Save caches a session, replacing the previous one of the same account. The index entry is
// written first, so a crash in between leaves an entry without a secret (harmless), never a
// secret that ClearSessions cannot find.
func (s *SessionStore) Save(sess Session) error {
	if sess.Server == "" || sess.UserID == "" || sess.Token == "" {
		return errors.New("session store: server, user id and token are required")
	}
	if sess.SavedAt.IsZero() {
		sess.SavedAt = time.Now().UTC()
	}
	blob, err := json.Marshal(sess)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Another process (the GUI beside the command line) may rewrite the index between our read
	// and write; read it back and add the entry again until it holds.
	for try := 0; ; try++ {
		refs, err := s.indexLocked()
		if err != nil {
			return err
		}
		if try > 0 && slices.ContainsFunc(refs, func(r SessionRef) bool { return sameAccount(r, sess.Server, sess.UserID) }) {
			break
		}
		if try == 3 {
			return errors.New("session store: the index of cached accounts keeps changing under us; try again")
		}
		refs = slices.DeleteFunc(refs, func(r SessionRef) bool { return sameAccount(r, sess.Server, sess.UserID) })
		refs = append(refs, sess.Ref())
		if err := s.writeIndexLocked(refs); err != nil {
			return err
		}
	}
	return s.setLocked(sessionKey(sess.Server, sess.UserID), string(blob))
}

// Load returns the cached session of an account, or ErrNoSession.
func (s *SessionStore) Load(server, userID string) (Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	blob, err := s.getLocked(sessionKey(server, userID))
	if err != nil {
		return Session{}, err
	}
	var sess Session
	if err := json.Unmarshal([]byte(blob), &sess); err != nil || sess.Token == "" {
		return Session{}, fmt.Errorf("the cached session of %s is damaged; log in again: %w", userID, ErrNoSession)
	}
	return sess, nil
}

// Delete forgets an account's session here (it does not log out on the server).
func (s *SessionStore) Delete(server, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.deleteLocked(sessionKey(server, userID)); err != nil {
		return err
	}
	refs, err := s.indexLocked()
	if err != nil {
		return err
	}
	n := len(refs)
	refs = slices.DeleteFunc(refs, func(r SessionRef) bool { return sameAccount(r, server, userID) })
	if len(refs) == n {
		return nil
	}
	return s.writeIndexLocked(refs)
}

// List returns the cached accounts, oldest first.
func (s *SessionStore) List() ([]SessionRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.indexLocked()
}

func (s *SessionStore) indexLocked() ([]SessionRef, error) {
	blob, err := s.getLocked(indexKey)
	if errors.Is(err, ErrNoSession) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var refs []SessionRef
	if err := json.Unmarshal([]byte(blob), &refs); err != nil {
		// A damaged index must not lock the user out of clearing: start a new one. The
		// orphaned secrets are named by the keyring's own tools under KeyringService.
		return nil, nil
	}
	return refs, nil
}

func (s *SessionStore) writeIndexLocked(refs []SessionRef) error {
	if len(refs) == 0 {
		return s.deleteLocked(indexKey)
	}
	blob, err := json.Marshal(refs)
	if err != nil {
		return err
	}
	return s.setLocked(indexKey, string(blob))
}

func (s *SessionStore) getLocked(key string) (string, error) {
	if !s.inKR {
		v, ok := s.mem[key]
		if !ok {
			return "", ErrNoSession
		}
		return v, nil
	}
	v, err := s.kr.Get(key)
	if errors.Is(err, secrets.ErrNotFound) {
		return "", ErrNoSession
	}
	if err != nil {
		return "", fmt.Errorf("reading the keyring: %w", err)
	}
	return v, nil
}

func (s *SessionStore) setLocked(key, value string) error {
	if s.inKR {
		err := s.kr.Set(key, value)
		if err == nil {
			return nil
		}
		if errors.Is(err, secrets.ErrTooBig) {
			return fmt.Errorf("the keyring refused the session (too big): %w", err)
		}
		// The keyring went away (daemon stopped, locked and dismissed): keep going in memory
		// rather than failing the login, and say so.
		s.fallBack(err)
	}
	s.mem[key] = value
	return nil
}

func (s *SessionStore) deleteLocked(key string) error {
	if !s.inKR {
		delete(s.mem, key)
		return nil
	}
	if err := s.kr.Delete(key); err != nil {
		return fmt.Errorf("deleting from the keyring: %w", err)
	}
	return nil
}
