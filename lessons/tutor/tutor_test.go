package tutor

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/AlecAivazis/survey/v2/terminal"

	"github.com/rt-lab/rt-lab/checker"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/locales"
)

// fakeGrader passes a step once pass[stepID] is true and counts its calls.
type fakeGrader struct {
	pass  map[string]bool
	calls map[string]int
}

func newFakeGrader() *fakeGrader {
	return &fakeGrader{pass: map[string]bool{}, calls: map[string]int{}}
}

func (g *fakeGrader) grade(step *lessons.Step) checker.StepResult {
	g.calls[step.ID]++
	res := checker.StepResult{ID: step.ID, Max: step.Points, Evidence: []string{"observed " + step.ID}}
	if g.pass[step.ID] {
		res.Passed, res.Points = true, step.Points
	} else {
		res.Expected = "expected " + step.ID
	}
	return res
}

// script answers menu prompts in order; after the last answer it interrupts,
// as Ctrl-C does. A func answer runs before the choice is returned.
type script struct {
	t       *testing.T
	answers []any // int choices or func() int
	asked   int
}

func (s *script) ask(message string, options []string) (int, error) {
	if len(options) != 7 {
		s.t.Errorf("menu has %d options, want 7", len(options))
	}
	if s.asked >= len(s.answers) {
		return 0, terminal.InterruptErr
	}
	a := s.answers[s.asked]
	s.asked++
	if f, ok := a.(func() int); ok {
		return f(), nil
	}
	return a.(int), nil
}

type fixture struct {
	tutor  *Tutor
	grader *fakeGrader
	out    *bytes.Buffer
	shells []string
}

func newFixture(t *testing.T, answers ...any) *fixture {
	t.Helper()
	f := &fixture{grader: newFakeGrader(), out: &bytes.Buffer{}}
	stage := threeSteps()
	for _, st := range stage.Steps {
		st.Title = lessons.Text{ID: "judul " + st.ID, EN: "title " + st.ID}
		st.Text = lessons.Text{ID: "teks", EN: "text"}
		st.Commands = []string{"rt-lab run-container rumah-x"}
		st.Solution = []string{"rt-lab solve " + st.ID}
	}
	stage.Intro = lessons.Text{ID: "pengantar", EN: "the intro"}
	runner := &Runner{Exe: "/bin/true", Root: t.TempDir(), Lang: locales.EN, BaseEnv: os.Environ()}
	t.Cleanup(func() { runner.Close() })
	sc := &script{t: t, answers: answers}
	f.tutor = &Tutor{
		Stage:   stage,
		Next:    &lessons.Stage{ID: "tahap-2", Number: 2, Status: lessons.StatusOutline, Title: lessons.Text{ID: "dua", EN: "two"}},
		Root:    runner.Root,
		P:       locales.For(locales.EN),
		Grade:   f.grader.grade,
		Runner:  runner,
		Out:     f.out,
		Command: "sudo rt-lab",
		now:     func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) },
		ask:     sc.ask,
		shell: func(marker string) error {
			f.shells = append(f.shells, marker)
			return nil
		},
	}
	return f
}

func (f *fixture) progress(t *testing.T) *Progress {
	t.Helper()
	p, err := LoadProgress(f.tutor.Root)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) run(t *testing.T) string {
	t.Helper()
	if err := f.tutor.Interactive(nil, nil); err != nil {
		t.Fatal(err)
	}
	return f.out.String()
}

func TestInteractiveFailHintThenPass(t *testing.T) {
	var f *fixture
	f = newFixture(t,
		actionCheck, actionHint, actionHint, actionHint,
		func() int { f.grader.pass["a"] = true; return actionCheck },
		actionQuit)
	out := f.run(t)

	for _, want := range []string{
		"the intro", "title a", "$ rt-lab run-container rumah-x",
		"Not passed yet.", "observed a", "expected a", "Show a hint",
		"Hint 1 of 2:", "Hint 2 of 2:", "Passed! +10 of 10 points",
		"title b", "See you later!",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "Hint 2 of 2:"); n != 2 {
		t.Errorf("hint 2 shown %d times, want 2 (once new, once in the repeat)", n)
	}

	p := f.progress(t)
	a := p.Lookup("tahap-1", "a")
	if !a.Done || a.How != HowChecked || a.Points != 10 || a.HintsShown != 2 {
		t.Errorf("step a = %+v, want done by checking, 10 points, 2 hints", a)
	}
	if p.CurrentStage != "tahap-1" || p.Stages["tahap-1"].CurrentStep != "b" {
		t.Errorf("current = %s/%s, want tahap-1/b", p.CurrentStage, p.Stages["tahap-1"].CurrentStep)
	}
}

func TestInteractiveRunForMe(t *testing.T) {
	var f *fixture
	f = newFixture(t, func() int { f.grader.pass["a"] = true; return actionRun })
	out := f.run(t)
	if !strings.Contains(out, "$ rt-lab solve a") {
		t.Errorf("output lacks the solution command:\n%s", out)
	}
	if a := f.progress(t).Lookup("tahap-1", "a"); !a.Done || a.How != HowSolution || a.Points != 10 {
		t.Errorf("step a = %+v, want done by the solution", a)
	}
}

func TestInteractiveShowSolution(t *testing.T) {
	f := newFixture(t, actionSolution)
	out := f.run(t)
	if !strings.Contains(out, "The solution:") || !strings.Contains(out, "rt-lab solve a") {
		t.Errorf("output lacks the solution:\n%s", out)
	}
	if f.grader.calls["a"] != 0 {
		t.Errorf("showing the solution graded the step %d times", f.grader.calls["a"])
	}
}

func TestInteractiveShellChecksOnExit(t *testing.T) {
	var f *fixture
	f = newFixture(t, actionShell, func() int { f.grader.pass["a"] = true; return actionShell })
	out := f.run(t)
	if len(f.shells) != 2 || f.shells[0] != "[rt-lab tahap-1 step 1/3]" {
		t.Errorf("shells = %q, want two with the step marker", f.shells)
	}
	if f.grader.calls["a"] != 2 {
		t.Errorf("step graded %d times, want once after each shell", f.grader.calls["a"])
	}
	if !strings.Contains(out, "Still on step 1 of 3") {
		t.Errorf("after a failed check the step is not recalled:\n%s", out)
	}
	if a := f.progress(t).Lookup("tahap-1", "a"); !a.Done || a.How != HowChecked {
		t.Errorf("step a = %+v, want done by checking", a)
	}
}

func TestInteractiveSkipToEnd(t *testing.T) {
	var f *fixture
	f = newFixture(t,
		actionSkip,
		func() int { f.grader.pass["b"] = true; return actionCheck },
		func() int { f.grader.pass["c"] = true; return actionRun })
	out := f.run(t)
	for _, want := range []string{
		"Step skipped", "End of tahap 1", "Score: 50/60 points, 2 of 3 steps done.",
		"Steps still to do: title a", "sudo rt-lab start tahap-1",
		"rt-lab ran the solution for 1 of these steps",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Next comes tahap 2") {
		t.Errorf("an incomplete stage points to the next one:\n%s", out)
	}
	p := f.progress(t)
	if a := p.Lookup("tahap-1", "a"); a.Done || a.How != HowSkipped {
		t.Errorf("step a = %+v, want skipped", a)
	}
	if got := p.ResumeIndex(f.tutor.Stage); got != 0 {
		t.Errorf("ResumeIndex = %d, want 0 (the skipped step)", got)
	}
}

func TestInteractiveResumeAndComplete(t *testing.T) {
	var f *fixture
	f = newFixture(t, actionSkip, actionQuit)
	f.run(t)

	f.out.Reset()
	f.tutor.ask = (&script{t: t, answers: []any{
		func() int { f.grader.pass["b"] = true; return actionCheck },
		func() int { f.grader.pass["c"] = true; return actionCheck },
		func() int { f.grader.pass["a"] = true; return actionCheck },
	}}).ask
	out := f.run(t)
	if !strings.Contains(out, "Continuing at step 2 of 3: title b") {
		t.Errorf("output lacks the resume line:\n%s", out)
	}
	if strings.Contains(out, "the intro") {
		t.Errorf("a resumed stage repeats the intro:\n%s", out)
	}
	// After the last step the walk ends; the skipped step waits for the next run.
	if !strings.Contains(out, "Steps still to do: title a") {
		t.Errorf("output lacks the skipped step:\n%s", out)
	}

	f.out.Reset()
	out = f.run(t)
	for _, want := range []string{"Tahap 1 complete!", "Score: 60/60 points, 3 of 3 steps done.", "Next comes tahap 2, two"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	f.out.Reset()
	out = f.run(t)
	if !strings.Contains(out, "Tahap 1 is already complete") {
		t.Errorf("a complete stage does not say so:\n%s", out)
	}
}

func TestInteractiveInterruptQuits(t *testing.T) {
	f := newFixture(t)
	out := f.run(t)
	if !strings.Contains(out, "See you later!") || !strings.Contains(out, "sudo rt-lab start tahap-1") {
		t.Errorf("Ctrl-C does not end with the quit message:\n%s", out)
	}
}

func TestInteractiveMovesToNextReadyStage(t *testing.T) {
	f := newFixture(t, actionRun, actionRun, actionRun)
	for _, id := range []string{"a", "b", "c"} {
		f.grader.pass[id] = true
	}
	f.tutor.Next.Status = lessons.StatusReady
	out := f.run(t)
	if !strings.Contains(out, "Next: tahap 2, two. Start it with: sudo rt-lab start tahap-2") {
		t.Errorf("output lacks the next stage:\n%s", out)
	}
	if p := f.progress(t); p.CurrentStage != "tahap-2" {
		t.Errorf("current stage = %q, want tahap-2", p.CurrentStage)
	}
}

func TestAuto(t *testing.T) {
	f := newFixture(t)
	f.grader.pass["a"], f.grader.pass["c"] = true, true
	var errOut bytes.Buffer
	f.tutor.Err = &errOut
	passed, err := f.tutor.Auto()
	if err != nil {
		t.Fatal(err)
	}
	if passed {
		t.Error("Auto passed with a failing step")
	}
	lines := strings.Split(strings.TrimSpace(f.out.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("got %d lines, want a header, 3 steps and the score:\n%s", len(lines), f.out.String())
	}
	wants := []string{"Tahap 1:", "✓ 1/3 title a  10/10", "✗ 2/3 title b  0/20  expected b", "✓ 3/3 title c  30/30", "Score: 40/60"}
	for i, want := range wants {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d = %q, want it to start with %q", i, lines[i], want)
		}
	}
	if !strings.Contains(errOut.String(), "$ rt-lab solve b") || !strings.Contains(errOut.String(), "observed b") {
		t.Errorf("stderr lacks the failing step's output and evidence:\n%s", errOut.String())
	}
	p := f.progress(t)
	if c := p.Lookup("tahap-1", "c"); !c.Done || c.How != HowSolution {
		t.Errorf("step c = %+v, want done by the solution", c)
	}
	if b := p.Lookup("tahap-1", "b"); b.Done {
		t.Errorf("failed step b is marked done")
	}

	// A second run does the failed step only.
	f.out.Reset()
	f.grader.pass["b"] = true
	f.grader.calls = map[string]int{}
	if passed, err = f.tutor.Auto(); err != nil || !passed {
		t.Fatalf("second Auto = %v, %v; want passed", passed, err)
	}
	if f.grader.calls["a"] != 0 || f.grader.calls["b"] != 1 {
		t.Errorf("second run graded %v, want only b", f.grader.calls)
	}
	if !strings.Contains(f.out.String(), "(done earlier)") {
		t.Errorf("done steps are not marked:\n%s", f.out.String())
	}
}

func TestIndentAndBullet(t *testing.T) {
	if got := indent("a\n\nb\n", "  "); got != "  a\n\n  b\n" {
		t.Errorf("indent = %q", got)
	}
	if got := indent("", "  "); got != "" {
		t.Errorf("indent of nothing = %q", got)
	}
	if got := bullet("one\ntwo", "  "); got != "  • one\n    two\n" {
		t.Errorf("bullet = %q", got)
	}
}
