package setup

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var info = Info{ServerURL: "https://127.0.0.1:8443", UserID: "jdoe1", OrgName: "Demo Aerospace", NeedsQuestions: true}

func TestStepTransitions(t *testing.T) {
	four := []string{"a", "b", "c", "d"}
	cases := []struct {
		name      string
		questions bool
		steps     []Transition
		want      Step
		wantErr   error
	}{
		{"password then questions", true, []Transition{PasswordChosen}, StepQuestions, nil},
		{"password skips questions when off", false, []Transition{PasswordChosen}, StepSummary, nil},
		{"questions before password", true, []Transition{QuestionsChosen(four)}, StepPassword, ErrWrongStep},
		{"back from password", true, []Transition{Back}, StepPassword, ErrWrongStep},
		{"duplicate questions", true, []Transition{PasswordChosen, QuestionsChosen([]string{"a", "b", "a", "d"})}, StepQuestions, ErrQuestionsCount},
		{"three questions", true, []Transition{PasswordChosen, QuestionsChosen([]string{"a", "b", "c"})}, StepQuestions, ErrQuestionsCount},
		{"back from summary", true, []Transition{PasswordChosen, QuestionsChosen(four), Back}, StepQuestions, nil},
		{"back from summary without questions", false, []Transition{PasswordChosen, Back}, StepPassword, nil},
		{"back to the password from the summary", true, []Transition{PasswordChosen, QuestionsChosen(four), BackTo(StepPassword)}, StepPassword, nil},
		{"back to a later step stays", true, []Transition{PasswordChosen, BackTo(StepSummary)}, StepQuestions, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := info
			in.NeedsQuestions = c.questions
			st, err := Begin(in)
			if err != nil || st.Step != StepPassword || !st.Resumable() {
				t.Fatalf("Begin = %+v, %v", st, err)
			}
			for _, step := range c.steps {
				before := st.Copy()
				st, err = step(st)
				if err != nil {
					if st.Step != before.Step {
						t.Fatalf("a refused step moved the state: %v -> %v", before.Step, st.Step)
					}
					break
				}
			}
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if st.Step != c.want {
				t.Fatalf("step = %v, want %v", st.Step, c.want)
			}
		})
	}
	if _, err := Begin(Info{}); err == nil {
		t.Fatal("a link the server did not check began a setup")
	}
}

// A transition is pure: the state it was given is not changed, so the caller decides what to
// keep.
func TestTransitionsDoNotChangeTheirInput(t *testing.T) {
	st, _ := Begin(info)
	st, _ = PasswordChosen(st)
	ids := []string{"a", "b", "c", "d"}
	next, err := QuestionsChosen(ids)(st)
	if err != nil {
		t.Fatal(err)
	}
	ids[0] = "changed"
	if st.Step != StepQuestions || st.QuestionIDs != nil || next.QuestionIDs[0] != "a" {
		t.Fatalf("input %+v, output %+v", st, next)
	}
}

func TestEncodeDecode(t *testing.T) {
	st, _ := Begin(info)
	st, _ = PasswordChosen(st)
	st, _ = QuestionsChosen([]string{"q1", "q2", "q3", "q4"})(st)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b, err := Encode(st, now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil || got.Step != StepSummary || got.UserID != "jdoe1" || strings.Join(got.QuestionIDs, ",") != "q1,q2,q3,q4" || !got.UpdatedAt.Equal(now) {
		t.Fatalf("Decode = %+v, %v", got, err)
	}
	for _, damaged := range []string{"{not json", `{"step": 99}`, `{"step": -1}`} {
		if _, err := Decode([]byte(damaged)); !errors.Is(err, ErrDamaged) {
			t.Errorf("Decode(%s) = %v, want ErrDamaged", damaged, err)
		}
	}
}
