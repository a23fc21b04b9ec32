package service

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mag-desktop/magdesk/internal/secrets"
	"github.com/mag-desktop/magdesk/internal/setup"
)

func setupService(home string, k secrets.Keyring) *Service {
	return NewService(Options{Home: home, Keyring: k})
}

var setupInfo = setup.Info{ServerURL: "https://127.0.0.1:8443", UserID: "jdoe1", OrgName: "Demo Aerospace", NeedsQuestions: true}

// The service keeps the setup across a restart: the steps in the file, the token in the
// keyring and nowhere else.
func TestSetupResumesAfterRestartWithNoSecretInTheFile(t *testing.T) {
	ctx := context.Background()
	home, kr := t.TempDir(), secrets.NewMemory()
	s := setupService(home, kr)
	if st, err := s.SetupProgress(ctx); err != nil || st.Resumable() {
		t.Fatalf("fresh home: %+v %v", st, err)
	}
	const token = "tok-0123456789abcdef0123456789abcdef"
	if _, err := s.SetupBegin(ctx, token, setupInfo); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetupStep(ctx, setup.PasswordChosen); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetupStep(ctx, setup.QuestionsChosen([]string{"q1", "q2", "q3", "q4"})); err != nil {
		t.Fatal(err)
	}

	s2 := setupService(home, kr) // "restart"
	st, err := s2.SetupProgress(ctx)
	if err != nil || !st.Resumable() || st.Step != setup.StepSummary || strings.Join(st.QuestionIDs, ",") != "q1,q2,q3,q4" {
		t.Fatalf("after a restart: %+v %v", st, err)
	}
	if tok, err := s2.SetupResume(ctx); err != nil || tok != token {
		t.Fatalf("resume: %q %v", tok, err)
	}
	p := filepath.Join(home, setup.FileName)
	b, _ := os.ReadFile(p)
	if strings.Contains(string(b), token) {
		t.Fatal("the activation token was written to the progress file")
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("progress file: %v %v", fi, err)
	}

	if err := s2.SetupDone(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("progress file left after completion")
	}
	if _, err := setup.Keep(kr).Get(s2.setupTokenKey()); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatal("token left in the keyring after completion")
	}
	if st, _ := setupService(home, kr).SetupProgress(ctx); st.Resumable() {
		t.Fatal("completed setup offered again")
	}
}

func TestSetupDamagedProgressIsSetAside(t *testing.T) {
	home := t.TempDir()
	p := filepath.Join(home, setup.FileName)
	if err := os.WriteFile(p, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := setupService(home, secrets.NewMemory())
	st, err := s.SetupProgress(context.Background())
	if !errors.Is(err, setup.ErrDamaged) || st.Resumable() {
		t.Fatalf("%+v %v", st, err)
	}
	if _, err := os.Stat(p + ".damaged"); err != nil {
		t.Fatal("damaged file not kept aside:", err)
	}
}

func TestSetupResumeWithoutTokenForgetsTheSetup(t *testing.T) {
	ctx := context.Background()
	home, kr := t.TempDir(), secrets.NewMemory()
	s := setupService(home, kr)
	if _, err := s.SetupBegin(ctx, "tok-lost", setupInfo); err != nil {
		t.Fatal(err)
	}
	_ = setup.Keep(kr).Delete(s.setupTokenKey())
	s2 := setupService(home, kr)
	if _, err := s2.SetupResume(ctx); !errors.Is(err, setup.ErrNoToken) {
		t.Fatalf("err = %v, want ErrNoToken", err)
	}
	if st, _ := s2.SetupProgress(ctx); st.Resumable() {
		t.Fatal("a setup without its token is still offered")
	}
}

// failingKeyring refuses every write, as a locked keyring does.
type failingKeyring struct{ secrets.Keyring }

func (failingKeyring) Set(string, string, string) error { return errors.New("keyring locked") }

// Without a keyring the setup goes on for this run and says it cannot be resumed.
func TestSetupBeginWithoutKeyringGoesOn(t *testing.T) {
	s := setupService(t.TempDir(), failingKeyring{secrets.NewMemory()})
	st, err := s.SetupBegin(context.Background(), "tok", setupInfo)
	if err == nil || !strings.Contains(err.Error(), "cannot be resumed") || st.Step != setup.StepPassword {
		t.Fatalf("%+v %v", st, err)
	}
	if st, err := s.SetupStep(context.Background(), setup.PasswordChosen); err != nil || st.Step != setup.StepQuestions {
		t.Fatalf("next step: %+v %v", st, err)
	}
}

// The window calls the setup from several goroutines; the state stays whole (run with -race).
func TestSetupStepsFromManyGoroutines(t *testing.T) {
	ctx := context.Background()
	s := setupService(t.TempDir(), secrets.NewMemory())
	if _, err := s.SetupBegin(ctx, "tok", setupInfo); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = s.SetupStep(ctx, setup.PasswordChosen)
			_, _ = s.SetupProgress(ctx)
			_, _ = s.SetupStep(ctx, setup.Back)
		}()
	}
	wg.Wait()
	st, err := s.SetupProgress(ctx)
	if err != nil || (st.Step != setup.StepPassword && st.Step != setup.StepQuestions) {
		t.Fatalf("%+v %v", st, err)
	}
}
