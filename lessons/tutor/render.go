package tutor

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/rt-lab/rt-lab/checker"
	"github.com/rt-lab/rt-lab/lessons"
)

// style adds ANSI colours when the output is a terminal.
type style struct{ on bool }

func (s style) wrap(code, text string) string {
	if !s.on || text == "" {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

func (s style) bold(t string) string   { return s.wrap("1", t) }
func (s style) green(t string) string  { return s.wrap("32", t) }
func (s style) red(t string) string    { return s.wrap("31", t) }
func (s style) yellow(t string) string { return s.wrap("33", t) }
func (s style) cyan(t string) string   { return s.wrap("36", t) }
func (s style) dim(t string) string    { return s.wrap("2", t) }

// Marks used in lesson output.
const (
	markPass    = "✓"
	markFail    = "✗"
	markCurrent = "➜"
	markSkipped = "↷"
	markTodo    = "·"
)

// indent prefixes every non-empty line of text with prefix and ends it with a
// newline.
func indent(text, prefix string) string {
	text = strings.TrimRight(text, "\n")
	if text == "" {
		return ""
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) != "" {
			lines[i] = prefix + l
		} else {
			lines[i] = ""
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// bullet returns text as a list item: "• " before the first line, spaces before
// the others.
func bullet(text, prefix string) string {
	first, rest, _ := strings.Cut(strings.TrimRight(text, "\n"), "\n")
	out := prefix + "• " + first + "\n"
	if rest != "" {
		out += indent(rest, prefix+"  ")
	}
	return out
}

// rule returns title padded with a line to width runes.
func rule(title string, width int) string {
	n := width - utf8.RuneCountInString(title) - 4
	if n < 3 {
		n = 3
	}
	return "── " + title + " " + strings.Repeat("─", n)
}

// padRight pads s with spaces to width runes.
func padRight(s string, width int) string {
	if n := width - utf8.RuneCountInString(s); n > 0 {
		return s + strings.Repeat(" ", n)
	}
	return s
}

func (t *Tutor) printf(format string, a ...any) { fmt.Fprintf(t.Out, format, a...) }

// printStep shows a step: its place in the stage, title, text and commands.
func (t *Tutor) printStep(index int) {
	p, s := t.P, t.style
	step := t.Stage.Steps[index]
	t.printf("\n%s\n", s.cyan(rule(p.Tf("TutorStepRule", "Number", t.Stage.Number,
		"Step", index+1, "Steps", len(t.Stage.Steps)), 72)))
	t.printf("%s\n\n", s.bold(step.Title.In(p.Lang)))
	t.printf("%s", indent(step.Text.In(p.Lang), "  "))
	t.printCommands(step)
}

func (t *Tutor) printCommands(step *lessons.Step) {
	p, s := t.P, t.style
	if len(step.Commands) > 0 {
		t.printf("\n  %s\n", s.bold(p.T("TutorCommandsHost", nil)))
		for _, c := range step.Commands {
			t.printf("    %s %s\n", s.dim("$"), c)
		}
	}
	if len(step.Inside) > 0 {
		t.printf("  %s\n", s.bold(p.T("TutorCommandsInside", nil)))
		for _, c := range step.Inside {
			t.printf("    %s %s\n", s.dim("#"), c)
		}
	}
	t.printf("\n")
}

// printResult shows the outcome of grading a step: a tick with the points, or a
// cross with what the step still needs.
func (t *Tutor) printResult(step *lessons.Step, res checker.StepResult, hintsLeft bool) {
	p, s := t.P, t.style
	if res.Passed {
		t.printf("\n%s %s\n", s.green(markPass), s.green(p.Tf("TutorPassed", "Points", res.Points, "Max", res.Max)))
	} else {
		t.printf("\n%s %s\n", s.red(markFail), s.red(p.T("TutorFailed", nil)))
	}
	if len(res.Evidence) > 0 {
		t.printf("  %s\n", p.T("TutorEvidence", nil))
		for _, e := range res.Evidence {
			t.printf("%s", bullet(e, "    "))
		}
	}
	if res.Passed {
		return
	}
	if res.Expected != "" {
		t.printf("  %s\n", s.bold(p.T("TutorExpected", nil)))
		for _, line := range strings.Split(res.Expected, "\n") {
			t.printf("%s", bullet(line, "    "))
		}
	}
	if hintsLeft {
		t.printf("  %s\n", s.yellow(p.T("TutorSuggestHint", nil)))
	} else {
		t.printf("  %s\n", s.yellow(p.T("TutorSuggestSolution", nil)))
	}
}

// printHint shows hint number n (from 1) of step.
func (t *Tutor) printHint(step *lessons.Step, n int) {
	p, s := t.P, t.style
	t.printf("\n%s\n", s.yellow(p.Tf("TutorHint", "Number", n, "Total", len(step.Hints))))
	t.printf("%s", indent(step.Hints[n-1].In(p.Lang), "  "))
}

func (t *Tutor) printSolution(step *lessons.Step) {
	p, s := t.P, t.style
	t.printf("\n%s\n", s.bold(p.T("TutorSolution", nil)))
	for _, line := range step.Solution {
		t.printf("    %s %s\n", s.dim("$"), line)
	}
}

func (t *Tutor) printBanner() {
	title := t.P.Tf("TutorBanner", "Number", t.Stage.Number, "Title", t.Stage.Title.In(t.P.Lang))
	t.printf("\n%s\n", t.style.bold(t.style.cyan(strings.ReplaceAll(rule(title, 72), "─", "═"))))
}

func (t *Tutor) printIntro() {
	t.printf("\n%s\n", indent(t.Stage.Intro.In(t.P.Lang), "  "))
	t.printf("%s", indent(t.P.T("TutorHowTo", nil), "  "))
}

func (t *Tutor) printResume(prog *Progress, index int) {
	points, max, done := prog.Score(t.Stage)
	step := t.Stage.Steps[index]
	t.printf("\n%s\n", t.P.Tf("TutorResume", "Step", index+1, "Steps", len(t.Stage.Steps),
		"Title", step.Title.In(t.P.Lang), "Done", done, "Points", points, "Max", max))
}

func (t *Tutor) printQuit() {
	t.printf("\n%s\n", t.P.Tf("TutorQuit", "Path", ProgressPath(t.Root), "Command", t.startCommand()))
}

// printEnd shows the stage score and what to do next. already is true when the
// stage was complete before this run.
func (t *Tutor) printEnd(prog *Progress, already bool) {
	p, s := t.P, t.style
	points, max, done := prog.Score(t.Stage)
	complete := done == len(t.Stage.Steps)
	var head string
	switch {
	case already:
		head = p.Tf("TutorStageAlreadyDone", "Number", t.Stage.Number)
	case complete:
		head = p.Tf("TutorStageDone", "Number", t.Stage.Number)
	default:
		head = p.Tf("TutorStageEnd", "Number", t.Stage.Number)
	}
	t.printf("\n%s\n", s.bold(s.green(rule(head, 72))))
	t.printf("%s\n", p.Tf("TutorScore", "Points", points, "Max", max, "Done", done, "Steps", len(t.Stage.Steps)))

	var bySolution int
	var skipped []string
	for _, st := range t.Stage.Steps {
		sp := prog.Lookup(t.Stage.ID, st.ID)
		switch {
		case sp.Done && sp.How == HowSolution:
			bySolution++
		case !sp.Done:
			skipped = append(skipped, st.Title.In(p.Lang))
		}
	}
	if bySolution > 0 {
		t.printf("%s\n", p.Tf("TutorBySolution", "Count", bySolution, "Command", t.Command, "Stage", t.Stage.ID))
	}
	if len(skipped) > 0 {
		t.printf("%s\n", p.Tf("TutorLeftSteps", "Steps", strings.Join(skipped, ", "), "Command", t.startCommand()))
	}
	t.printf("%s\n", p.Tf("TutorCheckAgain", "Command", t.Command, "Stage", t.Stage.ID))
	switch {
	case !complete:
	case t.Next == nil:
		t.printf("%s\n", p.T("TutorLastStage", nil))
	case t.Next.Ready():
		t.printf("%s\n", p.Tf("TutorNextStage", "Number", t.Next.Number, "Title", t.Next.Title.In(p.Lang),
			"Command", t.Command, "Stage", t.Next.ID))
	default:
		t.printf("%s\n", p.Tf("TutorNextOutline", "Number", t.Next.Number, "Title", t.Next.Title.In(p.Lang), "Command", t.Command))
	}
}
