package setup

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/mag-desktop/magdesk/internal/secrets"
)

func TestMain(m *testing.M) {
	// In CI (MAGDESK_REAL_KEYRING=1) these tests run against the real Secret Service;
	// elsewhere against go-keyring's in-memory mock.
	if os.Getenv("MAGDESK_REAL_KEYRING") != "1" {
		keyring.MockInit()
	}
	os.Exit(m.Run())
}

var info = Info{ServerURL: "https://127.0.0.1:8443", UserID: "jdoe1", OrgName: "Demo Aerospace", NeedsQuestions: true}

func TestResumeAfterRestartKeepsNoSecretInFile(t *testing.T) {
	home := t.TempDir()
	m, err := Load(home, Keep(secrets.System{}))
	if err != nil {
		t.Fatal(err)
	}
	if m.Resumable() {
		t.Fatal("fresh home must not offer a resume")
	}
	const token = "tok-0123456789abcdef0123456789abcdef"
	if err := m.Begin(token, info); err != nil {
		t.Fatal(err)
	}
	if err := m.PasswordChosen(); err != nil {
		t.Fatal(err)
	}
	ids := []string{"q1", "q2", "q3", "q4"}
	if err := m.QuestionsChosen(ids); err != nil {
		t.Fatal(err)
	}

	// "Restart": a new machine over the same home.
	m2, err := Load(home, Keep(secrets.System{}))
	if err != nil {
		t.Fatal(err)
	}
	if !m2.Resumable() {
		t.Fatal("interrupted setup must be resumable")
	}
	if err := m2.Resume(); err != nil {
		t.Fatal(err)
	}
	st := m2.State()
	if st.Step != StepSummary || st.UserID != "jdoe1" || strings.Join(st.QuestionIDs, ",") != "q1,q2,q3,q4" || m2.Token() != token {
		t.Fatalf("resumed state = %+v token %q", st, m2.Token())
	}
	b, err := os.ReadFile(filepath.Join(home, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), token) {
		t.Fatal("the activation token was written to the progress file")
	}
	fi, _ := os.Stat(filepath.Join(home, FileName))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("progress file mode %v", fi.Mode().Perm())
	}

	if err := m2.Completed(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(home, FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("progress file left after completion")
	}
	if _, err := Keep(secrets.System{}).Get(m2.tokenKey()); err == nil {
		t.Fatal("token left in keyring after completion")
	}
	m3, _ := Load(home, Keep(secrets.System{}))
	if m3.Resumable() {
		t.Fatal("completed setup offered again")
	}
}

func TestStepTransitions(t *testing.T) {
	cases := []struct {
		name      string
		questions bool
		do        func(m *Machine) error
		want      Step
		wantErr   error
	}{
		{"password then questions", true, func(m *Machine) error { return m.PasswordChosen() }, StepQuestions, nil},
		{"password skips questions when off", false, func(m *Machine) error { return m.PasswordChosen() }, StepSummary, nil},
		{"questions before password", true, func(m *Machine) error { return m.QuestionsChosen([]string{"a", "b", "c", "d"}) }, StepPassword, ErrWrongStep},
		{"back from password", true, func(m *Machine) error { return m.Back() }, StepPassword, ErrWrongStep},
		{"duplicate questions", true, func(m *Machine) error {
			_ = m.PasswordChosen()
			return m.QuestionsChosen([]string{"a", "b", "a", "d"})
		}, StepQuestions, ErrQuestionsCount},
		{"three questions", true, func(m *Machine) error {
			_ = m.PasswordChosen()
			return m.QuestionsChosen([]string{"a", "b", "c"})
		}, StepQuestions, ErrQuestionsCount},
		{"back from summary", true, func(m *Machine) error {
			_ = m.PasswordChosen()
			_ = m.QuestionsChosen([]string{"a", "b", "c", "d"})
			return m.Back()
		}, StepQuestions, nil},
		{"back from summary without questions", false, func(m *Machine) error {
			_ = m.PasswordChosen()
			return m.Back()
		}, StepPassword, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, _ := Load(t.TempDir(), Keep(secrets.System{}))
			in := info
			in.NeedsQuestions = c.questions
			if err := m.Begin("tok-"+c.name, in); err != nil {
				t.Fatal(err)
			}
			err := c.do(m)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if got := m.State().Step; got != c.want {
				t.Fatalf("step = %v, want %v", got, c.want)
			}
		})
	}
}

func TestDamagedProgressIsSetAside(t *testing.T) {
	home := t.TempDir()
	p := filepath.Join(home, FileName)
	if err := os.WriteFile(p, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := Load(home, Keep(secrets.System{}))
	if err == nil || !strings.Contains(err.Error(), "start the setup again") {
		t.Fatalf("err = %v", err)
	}
	if m.Resumable() {
		t.Fatal("damaged state offered for resume")
	}
	if _, err := os.Stat(p + ".damaged"); err != nil {
		t.Fatal("damaged file not kept aside:", err)
	}
}

func TestResumeWithoutTokenInKeyring(t *testing.T) {
	home := t.TempDir()
	m, _ := Load(home, Keep(secrets.System{}))
	if err := m.Begin("tok-lost", info); err != nil {
		t.Fatal(err)
	}
	_ = Keep(secrets.System{}).Delete(m.tokenKey())
	m2, _ := Load(home, Keep(secrets.System{}))
	if err := m2.Resume(); !errors.Is(err, ErrNoToken) {
		t.Fatalf("err = %v, want ErrNoToken", err)
	}
	if err := m2.Abandon(); err != nil {
		t.Fatal(err)
	}
}
