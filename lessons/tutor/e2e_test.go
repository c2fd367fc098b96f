package tutor

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/locales"
	"github.com/rt-lab/rt-lab/runtime"
)

// End-to-end tests: they build rt-lab, run lessons against the real runtime and
// kernel, and grade with `rt-lab check`. They need root.

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("RT_LAB_REQUIRE_ROOT") == "1" {
		t.Fatal("this test needs root, and RT_LAB_REQUIRE_ROOT=1 forbids skipping it")
	}
	t.Skip("needs root: it builds real containers")
}

// buildRTLab builds the rt-lab command into a temporary folder. go test puts
// GOROOT/bin first in PATH, so "go" is the toolchain running the test.
func buildRTLab(t *testing.T) string {
	t.Helper()
	return testutil.BuildRTLab(t, false)
}

// cliEnv is the test's environment without the variables that would point
// rt-lab at another root folder or language.
func cliEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "RT_LAB_ROOT", "RT_LAB_LANG", "NO_COLOR":
			continue
		}
		env = append(env, kv)
	}
	return env
}

type cli struct {
	t    *testing.T
	bin  string
	root string
	lang string
}

// run runs rt-lab with the test's root and language and returns stdout,
// stderr and the exit status.
func (c cli) run(args ...string) (string, string, int) {
	c.t.Helper()
	full := append([]string{"--root", c.root, "--lang", c.lang}, args...)
	cmd := exec.Command(c.bin, full...)
	cmd.Env = cliEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return stdout.String(), stderr.String(), 0
	case errors.As(err, &exit):
		return stdout.String(), stderr.String(), exit.ExitCode()
	}
	c.t.Fatalf("run rt-lab %q: %v", args, err)
	return "", "", -1
}

// resetOnCleanup resets the lessons when the test ends, pass or fail, and then
// demolishes any house that no lesson owns, such as one a test built by hand.
func (c cli) resetOnCleanup() {
	c.t.Cleanup(func() {
		if _, stderr, code := c.run("reset", "--yes"); code != 0 {
			c.t.Errorf("rt-lab reset --yes: exit %d\n%s", code, stderr)
		}
		entries, _ := os.ReadDir(filepath.Join(c.root, "containers"))
		for _, e := range entries {
			if _, stderr, code := c.run("delete-container", e.Name(), "--force", "--yes"); code != 0 {
				c.t.Errorf("rt-lab delete-container %s --force: exit %d\n%s", e.Name(), code, stderr)
			}
		}
	})
}

type checkJSON struct {
	Passed bool `json:"passed"`
	Score  int  `json:"score"`
	Max    int  `json:"max"`
}

// removeBridgeOnCleanup removes the root's bridge when the test ends, after
// the reset that resetOnCleanup registers later (cleanups run last first), so
// a bridge that outlives its houses is not left behind by a failed test.
func (c cli) removeBridgeOnCleanup() {
	c.t.Cleanup(func() { c.run("network", "remove-bridge", "--force") })
}

// newStageCLI returns a cli on a fresh root under t.TempDir(). When the test
// ends, pass or fail, the reset deletes the root's houses and then the root's
// bridge is removed (cleanups run last first).
func newStageCLI(t *testing.T, bin, lang string) cli {
	c := cli{t: t, bin: bin, root: t.TempDir(), lang: lang}
	c.removeBridgeOnCleanup()
	c.resetOnCleanup()
	return c
}

// newRunner returns a lesson runner in English on c's root, closed when the
// test ends.
func (c cli) newRunner() *Runner {
	runner := &Runner{Exe: c.bin, Root: c.root, Lang: locales.EN, BaseEnv: cliEnv()}
	c.t.Cleanup(func() { runner.Close() })
	return runner
}

// runtime returns the runtime of c's root, for tests that grade steps in
// process or read the houses' records.
func (c cli) runtime() *runtime.Runtime {
	c.t.Helper()
	r, err := runtime.New(runtime.Options{Root: c.root})
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

// startOnPTY starts rt-lab with the test's root and language on a 40x120
// pseudo-terminal, with env added to the test's environment, and returns the
// command and a console on the terminal. When the test ends, the terminal is
// closed, and rt-lab is killed unless the test has waited for it.
func (c cli) startOnPTY(env []string, args ...string) (*exec.Cmd, *console) {
	c.t.Helper()
	full := append([]string{"--root", c.root, "--lang", c.lang}, args...)
	cmd := exec.Command(c.bin, full...)
	cmd.Env = append(cliEnv(), env...)
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() {
		ptmx.Close()
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, newConsole(c.t, ptmx)
}

// mustRun runs rt-lab, stops the test unless it exits 0, and returns stdout.
func (c cli) mustRun(args ...string) string {
	c.t.Helper()
	stdout, stderr, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("rt-lab %q: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
	}
	return stdout
}

// testStartAutoFullMarks runs stage stageID with `rt-lab start --auto` in
// Indonesian and in English, each on a fresh root: every step must pass, and
// `rt-lab check` must then give full marks. A non-nil then runs afterwards on
// the same root, before the cleanups.
func testStartAutoFullMarks(t *testing.T, bin, stageID string, then func(c cli, stage *lessons.Stage)) {
	t.Helper()
	stage, err := lessons.Find(stageID)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"id", "en"} {
		t.Run(lang, func(t *testing.T) {
			c := newStageCLI(t, bin, lang)
			c.startAutoFullMarks(stage)
			if then != nil {
				then(c, stage)
			}
		})
	}
}

// startAutoFullMarks runs `rt-lab start STAGE --auto`, which must pass every
// step, and then `rt-lab check STAGE --format json`, which must give full
// marks.
func (c cli) startAutoFullMarks(stage *lessons.Stage) {
	c.t.Helper()
	stdout := c.mustRun("start", stage.ID, "--auto")
	if n := strings.Count(stdout, markPass); n != len(stage.Steps) {
		c.t.Errorf("start %s --auto passed %d steps, want %d:\n%s", stage.ID, n, len(stage.Steps), stdout)
	}

	stdout, stderr, code := c.run("check", stage.ID, "--format", "json")
	if code != 0 {
		c.t.Errorf("check %s: exit %d\nstdout:\n%s\nstderr:\n%s", stage.ID, code, stdout, stderr)
	}
	var report checkJSON
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		c.t.Fatalf("check output is not JSON: %v\n%s", err, stdout)
	}
	want := stage.MaxPoints()
	if report.Score != want || report.Max != want || !report.Passed {
		c.t.Errorf("check %s: score %d/%d, passed %v; want %d/%d, passed",
			stage.ID, report.Score, report.Max, report.Passed, want, want)
	}
}

// stepsJSON is the part of `rt-lab check --format json` that lists each step.
type stepsJSON struct {
	Stages []struct {
		ID    string `json:"id"`
		Steps []struct {
			ID     string `json:"id"`
			Passed bool   `json:"passed"`
		} `json:"steps"`
	} `json:"stages"`
}

// checkSteps runs `rt-lab check STAGE --format json` and returns whether each
// step passed, by step id.
func (c cli) checkSteps(stage string) map[string]bool {
	c.t.Helper()
	stdout, stderr, code := c.run("check", stage, "--format", "json")
	if code != 0 && code != 1 {
		c.t.Fatalf("check %s: exit %d\nstdout:\n%s\nstderr:\n%s", stage, code, stdout, stderr)
	}
	var report stepsJSON
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		c.t.Fatalf("check output is not JSON: %v\n%s", err, stdout)
	}
	passed := map[string]bool{}
	for _, st := range report.Stages {
		for _, step := range st.Steps {
			passed[step.ID] = step.Passed
		}
	}
	return passed
}

// buildStaticRTLab builds rt-lab without cgo. The house tools (eat-memory,
// burn-cpu) run the rt-lab binary inside the house, which has no C library, so
// a dynamically linked binary fails there with "not found".
func buildStaticRTLab(t *testing.T) string {
	t.Helper()
	t.Setenv("CGO_ENABLED", "0")
	return buildRTLab(t)
}

// answerCase is an answer to a question step and whether the step must pass
// with it.
type answerCase struct {
	answer string
	want   bool
}

// checkAnswers saves each answer to question step stepID of stage stageID as
// the lesson saves it, and checks with `rt-lab check` that the step passes
// exactly when it should.
func (c cli) checkAnswers(stageID, stepID string, cases []answerCase) {
	c.t.Helper()
	for _, tc := range cases {
		if _, err := UpdateProgress(c.root, func(p *Progress) error {
			p.Stage(stageID).Step(stepID).Answer = tc.answer
			return nil
		}); err != nil {
			c.t.Fatal(err)
		}
		if passed := c.checkSteps(stageID); passed[stepID] != tc.want {
			c.t.Errorf("answer %q: %s passed = %v, want %v", tc.answer, stepID, passed[stepID], tc.want)
		}
	}
}

func TestStartAutoGivesFullMarks(t *testing.T) {
	requireRoot(t)
	testStartAutoFullMarks(t, buildRTLab(t), "tahap-1", func(c cli, stage *lessons.Stage) {
		p, err := LoadProgress(c.root)
		if err != nil {
			c.t.Fatal(err)
		}
		if points, max, done := p.Score(stage); points != 50 || max != 50 || done != 5 {
			c.t.Errorf("progress score %d/%d with %d steps done, want 50/50 with 5", points, max, done)
		}
	})
}

func TestStartWithoutTerminalNeedsAuto(t *testing.T) {
	requireRoot(t)
	c := cli{t: t, bin: buildRTLab(t), root: t.TempDir(), lang: "en"}
	_, stderr, code := c.run("start", "tahap-1")
	if code != 2 {
		t.Errorf("start without a terminal: exit %d, want 2", code)
	}
	if !strings.Contains(stderr, "--auto") {
		t.Errorf("the error does not mention --auto: %s", stderr)
	}
}

// TestOutlineStageNotReady checks the error for starting an outline stage. Every
// stage of the lessons is ready, so it uses a made-up outline.
func TestOutlineStageNotReady(t *testing.T) {
	stages, err := lessons.All()
	if err != nil {
		t.Fatal(err)
	}
	outline := &lessons.Stage{ID: "tahap-9", Number: 9, Status: lessons.StatusOutline,
		Title: lessons.Text{ID: "sembilan", EN: "nine"}}
	p := locales.For(locales.EN)
	err = NotReadyError(outline, append(stages, outline), p, "rt-lab")
	msg := usererr.Render(err, p)
	if !usererr.Is(err, "ErrStageNotReady") || !strings.Contains(msg, "tahap 9 (nine) is not ready yet") ||
		!strings.Contains(msg, "tahap-1, tahap-2, tahap-3, tahap-4, tahap-5") {
		t.Errorf("not-ready error = %q", msg)
	}
}

// TestStartInteractiveOnPTY plays a student at a terminal: it lets rt-lab run
// step 1, does step 2 in the lesson shell, fails and then runs step 3, and quits.
func TestStartInteractiveOnPTY(t *testing.T) {
	requireRoot(t)
	c := cli{t: t, bin: buildRTLab(t), root: t.TempDir(), lang: "en"}
	c.resetOnCleanup()

	cmd, con := c.startOnPTY([]string{"SHELL=/bin/sh", "TERM=xterm"}, "start", "tahap-1")
	const last = "Quit (your progress is saved)"

	con.expect("Build the first house")
	con.choose(last, actionRun)
	con.expect("Passed! +10 of 10 points")

	con.expect("The father is PID 1")
	con.choose(last, actionShell)
	const marker = "[rt-lab tahap-1 step 2/5]"
	con.expect(marker)
	con.send("rt-lab run-container rumah-jakarta -- cat /proc/1/comm" + keyEnter)
	con.expect(marker)
	con.send("exit" + keyEnter)
	con.expect("Back in the lesson")
	con.expect("Passed! +10 of 10 points")

	con.expect("A new family member")
	con.choose(last, actionCheck)
	con.expect("Not passed yet.")
	con.expect("Stuck?")
	con.choose(last, actionRun)
	con.expect("Passed! +10 of 10 points")

	con.expect("The house name plate")
	con.expect(last)
	con.waitRaw()
	con.send(keyCtrlC)
	con.expect("See you later!")
	if err := cmd.Wait(); err != nil {
		t.Errorf("rt-lab start: %v\n%s", err, con.output())
	}

	p, err := LoadProgress(c.root)
	if err != nil {
		t.Fatal(err)
	}
	wants := map[string]How{"bangun-rumah": HowSolution, "ayah-pid-1": HowChecked, "keluarga": HowSolution}
	for id, how := range wants {
		if sp := p.Lookup("tahap-1", id); !sp.Done || sp.How != how {
			t.Errorf("step %s = %+v, want done by %s", id, sp, how)
		}
	}
	if sp := p.Stages["tahap-1"]; sp == nil || sp.CurrentStep != "nama-rumah" {
		t.Errorf("current step = %+v, want nama-rumah", sp)
	}
}
