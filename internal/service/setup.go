package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mag-desktop/magdesk/internal/setup"
)

// The first-time setup: package setup decides the steps, the service keeps them. The state
// goes to MAGDESK_HOME/setup-progress.json, the activation token to the keyring, each call
// under setupMu, so the window can call these from any goroutine (never its UI goroutine:
// the keyring may block).

// setupPath is the progress file.
func (s *Service) setupPath() string { return filepath.Join(s.o.Home, setup.FileName) }

// setupTokenKey names the token's keyring entry; one setup at a time per home is enough.
func (s *Service) setupTokenKey() string { return "activation-token:" + s.setupPath() }

// SetupProgress implements Backend: the saved state of the setup (StepLink when there is
// none). A damaged file is set aside and reported.
func (s *Service) SetupProgress(context.Context) (setup.State, error) {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	return s.setupLoadLocked()
}

func (s *Service) setupLoadLocked() (setup.State, error) {
	if s.setupLoaded {
		return s.setupState.Copy(), nil
	}
	b, err := os.ReadFile(s.setupPath())
	switch {
	case errors.Is(err, os.ErrNotExist):
		s.setupState, err = setup.State{}, nil
	case err != nil:
		return setup.State{}, fmt.Errorf("read setup progress: %w", err)
	default:
		s.setupState, err = setup.Decode(b)
		if err != nil {
			_ = os.Rename(s.setupPath(), s.setupPath()+".damaged")
		}
	}
	s.setupLoaded = true
	return s.setupState.Copy(), err
}

// setupSaveLocked keeps st as the current state, in the file too.
func (s *Service) setupSaveLocked(st setup.State) error {
	b, err := setup.Encode(st, time.Now())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.setupPath()), 0o700); err != nil {
		return fmt.Errorf("save setup progress: %w", err)
	}
	tmp := s.setupPath() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("save setup progress: %w", err)
	}
	if err := os.Rename(tmp, s.setupPath()); err != nil {
		return fmt.Errorf("save setup progress: %w", err)
	}
	s.setupState, s.setupLoaded = st.Copy(), true
	return nil
}

// SetupBegin implements Backend: a link the server accepted starts the setup at the password
// step, replacing an unfinished one. The state returned is valid even when the error says the
// token could not be kept for a resume.
func (s *Service) SetupBegin(_ context.Context, token string, info setup.Info) (setup.State, error) {
	if token == "" {
		return setup.State{}, errors.New("the activation link was not checked with the server yet")
	}
	st, err := setup.Begin(info)
	if err != nil {
		return st, err
	}
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	kerr := setup.Keep(s.o.Keyring).Set(s.setupTokenKey(), token)
	if err := s.setupSaveLocked(st); err != nil {
		return st, err
	}
	if kerr != nil {
		// Without a keyring the wizard still works for this run; it just cannot resume.
		return st, fmt.Errorf("the activation link could not be kept in the system keyring, so this setup cannot be resumed after closing the app: %w", kerr)
	}
	return st, nil
}

// SetupStep implements Backend: the transition t applied to the saved state, and saved.
func (s *Service) SetupStep(_ context.Context, t setup.Transition) (setup.State, error) {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	st, err := s.setupLoadLocked()
	if err != nil {
		return st, err
	}
	next, err := t(st)
	if err != nil {
		return st, err
	}
	return next.Copy(), s.setupSaveLocked(next)
}

// SetupResume implements Backend: the token of an interrupted setup, back from the keyring.
// Without it the setup is forgotten (ErrNoToken: the link must be pasted again).
func (s *Service) SetupResume(context.Context) (string, error) {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	st, err := s.setupLoadLocked()
	if err != nil {
		return "", err
	}
	if !st.Resumable() {
		return "", setup.ErrWrongStep
	}
	tok, err := setup.Keep(s.o.Keyring).Get(s.setupTokenKey())
	if err != nil || tok == "" {
		_ = s.setupForgetLocked()
		return "", setup.ErrNoToken
	}
	return tok, nil
}

// SetupDone implements Backend: the account is active; the token and the file go.
func (s *Service) SetupDone(context.Context) error {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	return s.setupForgetLocked()
}

// SetupAbandon implements Backend: the user chose to start over.
func (s *Service) SetupAbandon(context.Context) error {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	return s.setupForgetLocked()
}

func (s *Service) setupForgetLocked() error {
	s.setupState, s.setupLoaded = setup.State{}, true
	if err := setup.Keep(s.o.Keyring).Delete(s.setupTokenKey()); err != nil {
		return fmt.Errorf("remove the activation link from the keyring: %w", err)
	}
	if err := os.Remove(s.setupPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove setup progress: %w", err)
	}
	return nil
}
