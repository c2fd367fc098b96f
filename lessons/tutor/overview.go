package tutor

import (
	"fmt"
	"io"
	"strings"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/locales"
)

// CurrentStage returns the stage the student works on: the saved current stage,
// else the first ready stage.
func CurrentStage(stages []*lessons.Stage, prog *Progress) *lessons.Stage {
	for _, st := range stages {
		if st.ID == prog.CurrentStage {
			return st
		}
	}
	for _, st := range stages {
		if st.Ready() {
			return st
		}
	}
	return stages[0]
}

// NotReadyError is the error for starting or asking a hint in an outline stage.
// command is how the student runs rt-lab, such as "sudo rt-lab --root DIR".
func NotReadyError(stage *lessons.Stage, stages []*lessons.Stage, p *locales.Printer, command string) error {
	var ready []string
	for _, st := range stages {
		if st.Ready() {
			ready = append(ready, st.ID)
		}
	}
	return usererr.New(usererr.Usage, "ErrStageNotReady", "Number", stage.Number,
		"Title", stage.Title.In(p.Lang), "Ready", strings.Join(ready, ", "), "Command", command)
}

// WriteOverview lists every stage and its steps with progress marks: ✓ done,
// ➜ the step to do next, ↷ skipped, · not yet. command is how the student runs
// rt-lab, for the start command in the legend.
func WriteOverview(w io.Writer, p *locales.Printer, color bool, stages []*lessons.Stage, prog *Progress, command string) {
	s := style{on: color}
	current := CurrentStage(stages, prog)
	for _, st := range stages {
		points, max, done := prog.Score(st)
		head := p.Tf("TutorBanner", "Number", st.Number, "Title", st.Title.In(p.Lang))
		var status string
		switch {
		case !st.Ready():
			status = p.T("OverviewOutline", nil)
		case done == len(st.Steps):
			status = p.Tf("OverviewStageDone", "Points", points, "Max", max)
		default:
			status = p.Tf("OverviewStageScore", "Points", points, "Max", max, "Done", done, "Steps", len(st.Steps))
		}
		if st == current && st.Ready() {
			status += "  " + s.cyan(markCurrent+" "+p.T("OverviewCurrent", nil))
		}
		fmt.Fprintf(w, "%s  %s\n", s.bold(head), s.dim(status))

		next := -1
		if st.Ready() {
			next = prog.ResumeIndex(st)
		}
		for i, step := range st.Steps {
			sp := prog.Lookup(st.ID, step.ID)
			line := fmt.Sprintf("%d. %s", i+1, step.Title.In(p.Lang))
			mark, note := markTodo, ""
			switch {
			case sp.Done && sp.How == HowSolution:
				mark, note = s.green(markPass), p.Tf("OverviewBySolution", "Points", sp.Points, "Max", step.Points)
			case sp.Done:
				mark, note = s.green(markPass), fmt.Sprintf("%d/%d", sp.Points, step.Points)
			case i == next:
				mark, note = s.cyan(markCurrent), p.T("OverviewNext", nil)
			case sp.How == HowSkipped:
				mark, note = s.yellow(markSkipped), p.T("OverviewSkipped", nil)
			}
			if note == "" {
				fmt.Fprintf(w, "  %s %s\n", mark, line)
				continue
			}
			fmt.Fprintf(w, "  %s %s %s\n", mark, padRight(line, 52), s.dim(note))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, s.dim(p.Tf("OverviewLegend", "Command", command)))
}
