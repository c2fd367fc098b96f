// Package tutor walks a student through one lesson stage. Interactively it shows
// each step and offers a menu: check my work, open a shell, a hint, the solution,
// run the solution, skip, quit. With --auto it runs every step's solution and
// checks. Either way it grades steps with the checker and saves the progress after
// every change.
package tutor

import (
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"github.com/AlecAivazis/survey/v2/terminal"

	"github.com/rt-lab/rt-lab/checker"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/locales"
)

// Grader grades one step against the kernel; checker.GradeStep in production.
type Grader func(step *lessons.Step) checker.StepResult

// Tutor runs one stage for one root folder.
type Tutor struct {
	Stage   *lessons.Stage
	Next    *lessons.Stage // the stage after Stage, or nil after the last
	Root    string
	P       *locales.Printer
	Grade   Grader
	Runner  *Runner
	Out     io.Writer
	Err     io.Writer
	Color   bool
	Command string // how the student runs rt-lab, such as "sudo rt-lab"
	// Answer returns the right answer to a question step from the kernel, for
	// --auto and "run it for me"; checker.Answer in production.
	Answer func(step *lessons.Step) (string, bool)

	style style
	now   func() time.Time
	// ask shows a menu and returns the chosen index; shell runs the lesson shell.
	// Tests replace both.
	ask   func(message string, options []string) (int, error)
	shell func(marker string) error
	// askText asks a question step's question and returns the typed answer.
	askText func(message string) (string, error)
}

// Menu entries, in the order shown.
const (
	actionCheck = iota
	actionShell
	actionHint
	actionSolution
	actionRun
	actionSkip
	actionQuit
)

func (t *Tutor) setup() {
	t.style = style{on: t.Color}
	if t.now == nil {
		t.now = time.Now
	}
	if t.Err == nil {
		t.Err = t.Out
	}
}

// Interactive runs the stage on the terminal (in, out), from the step where the
// student left off, until the stage ends or the student quits.
func (t *Tutor) Interactive(in, out *os.File) error {
	if t.Out == nil {
		t.Out = out
	}
	t.setup()
	if t.ask == nil {
		t.ask = func(msg string, options []string) (int, error) { return Select(t.P, in, out, msg, options) }
	}
	if t.shell == nil {
		t.shell = func(marker string) error { return t.Runner.RunShell(marker, in, out) }
	}
	if t.askText == nil {
		t.askText = func(msg string) (string, error) { return Input(t.P, in, out, msg) }
	}

	prog, err := UpdateProgress(t.Root, func(p *Progress) error {
		p.CurrentStage = t.Stage.ID
		return nil
	})
	if err != nil {
		return err
	}
	index := prog.ResumeIndex(t.Stage)
	t.printBanner()
	if index < 0 {
		t.printEnd(prog, true)
		return nil
	}
	if prog.Started(t.Stage.ID) {
		t.printResume(prog, index)
	} else {
		t.printIntro()
	}

	for ; index < len(t.Stage.Steps); index++ {
		step := t.Stage.Steps[index]
		if prog.Lookup(t.Stage.ID, step.ID).Done {
			continue
		}
		if _, err := UpdateProgress(t.Root, func(p *Progress) error {
			p.Stage(t.Stage.ID).CurrentStep = step.ID
			return nil
		}); err != nil {
			return err
		}
		more, err := t.runStep(index)
		if err != nil {
			return err
		}
		if !more {
			t.printQuit()
			return nil
		}
		if prog, err = LoadProgress(t.Root); err != nil {
			return err
		}
	}
	prog, err = t.endStage()
	if err != nil {
		return err
	}
	t.printEnd(prog, false)
	return nil
}

// runStep shows step index and serves the menu until the step passes, is skipped
// or the student quits. It returns false when the student quits.
func (t *Tutor) runStep(index int) (bool, error) {
	p := t.P
	step := t.Stage.Steps[index]
	t.printStep(index)
	for {
		shown, err := t.hintsShown(step)
		if err != nil {
			return false, err
		}
		choice, err := t.ask(p.T("TutorMenuPrompt", nil), t.menu(step, shown))
		if errors.Is(err, terminal.InterruptErr) || errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, err
		}

		var passed bool
		switch choice {
		case actionCheck:
			passed, err = t.check(index, HowChecked)
		case actionShell:
			passed, err = t.openShell(index)
		case actionHint:
			err = t.showHint(index)
		case actionSolution:
			t.printSolution(step)
		case actionRun:
			passed, err = t.runForMe(index)
		case actionSkip:
			return true, t.skip(index)
		case actionQuit:
			return false, nil
		}
		if err != nil || passed {
			return passed, err
		}
	}
}

func (t *Tutor) menu(step *lessons.Step, shown int) []string {
	p := t.P
	hint := p.Tf("TutorMenuHint", "Shown", shown, "Total", len(step.Hints))
	if shown >= len(step.Hints) {
		hint = p.T("TutorMenuHintAgain", nil)
	}
	return []string{
		actionCheck:    p.T("TutorMenuCheck", nil),
		actionShell:    p.T("TutorMenuShell", nil),
		actionHint:     hint,
		actionSolution: p.T("TutorMenuSolution", nil),
		actionRun:      p.T("TutorMenuRun", nil),
		actionSkip:     p.T("TutorMenuSkip", nil),
		actionQuit:     p.T("TutorMenuQuit", nil),
	}
}

func (t *Tutor) hintsShown(step *lessons.Step) (int, error) {
	prog, err := LoadProgress(t.Root)
	if err != nil {
		return 0, err
	}
	return prog.Lookup(t.Stage.ID, step.ID).HintsShown, nil
}

// check grades step index and, when it passes, records it as done by how and
// moves on.
func (t *Tutor) check(index int, how How) (bool, error) {
	step := t.Stage.Steps[index]
	if step.Question != nil && how == HowChecked {
		answered, err := t.askQuestion(step)
		if err != nil || !answered {
			return false, err
		}
	}
	res := t.Grade(step)
	shown, err := t.hintsShown(step)
	if err != nil {
		return false, err
	}
	t.printResult(step, res, shown < len(step.Hints))
	if !res.Passed {
		return false, nil
	}
	prog, err := UpdateProgress(t.Root, func(p *Progress) error {
		p.finish(t.Stage, index, how, res.Points, t.now())
		return nil
	})
	if err != nil {
		return false, err
	}
	points, max, _ := prog.Score(t.Stage)
	t.printf("  %s\n", t.style.dim(t.P.Tf("TutorSaved", "Number", t.Stage.Number, "Points", points, "Max", max)))
	return true, nil
}

// askQuestion asks step's question until the answer has the required form, and
// saves it. It returns false when the student leaves the question with Ctrl-C.
func (t *Tutor) askQuestion(step *lessons.Step) (bool, error) {
	q := step.Question
	for {
		answer, err := t.askText(q.Text.In(t.P.Lang))
		if errors.Is(err, terminal.InterruptErr) || errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if q.Accepts(answer) {
			return true, t.saveAnswer(step, strings.TrimSpace(answer))
		}
		t.printf("%s %s\n", t.style.red(markFail), q.Invalid.In(t.P.Lang))
	}
}

// fillAnswer saves the right answer to a question step, read from the kernel,
// as "run it for me" and --auto do. It does nothing for other steps.
func (t *Tutor) fillAnswer(step *lessons.Step) error {
	if step.Question == nil || t.Answer == nil {
		return nil
	}
	answer, ok := t.Answer(step)
	if !ok {
		return nil
	}
	t.printf("  %s\n", t.P.Tf("TutorAnswerFilled", "Question", step.Question.Text.In(t.P.Lang), "Answer", answer))
	return t.saveAnswer(step, answer)
}

func (t *Tutor) saveAnswer(step *lessons.Step, answer string) error {
	_, err := UpdateProgress(t.Root, func(p *Progress) error {
		p.Stage(t.Stage.ID).Step(step.ID).Answer = answer
		return nil
	})
	return err
}

// openShell runs a host shell for the step and checks the step when the student
// leaves it.
func (t *Tutor) openShell(index int) (bool, error) {
	p, s := t.P, t.style
	marker := p.Tf("TutorShellMarker", "Number", t.Stage.Number, "Step", index+1, "Steps", len(t.Stage.Steps))
	t.printf("\n%s\n", indent(p.T("TutorShellOpen", nil), "  "))
	if err := t.shell(marker); err != nil {
		t.printf("%s %s\n", s.red(markFail), p.Tf("TutorShellFailed", "Error", usererr.Render(err, p)))
		return false, nil
	}
	t.printf("\n%s\n", s.bold(p.T("TutorShellBack", nil)))
	passed, err := t.check(index, HowChecked)
	if err != nil || passed {
		return passed, err
	}
	step := t.Stage.Steps[index]
	t.printf("\n%s\n", s.cyan(p.Tf("TutorStepReminder", "Step", index+1, "Steps", len(t.Stage.Steps),
		"Title", step.Title.In(p.Lang))))
	t.printCommands(step)
	return false, nil
}

// showHint shows one more hint of step index and saves the count; once every
// hint was shown it shows them all again.
func (t *Tutor) showHint(index int) error {
	step := t.Stage.Steps[index]
	if len(step.Hints) == 0 {
		t.printf("\n%s\n", t.P.T("TutorNoHints", nil))
		return nil
	}
	before, err := t.hintsShown(step)
	if err != nil {
		return err
	}
	prog, err := UpdateProgress(t.Root, func(p *Progress) error {
		st := p.Stage(t.Stage.ID).Step(step.ID)
		if st.HintsShown < len(step.Hints) {
			st.HintsShown++
		}
		return nil
	})
	if err != nil {
		return err
	}
	shown := prog.Lookup(t.Stage.ID, step.ID).HintsShown
	if shown == before {
		for n := 1; n <= shown; n++ {
			t.printHint(step, n)
		}
		return nil
	}
	t.printHint(step, shown)
	return nil
}

// runForMe runs the step's solution with its output on the terminal, then
// checks the step. A solution command that fails is reported, and the checks
// still decide.
func (t *Tutor) runForMe(index int) (bool, error) {
	p, s := t.P, t.style
	step := t.Stage.Steps[index]
	t.printf("\n%s\n", s.bold(p.T("TutorRunning", nil)))
	if err := t.Runner.RunSolution(step.Solution, t.Out, t.Out); err != nil {
		t.printf("%s %s\n", s.yellow("!"), p.Tf("TutorRunFailed", "Error", err.Error()))
	}
	if err := t.fillAnswer(step); err != nil {
		return false, err
	}
	return t.check(index, HowSolution)
}

func (t *Tutor) skip(index int) error {
	_, err := UpdateProgress(t.Root, func(p *Progress) error {
		p.finish(t.Stage, index, HowSkipped, 0, t.now())
		return nil
	})
	if err != nil {
		return err
	}
	t.printf("\n%s %s\n", t.style.yellow(markSkipped), t.P.Tf("TutorSkipped", "Command", t.startCommand()))
	return nil
}

// endStage makes the next stage current when this one is complete and the next
// is ready, so a plain `rt-lab start` continues there.
func (t *Tutor) endStage() (*Progress, error) {
	return UpdateProgress(t.Root, func(p *Progress) error {
		if p.ResumeIndex(t.Stage) < 0 && t.Next != nil && t.Next.Ready() {
			p.CurrentStage = t.Next.ID
		}
		return nil
	})
}

func (t *Tutor) startCommand() string { return t.Command + " start " + t.Stage.ID }
