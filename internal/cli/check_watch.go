package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/rt-lab/rt-lab/checker"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/lessons/tutor"
	"github.com/rt-lab/rt-lab/locales"
	"github.com/rt-lab/rt-lab/runtime"
)

// Terminal control sequences (ECMA-48 and the xterm alternate screen) that the
// watch mode uses to redraw in place.
const (
	seqEnterScreen = "\x1b[?1049h\x1b[?25l" // alternate screen, cursor hidden
	seqLeaveScreen = "\x1b[?25h\x1b[?1049l" // cursor shown, normal screen back
	seqHome        = "\x1b[H"               // cursor to the top left corner
	seqClearLine   = "\x1b[K"               // erase to the end of the line
	seqClearBelow  = "\x1b[J"               // erase to the end of the screen
)

// watchInterval is how often --watch checks the current step again.
const watchInterval = time.Second

// runWatch checks the student's current step once a second and redraws it in
// place on the terminal, until every step of the watched stages passes or the
// student presses Ctrl-C. It polls rather than waiting for kernel events, so it
// works the same in any VM. The caller has checked that stdout is a terminal.
func (a *App) runWatch(r *runtime.Runtime, stages []*lessons.Stage, named bool) error {
	prog, err := tutor.LoadProgress(r.Root())
	if err != nil {
		return err
	}
	watched := watchedStages(stages, prog, named)

	env := &checker.Env{Runtime: r, P: a.P}
	grade := func(st *lessons.Stage, i int) checker.StepResult {
		// A question's answer may be typed in the lesson while we watch, so the
		// answers are read again before every check.
		env.Answers = nil
		if prog, err := tutor.LoadProgress(r.Root()); err == nil {
			env.Answers = prog.Answers(st.ID)
		}
		return checker.GradeStep(env, st.Steps[i])
	}
	out := a.Stdout.(*os.File) // checkUsage has checked that it is a terminal
	w := &watcher{
		p:      a.P,
		c:      newColors(a.Env("NO_COLOR") == ""),
		grade:  grade,
		now:    time.Now,
		out:    out,
		stages: watched,
		size: func() (int, int) {
			width, height, err := term.GetSize(int(out.Fd()))
			if err != nil {
				return 80, 24
			}
			return width, height
		},
	}
	start := -1
	if !named {
		start = prog.ResumeIndex(watched[0])
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ticker := time.NewTicker(watchInterval)
	defer ticker.Stop()

	io.WriteString(out, seqEnterScreen)
	w.run(ctx, start, ticker.C)
	io.WriteString(out, seqLeaveScreen)
	w.printLast()
	return nil
}

// watchedStages returns the ready stages to watch: the one named on the command
// line, else the student's current stage and the ready stages after it.
func watchedStages(stages []*lessons.Stage, prog *tutor.Progress, named bool) []*lessons.Stage {
	var ready []*lessons.Stage
	for _, st := range stages {
		if st.Ready() {
			ready = append(ready, st)
		}
	}
	if named {
		return ready
	}
	current := tutor.CurrentStage(stages, prog)
	for i, st := range ready {
		if st.Number >= current.Number {
			return ready[i:]
		}
	}
	return ready
}

// watcher is the state of `rt-lab check --watch`: which step it checks, the last
// result of every step it graded, and what it drew last.
type watcher struct {
	p     *locales.Printer
	c     colors
	grade func(stage *lessons.Stage, step int) checker.StepResult
	out   io.Writer
	size  func() (width, height int)
	now   func() time.Time // time of the first check; later checks take the tick's time

	stages  []*lessons.Stage
	stage   int // index in stages
	step    int // index in stages[stage].Steps
	results map[*lessons.Step]checker.StepResult
	moveOn  bool // the current step passed at the last tick
	done    bool // every step of every watched stage passed
	checks  int
	checked time.Time
	stopped bool // the watch has ended, so the footer no longer promises a next check
}

// run grades the stage that start points into and redraws once per tick until
// every watched step passes or ctx ends. start is the step to begin with, or -1
// for the first step that fails.
func (w *watcher) run(ctx context.Context, start int, ticks <-chan time.Time) {
	w.enterStage(0, start)
	if w.tick(w.now()) {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-ticks:
			if w.tick(now) {
				return
			}
		}
	}
}

// enterStage grades every step of stages[i] once, so the step list shows what
// already passes, and makes start the current step. When start is -1 the first
// failing step is current, and a stage whose steps all pass is left for the next.
func (w *watcher) enterStage(i, start int) {
	if w.results == nil {
		w.results = map[*lessons.Step]checker.StepResult{}
	}
	for ; i < len(w.stages); i, start = i+1, -1 {
		st := w.stages[i]
		first := -1
		for j, step := range st.Steps {
			res := w.grade(st, j)
			w.results[step] = res
			if !res.Passed && first < 0 {
				first = j
			}
		}
		if start < 0 || start >= len(st.Steps) {
			start = first
		}
		if start >= 0 {
			w.stage, w.step = i, start
			return
		}
	}
	w.done = true
}

// tick moves past a step that passed at the previous tick, checks the current
// step and redraws. It reports whether every watched step has passed.
func (w *watcher) tick(now time.Time) bool {
	if w.moveOn {
		w.moveOn = false
		w.step++
		if w.step >= len(w.stages[w.stage].Steps) {
			w.enterStage(w.stage+1, -1)
		}
	}
	if !w.done {
		st := w.stages[w.stage]
		res := w.grade(st, w.step)
		w.results[st.Steps[w.step]] = res
		w.moveOn = res.Passed
		w.checks++
		w.checked = now
	}
	w.draw()
	return w.done
}

// draw writes the frame over the previous one: from the top left corner, each
// line cut to the terminal width and cleared to its end, then the rest of the
// screen cleared. Lines past the terminal height are dropped, except the footer.
func (w *watcher) draw() {
	lines := w.frame()
	width, height := w.size()
	if height > 1 && len(lines) > height-1 {
		lines = append(lines[:height-2], lines[len(lines)-1])
	}
	var b strings.Builder
	b.WriteString(seqHome)
	for _, line := range lines {
		b.WriteString(fitWidth(line, width))
		b.WriteString(seqClearLine + "\n")
	}
	b.WriteString(seqClearBelow)
	io.WriteString(w.out, b.String())
}

// printLast writes the last frame again for the normal screen, after the
// alternate screen is gone, with the footer of a stopped watch.
func (w *watcher) printLast() {
	w.stopped = true
	for _, line := range w.frame() {
		fmt.Fprintln(w.out, line)
	}
}

// frame returns the lines of the current state: the stage's steps with their
// marks, the current step with its evidence, and a footer.
func (w *watcher) frame() []string {
	p, c := w.p, w.c
	st := w.stages[w.stage]
	lines := []string{c.bold(p.Tf("WatchTitle", "Number", st.Number, "Title", st.Title.In(p.Lang), "ID", st.ID)), ""}
	for i, step := range st.Steps {
		res, graded := w.results[step]
		mark := c.dim("·")
		switch {
		case graded && res.Passed:
			mark = c.green("✓")
		case i == w.step && !w.done:
			mark = c.red("✗")
		}
		pointer := "  "
		if i == w.step && !w.done {
			pointer = c.cyan("➜ ")
		}
		lines = append(lines, fmt.Sprintf("%s%s %d. %s  %s", pointer, mark, i+1, step.Title.In(p.Lang),
			c.dim(fmt.Sprintf("[%d/%d]", res.Points, step.Points))))
	}
	lines = append(lines, "")

	if w.done {
		score, max := w.score()
		lines = append(lines, c.green(c.bold(p.Tf("WatchAllPassed", "Score", score, "Max", max))))
		return append(lines, "", c.dim(p.T("WatchDoneFooter", nil)))
	}
	step := st.Steps[w.step]
	res := w.results[step]
	if res.Passed {
		lines = append(lines, c.green(c.bold(p.Tf("WatchStepPassed", "Number", w.step+1, "Title", res.Title,
			"Points", res.Points))))
	} else {
		lines = append(lines, c.bold(p.Tf("WatchStepFailing", "Number", w.step+1, "Title", res.Title)))
		lines = append(lines, w.details(res)...)
	}
	footer := "WatchFooter"
	if w.stopped {
		footer = "WatchStopped"
	}
	return append(lines, "", c.dim(p.Tf(footer, "Time", w.checked.Format("15:04:05"), "Count", w.checks)))
}

// details returns the evidence, what the step needs and the hint of a failed
// step, indented under it and wrapped to the terminal width.
func (w *watcher) details(res checker.StepResult) []string {
	p, c := w.p, w.c
	width, _ := w.size()
	const indent = "    "
	var lines []string
	add := func(label, text string, style func(string) string) {
		for i, line := range wrapWords(label+text, width-len(indent)-3) {
			if i > 0 {
				lines = append(lines, indent+"  "+line) // continuation lines hang under the text
				continue
			}
			lines = append(lines, indent+style(label)+strings.TrimPrefix(line, label))
		}
	}
	for _, line := range res.Evidence {
		add("· ", line, c.dim)
	}
	if res.Expected != "" {
		add(p.T("CheckReportExpected", nil)+" ", res.Expected, c.bold)
	}
	if res.Hint != "" {
		add(p.T("CheckReportHint", nil)+" ", res.Hint, c.yellow)
	}
	return lines
}

// wrapWords joins the words of text into lines of at most width characters. A
// word longer than width gets a line of its own, which draw then cuts.
func wrapWords(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// score returns the points of the passed steps of the watched stages and their
// maximum.
func (w *watcher) score() (score, max int) {
	for _, st := range w.stages {
		for _, step := range st.Steps {
			max += step.Points
			if res, ok := w.results[step]; ok && res.Passed {
				score += res.Points
			}
		}
	}
	return score, max
}

// fitWidth cuts line to fewer than width visible characters, ending it with …
// when cut. ANSI escape sequences take no width and are kept whole, and a reset
// follows a cut so that no colour leaks into the next line.
func fitWidth(line string, width int) string {
	if width < 2 {
		return line
	}
	var b strings.Builder
	visible := 0
	for i := 0; i < len(line); {
		if line[i] == 0x1b {
			end := strings.IndexFunc(line[i+1:], func(r rune) bool { return r >= '@' && r <= '~' && r != '[' })
			if end < 0 {
				break
			}
			b.WriteString(line[i : i+end+2])
			i += end + 2
			continue
		}
		r, size := utf8.DecodeRuneInString(line[i:])
		if visible == width-2 && i+size < len(line) && hasVisible(line[i+size:]) {
			b.WriteString("…\x1b[0m")
			return b.String()
		}
		b.WriteRune(r)
		visible++
		i += size
	}
	return b.String()
}

// hasVisible reports whether s has a character outside ANSI escape sequences.
func hasVisible(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != 0x1b {
			return true
		}
		end := strings.IndexFunc(s[i+1:], func(r rune) bool { return r >= '@' && r <= '~' && r != '[' })
		if end < 0 {
			return false
		}
		i += end + 1
	}
	return false
}
