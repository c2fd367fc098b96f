package lessons_test

import (
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/locales"
)

// fakeChecks knows two checks, "house-running" and "answer", which need "name".
func fakeChecks(id string) ([]string, bool) {
	if id == "house-running" || id == "answer" {
		return []string{"name"}, true
	}
	return nil, false
}

func both(s string) lessons.Text { return lessons.Text{ID: s + " (id)", EN: s + " (en)"} }

// validStage returns a ready stage with two valid steps.
func validStage() *lessons.Stage {
	step := func(id string) *lessons.Step {
		return &lessons.Step{
			ID: id, Points: 10, Title: both("title"), Text: both("text"),
			Commands: []string{"rt-lab run-container rumah-x"},
			Solution: []string{"rt-lab run-container rumah-x -- true"},
			Checks:   []lessons.Check{{Check: "house-running", With: map[string]string{"name": "rumah-x"}}},
			Hints:    []lessons.Text{both("hint")},
		}
	}
	return &lessons.Stage{
		ID: "tahap-7", Number: 7, Status: lessons.StatusReady, File: "tahap-7.yaml",
		Title: both("stage"), Intro: both("intro"), Containers: []string{"rumah-x"},
		Steps: []*lessons.Step{step("satu"), step("dua")},
	}
}

func question() *lessons.Question {
	return &lessons.Question{Text: both("question"), Format: "integer", Invalid: both("invalid")}
}

func TestQuestionAccepts(t *testing.T) {
	q := question()
	for answer, want := range map[string]bool{
		"64": true, " 064 ": true, "": false, "64MB": false, "-1": false, "1e3": false, "6 4": false,
		"1234567890123456789": false,
	} {
		if got := q.Accepts(answer); got != want {
			t.Errorf("Accepts(%q) = %v, want %v", answer, got, want)
		}
	}
	q.Format = "mib"
	for answer, want := range map[string]bool{
		"64": true, "64 MiB": true, "64MiB": true, " 64 mib ": true, "MiB": false, "64 MB": false,
		"64 MiB MiB": false, "": false,
	} {
		if got := q.Accepts(answer); got != want {
			t.Errorf("mib format: Accepts(%q) = %v, want %v", answer, got, want)
		}
	}
	q.Format = "text"
	if !q.Accepts("cpu") || q.Accepts("  ") {
		t.Errorf("text format: Accepts(cpu) must hold and Accepts(blank) must not")
	}
}

func TestValidateValidStage(t *testing.T) {
	for _, pr := range lessons.Validate([]*lessons.Stage{validStage()}, fakeChecks) {
		t.Errorf("unexpected problem: %s", pr)
	}
}

func TestValidateReportsProblems(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(st *lessons.Stage)
		step   string
		field  string
		msgID  string
	}{
		{"duplicate step id", func(st *lessons.Stage) { st.Steps[1].ID = "satu" }, "satu", "id", "LessonProblemDuplicateStep"},
		{"empty step id", func(st *lessons.Stage) { st.Steps[0].ID = "" }, "steps[0]", "id", "LessonProblemStepID"},
		{"stage title missing in English", func(st *lessons.Stage) { st.Title.EN = " " }, "", "title.en", "LessonProblemTextMissing"},
		{"intro missing in Indonesian", func(st *lessons.Stage) { st.Intro.ID = "" }, "", "intro.id", "LessonProblemTextMissing"},
		{"step title missing", func(st *lessons.Stage) { st.Steps[0].Title.ID = "" }, "satu", "title.id", "LessonProblemTextMissing"},
		{"step text missing", func(st *lessons.Stage) { st.Steps[1].Text.EN = "" }, "dua", "text.en", "LessonProblemTextMissing"},
		{"hint missing in English", func(st *lessons.Stage) {
			st.Steps[0].Hints = append(st.Steps[0].Hints, lessons.Text{ID: "petunjuk"})
		}, "satu", "hints[1].en", "LessonProblemTextMissing"},
		{"no hints", func(st *lessons.Stage) { st.Steps[0].Hints = nil }, "satu", "hints", "LessonProblemNoHints"},
		{"zero points", func(st *lessons.Stage) { st.Steps[0].Points = 0 }, "satu", "points", "LessonProblemPoints"},
		{"negative points", func(st *lessons.Stage) { st.Steps[1].Points = -5 }, "dua", "points", "LessonProblemPoints"},
		{"no solution", func(st *lessons.Stage) { st.Steps[0].Solution = nil }, "satu", "solution", "LessonProblemNoSolution"},
		{"solution does not split", func(st *lessons.Stage) { st.Steps[0].Solution = []string{"sh -c 'oops"} }, "satu", "solution[0]", "LessonProblemSolutionSplit"},
		{"no commands", func(st *lessons.Stage) { st.Steps[0].Commands = nil }, "satu", "commands", "LessonProblemNoCommands"},
		{"no checks", func(st *lessons.Stage) { st.Steps[0].Checks = nil }, "satu", "checks", "LessonProblemNoChecks"},
		{"unknown check", func(st *lessons.Stage) { st.Steps[0].Checks[0].Check = "house-flying" }, "satu", "checks[0]", "LessonProblemUnknownCheck"},
		{"missing check parameter", func(st *lessons.Stage) { st.Steps[1].Checks[0].With = nil }, "dua", "checks[0]", "LessonProblemMissingParam"},
		{"blank check parameter", func(st *lessons.Stage) { st.Steps[1].Checks[0].With["name"] = " " }, "dua", "checks[0]", "LessonProblemMissingParam"},
		{"bad status", func(st *lessons.Stage) { st.Status = "draft" }, "", "status", "LessonProblemStatus"},
		{"id does not match number", func(st *lessons.Stage) { st.Number = 8 }, "", "id", "LessonProblemStageID"},
		{"file name does not match id", func(st *lessons.Stage) { st.File = "tahap-77.yaml" }, "", "", "LessonProblemFileName"},
		{"no steps", func(st *lessons.Stage) { st.Steps = nil }, "", "steps", "LessonProblemNoSteps"},
		{"question without answer check", func(st *lessons.Stage) { st.Steps[0].Question = question() }, "satu", "checks", "LessonProblemNoAnswerCheck"},
		{"answer check without question", func(st *lessons.Stage) {
			st.Steps[0].Checks = append(st.Steps[0].Checks, lessons.Check{Check: "answer", With: map[string]string{"name": "rumah-x"}})
		}, "satu", "question", "LessonProblemNoQuestion"},
		{"unknown answer format", func(st *lessons.Stage) {
			st.Steps[0].Checks = append(st.Steps[0].Checks, lessons.Check{Check: "answer", With: map[string]string{"name": "rumah-x"}})
			st.Steps[0].Question = question()
			st.Steps[0].Question.Format = "float"
		}, "satu", "question.format", "LessonProblemAnswerFormat"},
		{"question invalid text missing", func(st *lessons.Stage) {
			st.Steps[0].Checks = append(st.Steps[0].Checks, lessons.Check{Check: "answer", With: map[string]string{"name": "rumah-x"}})
			st.Steps[0].Question = question()
			st.Steps[0].Question.Invalid.EN = ""
		}, "satu", "question.invalid.en", "LessonProblemTextMissing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := validStage()
			tt.mutate(st)
			problems := lessons.Validate([]*lessons.Stage{st}, fakeChecks)
			if len(problems) != 1 {
				t.Fatalf("got %d problems, want 1: %v", len(problems), problems)
			}
			pr := problems[0]
			if pr.MsgID != tt.msgID {
				t.Errorf("MsgID = %s, want %s", pr.MsgID, tt.msgID)
			}
			if pr.Step != tt.step {
				t.Errorf("Step = %q, want %q", pr.Step, tt.step)
			}
			if pr.Field != tt.field {
				t.Errorf("Field = %q, want %q", pr.Field, tt.field)
			}
			for _, lang := range locales.Langs {
				if text := pr.Render(locales.For(lang)); strings.Contains(text, pr.MsgID) {
					t.Errorf("%s rendering shows the bare message id: %s", lang, text)
				}
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	st := validStage()
	st.Steps[0].Points = 0
	st.Steps[0].Solution = nil
	st.Steps[1].Hints[0].EN = ""
	if n := len(lessons.Validate([]*lessons.Stage{st}, fakeChecks)); n != 3 {
		t.Errorf("got %d problems, want 3", n)
	}
}

func TestValidateOutlineNeedsOnlyTitles(t *testing.T) {
	st := validStage()
	st.Status = lessons.StatusOutline
	for _, step := range st.Steps {
		step.Text, step.Solution, step.Checks, step.Hints, step.Commands = lessons.Text{}, nil, nil, nil, nil
	}
	for _, pr := range lessons.Validate([]*lessons.Stage{st}, fakeChecks) {
		t.Errorf("unexpected problem: %s", pr)
	}

	st.Steps[0].Text.ID = "hanya bahasa Indonesia"
	problems := lessons.Validate([]*lessons.Stage{st}, fakeChecks)
	if len(problems) != 1 || problems[0].Field != "text.en" {
		t.Errorf("text in one language only: problems = %v, want one for text.en", problems)
	}
}

func TestValidateAcrossStages(t *testing.T) {
	a, b := validStage(), validStage()
	problems := lessons.Validate([]*lessons.Stage{a, b}, fakeChecks)
	var ids []string
	for _, pr := range problems {
		ids = append(ids, pr.MsgID)
	}
	got := strings.Join(ids, ",")
	if got != "LessonProblemDuplicateStage,LessonProblemSharedContainer" {
		t.Errorf("problems = %s, want a duplicate stage and a shared house", got)
	}
}
