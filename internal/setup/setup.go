// Package setup is the first-time-setup (activation) wizard as a state machine that survives a
// restart: the step reached and the non-secret choices live in a file under MAGDESK_HOME, the
// activation token in the OS keyring, and nothing else secret anywhere (the password and the
// security answers are typed again after a resume).
package setup

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mag-desktop/magdesk/internal/secrets"
)

// Step is how far the wizard got.
type Step int

// The steps in order. StepLink has nothing to resume; StepDone means the account is active.
const (
	StepLink Step = iota
	StepPassword
	StepQuestions
	StepSummary
	StepDone
)

func (s Step) String() string {
	switch s {
	case StepLink:
		return "link"
	case StepPassword:
		return "password"
	case StepQuestions:
		return "questions"
	case StepSummary:
		return "summary"
	case StepDone:
		return "done"
	}
	return fmt.Sprintf("step(%d)", int(s))
}

// QuestionsRequired is how many distinct security questions activation needs (SPEC §2).
const QuestionsRequired = 4

// State is what is kept between runs: no secret is in it.
type State struct {
	Step        Step     `json:"step"`
	ServerURL   string   `json:"server_url"`
	UserID      string   `json:"user_id"`
	DisplayName string   `json:"display_name,omitempty"`
	OrgName     string   `json:"org_name,omitempty"`
	QuestionIDs []string `json:"question_ids,omitempty"`
	// NeedsQuestions is false when the server has security questions switched off.
	NeedsQuestions bool      `json:"needs_questions"`
	ExpiresAt      time.Time `json:"expires_at,omitempty"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// KeyringService is the keyring service of the activation token (see Keep).
const KeyringService = "MAG Desktop setup"

// Keep is where the activation token of k is kept: its setup service.
func Keep(k secrets.Keyring) secrets.Store { return secrets.In(k, KeyringService) }

// Errors a caller may want to tell apart.
var (
	ErrNoToken        = errors.New("the activation link of the interrupted setup is no longer stored on this computer; paste the link from the email again")
	ErrWrongStep      = errors.New("this step is not the current step of the setup")
	ErrQuestionsCount = fmt.Errorf("choose %d different security questions", QuestionsRequired)
)

// FileName is the state file under MAGDESK_HOME.
const FileName = "setup-progress.json"

// Machine drives the wizard. It is not safe for concurrent use: the UI calls it from one goroutine.
type Machine struct {
	path    string
	secrets secrets.Store
	now     func() time.Time
	state   State
	token   string
}

// Load opens the wizard state of home; with no file, the wizard starts at StepLink.
// A damaged state file is reported and set aside (renamed), so the user can start again.
func Load(home string, sec secrets.Store) (*Machine, error) {
	m := &Machine{path: filepath.Join(home, FileName), secrets: sec, now: time.Now}
	b, err := os.ReadFile(m.path)
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, fmt.Errorf("read setup progress: %w", err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil || st.Step < StepLink || st.Step > StepDone {
		_ = os.Rename(m.path, m.path+".damaged")
		return m, fmt.Errorf("the saved setup progress in %s was damaged and has been set aside; start the setup again", m.path)
	}
	m.state = st
	return m, nil
}

// State returns a copy of the current state.
func (m *Machine) State() State {
	st := m.state
	st.QuestionIDs = append([]string(nil), st.QuestionIDs...)
	return st
}

// Token is the activation token once Begin or Resume has run.
func (m *Machine) Token() string { return m.token }

// Resumable reports whether an interrupted setup can be continued.
func (m *Machine) Resumable() bool {
	return m.state.Step > StepLink && m.state.Step < StepDone
}

// Resume reloads the token of an interrupted setup from the keyring.
func (m *Machine) Resume() error {
	if !m.Resumable() {
		return ErrWrongStep
	}
	tok, err := m.secrets.Get(m.tokenKey())
	if err != nil || tok == "" {
		return ErrNoToken
	}
	m.token = tok
	return nil
}

// Info is what the server said about the activation (activation/inspect).
type Info struct {
	ServerURL, UserID, DisplayName, OrgName string
	NeedsQuestions                          bool
	ExpiresAt                               time.Time
}

// Begin records a link the server accepted and moves to the password step. A previous
// unfinished setup is replaced.
func (m *Machine) Begin(token string, info Info) error {
	if token == "" || info.UserID == "" {
		return errors.New("the activation link was not checked with the server yet")
	}
	if m.token != "" && m.token != token {
		_ = m.secrets.Delete(m.tokenKey())
	}
	m.state = State{
		Step: StepPassword, ServerURL: info.ServerURL, UserID: info.UserID, DisplayName: info.DisplayName,
		OrgName: info.OrgName, NeedsQuestions: info.NeedsQuestions, ExpiresAt: info.ExpiresAt,
	}
	m.token = token
	if err := m.secrets.Set(m.tokenKey(), token); err != nil {
		// Without a keyring the wizard still works for this run; it just cannot resume.
		return m.save(fmt.Errorf("the activation link could not be kept in the system keyring, so this setup cannot be resumed after closing the app: %w", err))
	}
	return m.save(nil)
}

// PasswordChosen moves past the password step. The password itself stays with the caller.
func (m *Machine) PasswordChosen() error {
	if m.state.Step != StepPassword {
		return ErrWrongStep
	}
	m.state.Step = StepQuestions
	if !m.state.NeedsQuestions {
		m.state.Step = StepSummary
	}
	return m.save(nil)
}

// QuestionsChosen records which catalogue questions were picked (not the answers).
func (m *Machine) QuestionsChosen(ids []string) error {
	if m.state.Step != StepQuestions {
		return ErrWrongStep
	}
	if err := CheckDistinct(ids); err != nil {
		return err
	}
	m.state.QuestionIDs = append([]string(nil), ids...)
	m.state.Step = StepSummary
	return m.save(nil)
}

// Back returns to the previous step (the summary goes back to the questions, and so on).
func (m *Machine) Back() error {
	switch m.state.Step {
	case StepQuestions:
		m.state.Step = StepPassword
	case StepSummary:
		m.state.Step = StepQuestions
		if !m.state.NeedsQuestions {
			m.state.Step = StepPassword
		}
	default:
		return ErrWrongStep
	}
	return m.save(nil)
}

// Completed is called after the server activated the account: the token is removed from the
// keyring and the progress file deleted.
func (m *Machine) Completed() error {
	m.state.Step = StepDone
	return m.forget()
}

// Abandon forgets an interrupted setup (the user chose to start over).
func (m *Machine) Abandon() error {
	m.state = State{}
	return m.forget()
}

func (m *Machine) forget() error {
	if err := m.secrets.Delete(m.tokenKey()); err != nil {
		return fmt.Errorf("remove the activation link from the keyring: %w", err)
	}
	m.token = ""
	if err := os.Remove(m.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove setup progress: %w", err)
	}
	return nil
}

// CheckDistinct checks the questions chosen: exactly QuestionsRequired, none empty, none twice.
func CheckDistinct(ids []string) error {
	if len(ids) != QuestionsRequired {
		return ErrQuestionsCount
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" || seen[id] {
			return ErrQuestionsCount
		}
		seen[id] = true
	}
	return nil
}

// tokenKey names the keyring entry; one setup at a time per home is enough.
func (m *Machine) tokenKey() string { return "activation-token:" + m.path }

func (m *Machine) save(prior error) error {
	m.state.UpdatedAt = m.now().UTC()
	b, err := json.MarshalIndent(m.state, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(m.path), 0o700); err != nil {
		return fmt.Errorf("save setup progress: %w", err)
	}
	tmp := m.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("save setup progress: %w", err)
	}
	if err := os.Rename(tmp, m.path); err != nil {
		return fmt.Errorf("save setup progress: %w", err)
	}
	return prior
}
