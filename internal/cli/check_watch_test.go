package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rt-lab/rt-lab/checker"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/locales"
)

// fakeGrader passes a step once it has been graded more than fails[step id]
// times, and counts the calls.
type fakeGrader struct {
	fails map[string]int
	calls map[string]int
}

func (g *fakeGrader) grade(st *lessons.Stage, i int) checker.StepResult {
	step := st.Steps[i]
	g.calls[step.ID]++
	res := checker.StepResult{ID: step.ID, Title: step.Title.EN, Max: step.Points, Evidence: []string{"looked at " + step.ID}}
	if g.calls[step.ID] > g.fails[step.ID] {
		res.Passed, res.Points = true, step.Points
		return res
	}
	res.Expected, res.Hint = "something for "+step.ID, "hint for "+step.ID
	return res
}

func fakeStage(number int, ids ...string) *lessons.Stage {
	st := &lessons.Stage{ID: "tahap-" + string(rune('0'+number)), Number: number, Status: lessons.StatusReady,
		Title: lessons.Text{ID: "Tahap", EN: "Stage"}}
	for _, id := range ids {
		st.Steps = append(st.Steps, &lessons.Step{ID: id, Points: 10, Title: lessons.Text{ID: "judul " + id, EN: "title " + id}})
	}
	return st
}

// newFakeWatcher returns a watcher that writes coloured frames to out, on an
// 80 by 40 terminal, with a clock that starts at 10:00:00.
func newFakeWatcher(g *fakeGrader, out *bytes.Buffer, stages ...*lessons.Stage) *watcher {
	return &watcher{
		p:      locales.For(locales.EN),
		c:      newColors(true),
		grade:  g.grade,
		out:    out,
		size:   func() (int, int) { return 80, 40 },
		now:    func() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) },
		stages: stages,
	}
}

// lastFrame returns the text after the last cursor-home sequence, without
// colour codes.
func lastFrame(out *bytes.Buffer) string {
	frames := strings.Split(out.String(), seqHome)
	return stripANSI(frames[len(frames)-1])
}

func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i++; i < len(s) && (s[i] < '@' || s[i] > '~' || s[i] == '['); i++ {
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestWatchTurnsGreenThenMovesOn(t *testing.T) {
	g := &fakeGrader{fails: map[string]int{"a": 0, "b": 2, "c": 1}, calls: map[string]int{}}
	var out bytes.Buffer
	w := newFakeWatcher(g, &out, fakeStage(1, "a", "b", "c"))
	clock := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	tick := func() bool {
		clock = clock.Add(time.Second)
		out.Reset()
		return w.tick(clock)
	}

	// Entering the stage grades every step once: a passes, b and c fail, so b
	// is the step to watch.
	w.enterStage(0, -1)
	if w.step != 1 {
		t.Fatalf("current step after entering = %d, want 1 (b)", w.step)
	}
	if tick() {
		t.Fatal("done after the first tick")
	}
	frame := lastFrame(&out)
	for _, want := range []string{"Stage 1: Stage (tahap-1)", "✓ 1. title a", "➜ ✗ 2. title b", "· 3. title c",
		"Step 2: title b (not passed yet)", "looked at b", "Needed: something for b", "Hint: hint for b",
		"Last check 10:00:01 (1 so far)"} {
		if !strings.Contains(frame, want) {
			t.Errorf("frame while b fails does not contain %q:\n%s", want, frame)
		}
	}

	// b passes at its third check: the frame turns green and still shows b.
	tick()
	if !strings.Contains(out.String(), "\x1b[32m\x1b[1m✓ Step 2 passed: title b (+10 points)") {
		t.Errorf("frame when b passes is not green:\n%q", out.String())
	}
	if w.step != 1 {
		t.Errorf("moved on in the same tick that b passed")
	}

	// The next tick moves on to c, which passes at its second check (the first
	// was on entering the stage).
	tick()
	frame = lastFrame(&out)
	if w.step != 2 || !strings.Contains(frame, "✓ 2. title b") || !strings.Contains(frame, "Step 3 passed") {
		t.Errorf("after b: step %d, frame:\n%s", w.step, frame)
	}
	if !tick() {
		t.Fatalf("not done after every step passed")
	}
	if frame := lastFrame(&out); !strings.Contains(frame, "Every step passed: 30/30 points.") {
		t.Errorf("final frame:\n%s", frame)
	}
	if g.calls["a"] != 1 {
		t.Errorf("a was graded %d times, want once: a passed step is not checked again", g.calls["a"])
	}
}

func TestWatchStartsAtSavedStep(t *testing.T) {
	g := &fakeGrader{fails: map[string]int{"a": 99, "b": 99}, calls: map[string]int{}}
	var out bytes.Buffer
	w := newFakeWatcher(g, &out, fakeStage(1, "a", "b"))
	w.enterStage(0, 1)
	if w.step != 1 {
		t.Errorf("current step = %d, want the saved step 1 even though step 0 fails", w.step)
	}
}

func TestWatchSkipsPassedStage(t *testing.T) {
	g := &fakeGrader{fails: map[string]int{"b": 5}, calls: map[string]int{}}
	var out bytes.Buffer
	w := newFakeWatcher(g, &out, fakeStage(1, "a"), fakeStage(2, "b"))
	w.enterStage(0, -1)
	if w.stage != 1 || w.step != 0 {
		t.Errorf("watching stage %d step %d, want stage 1 step 0: stage 0 already passes", w.stage, w.step)
	}
}

func TestWatchRunStopsOnCancel(t *testing.T) {
	g := &fakeGrader{fails: map[string]int{"a": 1 << 30}, calls: map[string]int{}}
	var out bytes.Buffer
	w := newFakeWatcher(g, &out, fakeStage(1, "a"))
	ticks := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		w.run(ctx, -1, ticks)
		close(done)
	}()
	for i := 0; i < 3; i++ {
		ticks <- time.Date(2026, 3, 2, 10, 0, i, 0, time.UTC)
	}
	cancel()
	<-done
	// One grade on entering, one at the start, one per tick.
	if g.calls["a"] != 5 {
		t.Errorf("a graded %d times, want 5", g.calls["a"])
	}
	if n := strings.Count(out.String(), seqHome); n != 4 {
		t.Errorf("%d frames drawn, want 4", n)
	}
}

func TestWatchFrameFitsTerminal(t *testing.T) {
	g := &fakeGrader{fails: map[string]int{"a": 99}, calls: map[string]int{}}
	var out bytes.Buffer
	st := fakeStage(1, "a")
	w := newFakeWatcher(g, &out, st)
	w.size = func() (int, int) { return 30, 8 }
	w.enterStage(0, -1)
	w.tick(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	lines := strings.Split(strings.TrimSuffix(lastFrame(&out), "\n"), "\n")
	if len(lines) > 7 {
		t.Errorf("%d lines on an 8-line terminal, want at most 7", len(lines))
	}
	for _, line := range lines {
		if n := len([]rune(line)); n > 29 {
			t.Errorf("line %q has %d characters on a 30-column terminal", line, n)
		}
	}
	if !strings.HasPrefix(lines[len(lines)-1], "Last check") {
		t.Errorf("last line %q is not the footer", lines[len(lines)-1])
	}
}

func TestFitWidth(t *testing.T) {
	tests := []struct {
		name, line string
		width      int
		want       string // without colour codes
	}{
		{"short", "abc", 10, "abc"},
		{"exact", "abcdefghi", 10, "abcdefghi"},
		{"cut", "abcdefghijkl", 10, "abcdefgh…"},
		{"colour not counted", "\x1b[32mabc\x1b[0m", 4, "abc"},
		{"wide runes", "✓✓✓✓✓✓", 5, "✓✓✓…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stripANSI(fitWidth(tt.line, tt.width)); got != tt.want {
				t.Errorf("fitWidth(%q, %d) = %q, want %q", tt.line, tt.width, got, tt.want)
			}
		})
	}
}
