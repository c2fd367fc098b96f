package tutor

import (
	"strings"
	"testing"

	"github.com/AlecAivazis/survey/v2/terminal"

	"github.com/rt-lab/rt-lab/lessons"
)

func askQuestionOn(f *fixture, step *lessons.Step) {
	step.Question = &lessons.Question{
		Text:    lessons.Text{ID: "Berapa MiB?", EN: "How many MiB?"},
		Format:  "integer",
		Invalid: lessons.Text{ID: "Jawab dengan angka.", EN: "Answer with a whole number."},
	}
}

func TestQuestionRejectsBadFormat(t *testing.T) {
	f := newFixture(t, actionCheck)
	step := f.tutor.Stage.Steps[0]
	askQuestionOn(f, step)
	typed := []string{"64MB", " 64 "}
	f.tutor.askText = func(message string) (string, error) {
		if message != "How many MiB?" {
			t.Errorf("question shown as %q", message)
		}
		if len(typed) == 0 {
			return "", terminal.InterruptErr
		}
		answer := typed[0]
		typed = typed[1:]
		return answer, nil
	}
	f.grader.pass[step.ID] = true
	out := f.run(t)

	if strings.Count(out, "Answer with a whole number.") != 1 {
		t.Errorf("want one format error for 64MB, output:\n%s", out)
	}
	if got := f.progress(t).Answers(f.tutor.Stage.ID)[step.ID]; got != "64" {
		t.Errorf("saved answer %q, want 64", got)
	}
}

func TestQuestionInterruptGradesNothing(t *testing.T) {
	f := newFixture(t, actionCheck)
	step := f.tutor.Stage.Steps[0]
	askQuestionOn(f, step)
	f.tutor.askText = func(string) (string, error) { return "", terminal.InterruptErr }
	f.run(t)

	if n := f.grader.calls[step.ID]; n != 0 {
		t.Errorf("graded %d times after Ctrl-C at the question", n)
	}
}

func TestQuestionRunForMeFillsAnswer(t *testing.T) {
	f := newFixture(t, actionRun)
	step := f.tutor.Stage.Steps[0]
	askQuestionOn(f, step)
	f.tutor.askText = func(string) (string, error) {
		t.Error("run it for me asked the student")
		return "", terminal.InterruptErr
	}
	f.tutor.Answer = func(*lessons.Step) (string, bool) { return "64", true }
	f.grader.pass[step.ID] = true
	out := f.run(t)

	if !strings.Contains(out, "How many MiB? The kernel shows: 64") {
		t.Errorf("output does not show the filled answer:\n%s", out)
	}
	if got := f.progress(t).Answers(f.tutor.Stage.ID)[step.ID]; got != "64" {
		t.Errorf("saved answer %q, want 64", got)
	}
}
