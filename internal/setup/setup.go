// Package setup is the first-time-setup (activation) wizard as pure state transitions: a
// State (the step reached and the non-secret choices) goes in, the next State comes out. It
// does no I/O: the service keeps the state in a file under MAGDESK_HOME (Encode, Decode) and the
// activation token in the keyring, and nothing else secret anywhere (the password and the
// security answers are typed again after a resume).
package setup

import (
	"encoding/json"
	"errors"
	"fmt"
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

// QuestionsRequired is how many distinct security questions activation needs.
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
	ErrDamaged        = errors.New("the saved setup progress was damaged and has been set aside; start the setup again")
)

// FileName is the state file under MAGDESK_HOME.
const FileName = "setup-progress.json"

// Transition is one step of the wizard: the next state, or an error and the state unchanged.
type Transition func(State) (State, error)

// Info is what the server said about the activation (activation/inspect).
type Info struct {
	ServerURL, UserID, DisplayName, OrgName string
	NeedsQuestions                          bool
	ExpiresAt                               time.Time
}

// Begin is the state once the server accepted a link: the password step. A previous
// unfinished setup is replaced.
func Begin(info Info) (State, error) {
	if info.UserID == "" {
		return State{}, errors.New("the activation link was not checked with the server yet")
	}
	return State{Step: StepPassword, ServerURL: info.ServerURL, UserID: info.UserID, DisplayName: info.DisplayName,
		OrgName: info.OrgName, NeedsQuestions: info.NeedsQuestions, ExpiresAt: info.ExpiresAt}, nil
}

// Resumable reports whether an interrupted setup can be continued.
func (st State) Resumable() bool { return st.Step > StepLink && st.Step < StepDone }

// Copy is st with its own slice of question ids.
func (st State) Copy() State {
	st.QuestionIDs = append([]string(nil), st.QuestionIDs...)
	return st
}

// PasswordChosen moves past the password step. The password itself stays with the caller.
func PasswordChosen(st State) (State, error) {
	if st.Step != StepPassword {
		return st, ErrWrongStep
	}
	st.Step = StepQuestions
	if !st.NeedsQuestions {
		st.Step = StepSummary
	}
	return st, nil
}

// QuestionsChosen records which catalogue questions were picked (not the answers).
func QuestionsChosen(ids []string) Transition {
	return func(st State) (State, error) {
		if st.Step != StepQuestions {
			return st, ErrWrongStep
		}
		if err := CheckDistinct(ids); err != nil {
			return st, err
		}
		st.QuestionIDs = append([]string(nil), ids...)
		st.Step = StepSummary
		return st, nil
	}
}

// Back returns to the previous step (the summary goes back to the questions, and so on).
func Back(st State) (State, error) {
	switch st.Step {
	case StepQuestions:
		st.Step = StepPassword
	case StepSummary:
		st.Step = StepQuestions
		if !st.NeedsQuestions {
			st.Step = StepPassword
		}
	default:
		return st, ErrWrongStep
	}
	return st, nil
}

// BackTo steps back to step, or as far as the wizard goes.
func BackTo(step Step) Transition {
	return func(st State) (State, error) {
		for st.Step > step {
			next, err := Back(st)
			if err != nil {
				break
			}
			st = next
		}
		return st, nil
	}
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

// Encode is the state as the progress file holds it, stamped at now.
func Encode(st State, now time.Time) ([]byte, error) {
	st.UpdatedAt = now.UTC()
	return json.MarshalIndent(st, "", "  ")
}

// Decode reads a progress file; a damaged one is ErrDamaged.
func Decode(b []byte) (State, error) {
	var st State
	if err := json.Unmarshal(b, &st); err != nil || st.Step < StepLink || st.Step > StepDone {
		return State{}, ErrDamaged
	}
	return st, nil
}
