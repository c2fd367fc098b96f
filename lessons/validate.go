package lessons

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rt-lab/rt-lab/locales"
)

// Problem is one defect in a lesson file, located by stage, step and field.
type Problem struct {
	Stage string // stage id, or the file name when the id is missing
	Step  string // step id; empty for a problem of the stage itself
	Field string // the YAML key, such as "hints[1].en"
	MsgID string // message id in the lessons catalogs
	Data  map[string]any
}

// Render returns the problem in p's language: where it is, then what is wrong.
func (pr Problem) Render(p *locales.Printer) string {
	where := []string{pr.Stage}
	if pr.Step != "" {
		where = append(where, pr.Step)
	}
	if pr.Field != "" {
		where = append(where, pr.Field)
	}
	return strings.Join(where, " / ") + ": " + p.T(pr.MsgID, pr.Data)
}

// String returns the problem in English.
func (pr Problem) String() string { return pr.Render(locales.For(locales.EN)) }

// CheckParams returns the parameters check id requires and false for an unknown
// id. checker.Params has this signature; it is passed in so that this package does
// not import the checker.
type CheckParams func(id string) ([]string, bool)

// Validate returns every problem in stages, in file order. Every stage needs its
// title and intro in both languages and steps with unique ids, titles and points.
// A ready stage also needs, in every step, the text in both languages, at least one
// hint, commands, a solution that splits into arguments, and checks that
// knownCheck accepts with every required parameter.
func Validate(stages []*Stage, knownCheck CheckParams) []Problem {
	v := &validator{knownCheck: knownCheck, stageIDs: map[string]bool{}, owner: map[string]string{}}
	for _, st := range stages {
		v.stage(st)
	}
	return v.problems
}

type validator struct {
	knownCheck CheckParams
	problems   []Problem
	stageIDs   map[string]bool
	owner      map[string]string // container name -> stage id that lists it

	stageID string // the stage being checked
	stepID  string // the step being checked
}

func (v *validator) add(field, id string, kv ...any) {
	v.problems = append(v.problems, Problem{Stage: v.stageID, Step: v.stepID, Field: field, MsgID: id, Data: locales.Fields(kv...)})
}

// text reports each language of t that is empty.
func (v *validator) text(field string, t Text) {
	if strings.TrimSpace(t.ID) == "" {
		v.add(field+".id", "LessonProblemTextMissing", "Lang", "id")
	}
	if strings.TrimSpace(t.EN) == "" {
		v.add(field+".en", "LessonProblemTextMissing", "Lang", "en")
	}
}

// partialText reports a text given in one language only; both empty is fine.
func (v *validator) partialText(field string, t Text) {
	if strings.TrimSpace(t.ID) != "" || strings.TrimSpace(t.EN) != "" {
		v.text(field, t)
	}
}

func (v *validator) stage(st *Stage) {
	v.stageID, v.stepID = st.ID, ""
	if st.ID == "" {
		v.stageID = st.File
	}
	want := fmt.Sprintf("tahap-%d", st.Number)
	if st.Number < 1 || st.ID != want {
		v.add("id", "LessonProblemStageID", "ID", st.ID, "Number", st.Number)
	}
	if st.File != "" && st.ID != "" && st.File != st.ID+".yaml" {
		v.add("", "LessonProblemFileName", "File", st.File, "Want", st.ID+".yaml")
	}
	if v.stageIDs[st.ID] {
		v.add("id", "LessonProblemDuplicateStage", "ID", st.ID)
	}
	v.stageIDs[st.ID] = true
	if st.Status != StatusReady && st.Status != StatusOutline {
		v.add("status", "LessonProblemStatus", "Status", st.Status)
	}
	v.text("title", st.Title)
	v.text("intro", st.Intro)
	for _, name := range st.Containers {
		if other, ok := v.owner[name]; ok {
			v.add("containers", "LessonProblemSharedContainer", "Name", name, "Other", other)
			continue
		}
		v.owner[name] = v.stageID
	}
	if len(st.Steps) == 0 {
		v.add("steps", "LessonProblemNoSteps")
	}

	seen := map[string]bool{}
	for i, step := range st.Steps {
		v.stepID = step.ID
		if step.ID == "" {
			v.stepID = fmt.Sprintf("steps[%d]", i)
			v.add("id", "LessonProblemStepID")
		} else if seen[step.ID] {
			v.add("id", "LessonProblemDuplicateStep", "ID", step.ID)
		}
		seen[step.ID] = true
		v.stepFields(st, step)
	}
	v.stepID = ""
}

func (v *validator) stepFields(st *Stage, step *Step) {
	v.text("title", step.Title)
	if step.Points < 1 {
		v.add("points", "LessonProblemPoints", "Points", step.Points)
	}
	if !st.Ready() {
		v.partialText("text", step.Text)
		for i, h := range step.Hints {
			v.text(fmt.Sprintf("hints[%d]", i), h)
		}
		return
	}

	v.text("text", step.Text)
	if len(step.Hints) == 0 {
		v.add("hints", "LessonProblemNoHints")
	}
	for i, h := range step.Hints {
		v.text(fmt.Sprintf("hints[%d]", i), h)
	}
	if len(step.Commands) == 0 {
		v.add("commands", "LessonProblemNoCommands")
	}
	if len(step.Solution) == 0 {
		v.add("solution", "LessonProblemNoSolution")
	}
	for i, line := range step.Solution {
		if _, err := SplitCommand(line); err != nil {
			v.add(fmt.Sprintf("solution[%d]", i), "LessonProblemSolutionSplit", "Line", line, "Error", err.Error())
		}
	}
	if len(step.Checks) == 0 {
		v.add("checks", "LessonProblemNoChecks")
	}
	for i, c := range step.Checks {
		v.check(fmt.Sprintf("checks[%d]", i), c)
	}
	v.question(step)
}

// question checks a question step's texts and format, and that a question step
// and an "answer" check always come together.
func (v *validator) question(step *Step) {
	hasAnswerCheck := slices.ContainsFunc(step.Checks, func(c Check) bool { return c.Check == AnswerCheck })
	q := step.Question
	switch {
	case q == nil && hasAnswerCheck:
		v.add("question", "LessonProblemNoQuestion", "Check", AnswerCheck)
		return
	case q == nil:
		return
	case !hasAnswerCheck:
		v.add("checks", "LessonProblemNoAnswerCheck", "Check", AnswerCheck)
	}
	v.text("question.text", q.Text)
	v.text("question.invalid", q.Invalid)
	if !slices.Contains(AnswerFormats, q.Format) {
		v.add("question.format", "LessonProblemAnswerFormat", "Format", q.Format,
			"Choices", strings.Join(AnswerFormats, ", "))
	}
}

func (v *validator) check(field string, c Check) {
	params, ok := v.knownCheck(c.Check)
	if !ok {
		v.add(field, "LessonProblemUnknownCheck", "Check", c.Check)
		return
	}
	for _, name := range params {
		if strings.TrimSpace(c.With[name]) == "" {
			v.add(field, "LessonProblemMissingParam", "Check", c.Check, "Param", name)
		}
	}
}
