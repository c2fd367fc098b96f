package tutor

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rt-lab/rt-lab/checker"
	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/locales"
)

// TestTahap2SolutionsPass runs every solution of tahap 2 against the real
// runtime and grades each step right after it: every step passes, the user
// step included, because every house has a user namespace of its own.
func TestTahap2SolutionsPass(t *testing.T) {
	requireRoot(t)
	c := newStageCLI(t, buildStaticRTLab(t), "en")
	stage, err := lessons.Find("tahap-2")
	if err != nil {
		t.Fatal(err)
	}
	runner := c.newRunner()
	env := &checker.Env{Runtime: c.runtime(), P: locales.For(locales.EN), Answers: map[string]string{}}

	for _, step := range stage.Steps {
		var out bytes.Buffer
		if err := runner.RunSolution(step.Solution, &out, &out); err != nil {
			t.Fatalf("step %s: solution failed: %v\n%s", step.ID, err, out.String())
		}
		env.Answers[step.ID] = solutionAnswer(t, env, step)
		if res := checker.GradeStep(env, step); !res.Passed {
			t.Errorf("step %s did not pass:\n%s\nexpected: %s", step.ID, strings.Join(res.Evidence, "\n"), res.Expected)
		}
		if step.Question != nil {
			// Neither the host's hostname nor root's host uid is 1.
			env.Answers[step.ID] = "1"
			if res := checker.GradeStep(env, step); res.Passed {
				t.Errorf("step %s passed with the wrong answer 1:\n%s", step.ID, strings.Join(res.Evidence, "\n"))
			}
		}
	}
}

// TestTahap2StartAutoGivesFullMarks runs `rt-lab start tahap-2 --auto`, which
// types the kernel's answers to the question steps, and `rt-lab check` must
// give full marks.
func TestTahap2StartAutoGivesFullMarks(t *testing.T) {
	requireRoot(t)
	testStartAutoFullMarks(t, buildStaticRTLab(t), "tahap-2", nil)
}

// solutionAnswer returns the kernel's answer to question step, as --auto
// types it, or "" for a step without a question.
func solutionAnswer(t *testing.T, env *checker.Env, step *lessons.Step) string {
	t.Helper()
	if step.Question == nil {
		return ""
	}
	answer, res, ok := checker.Answer(env, step)
	if !ok {
		t.Fatalf("step %s: no answer from the kernel:\n%s", step.ID, strings.Join(res.Evidence, "\n"))
	}
	return answer
}

// TestTahap2UserStepNeedsUserNS solves tahap 2 with houses that share the
// host's user namespace (RT_LAB_USERNS=false): the user checks fail and say
// why, and every other check passes.
func TestTahap2UserStepNeedsUserNS(t *testing.T) {
	requireRoot(t)
	t.Setenv("RT_LAB_USERNS", "false")
	c := newStageCLI(t, buildStaticRTLab(t), "en")
	stage, err := lessons.Find("tahap-2")
	if err != nil {
		t.Fatal(err)
	}
	runner := c.newRunner()
	env := &checker.Env{Runtime: c.runtime(), P: locales.For(locales.EN)}
	userChecks := map[string]bool{"user-mapped": true, "user-ranges-apart": true}
	for _, step := range stage.Steps {
		var out bytes.Buffer
		if err := runner.RunSolution(step.Solution, &out, &out); err != nil {
			t.Fatalf("step %s: solution failed: %v\n%s", step.ID, err, out.String())
		}
		for _, check := range step.Checks {
			if check.Check == lessons.AnswerCheck {
				check = lessons.Check{Check: check.Check, With: map[string]string{
					"name": check.With["name"], "value": check.With["value"], "answer": solutionAnswer(t, env, step)}}
			}
			got := checker.Run(env, check)
			evidence := strings.Join(got.Evidence, "\n")
			switch {
			case userChecks[check.Check] && (got.Passed || !strings.Contains(evidence, "shares the host's user namespace")):
				t.Errorf("step %s: %s %v: passed %v, want a failure naming the shared user namespace:\n%s",
					step.ID, check.Check, check.With, got.Passed, evidence)
			case !userChecks[check.Check] && !got.Passed:
				t.Errorf("step %s: %s %v failed:\n%s", step.ID, check.Check, check.With, evidence)
			}
		}
	}
}

// TestStagesWithoutUserNSGiveFullMarks runs `rt-lab start --auto` for the
// stages that need no user namespace with houses that share the host's
// (RT_LAB_USERNS=false), and `rt-lab check` must still give full marks.
func TestStagesWithoutUserNSGiveFullMarks(t *testing.T) {
	requireRoot(t)
	t.Setenv("RT_LAB_USERNS", "false")
	bin := buildStaticRTLab(t)
	for _, id := range []string{"tahap-1", "tahap-3", "tahap-4"} {
		t.Run(id, func(t *testing.T) {
			stage, err := lessons.Find(id)
			if err != nil {
				t.Fatal(err)
			}
			c := newStageCLI(t, bin, "en")
			c.startAutoFullMarks(stage)
			houses, err := c.runtime().List()
			if err != nil || len(houses) == 0 {
				t.Fatalf("list houses: %d, %v", len(houses), err)
			}
			for _, h := range houses {
				if h.UserNS {
					t.Errorf("house %s has a user namespace despite RT_LAB_USERNS=false", h.Name)
				}
			}
		})
	}
}

// TestTahap2CommandsRun runs the rt-lab commands each step shows the student.
// They must all work, except the one that shows the kernel refusing to change
// the hostname inside a house.
func TestTahap2CommandsRun(t *testing.T) {
	requireRoot(t)
	c := newStageCLI(t, buildStaticRTLab(t), "en")
	stage, err := lessons.Find("tahap-2")
	if err != nil {
		t.Fatal(err)
	}

	for _, step := range stage.Steps {
		for _, line := range step.Commands {
			args, err := lessons.SplitCommand(line)
			if err != nil {
				t.Fatal(err)
			}
			if args[0] != "rt-lab" {
				continue
			}
			stdout, stderr, code := c.run(args[1:]...)
			refused := strings.HasSuffix(line, "-- hostname bogor")
			switch {
			case refused && (code == 0 || !strings.Contains(stderr, "Operation not permitted")):
				t.Errorf("step %s: %q: exit %d, stderr %q; want the kernel to refuse", step.ID, line, code, stderr)
			case !refused && code != 0:
				t.Errorf("step %s: %q: exit %d\nstdout:\n%s\nstderr:\n%s", step.ID, line, code, stdout, stderr)
			}
		}
	}
}

// TestRunContainerOnPTY enters a house with a user namespace from a terminal:
// Ctrl-C stops the command in the foreground but not the shell or rt-lab, and
// the shell's exit status is rt-lab's.
func TestRunContainerOnPTY(t *testing.T) {
	requireRoot(t)
	c := newStageCLI(t, buildStaticRTLab(t), "en")
	if _, stderr, code := c.run("create-container", "rumah-tty"); code != 0 {
		t.Fatalf("create: exit %d: %s", code, stderr)
	}
	cmd, con := c.startOnPTY([]string{"TERM=dumb"}, "run-container", "rumah-tty")
	con.expect("[rumah-tty]")
	// A duration no other test uses, so pgrep finds this sleep only.
	sleep := fmt.Sprintf("sleep %d", 100000+os.Getpid())
	con.send("id -u; " + sleep + keyEnter)
	con.expect("0\r\n")
	// The shell runs sleep in the terminal's foreground; wait until it does.
	for try := 0; !strings.Contains(pgrepHouse(t, sleep), "sleep"); try++ {
		if try == 3000 {
			t.Fatalf("%s never started in the house:\n%s", sleep, con.output())
		}
		time.Sleep(10 * time.Millisecond)
	}
	con.send(keyCtrlC)
	// The shell is still there to answer.
	con.send("echo after-$((6*7))" + keyEnter)
	con.expect("after-42")
	con.send("exit 3" + keyEnter)
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Errorf("run-container: %v, want exit status 3\n%s", err, con.output())
	}
}

// pgrepHouse lists the host processes whose command line contains text.
func pgrepHouse(t *testing.T, text string) string {
	t.Helper()
	// /proc itself rather than pgrep -a, which busybox's pgrep (the only one in
	// the cgroup v2 VM) lacks.
	pids, err := procfs.PIDs()
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, pid := range pids {
		args, err := procfs.Cmdline(pid)
		if err == nil && strings.Contains(strings.Join(args, " "), text) {
			found = append(found, fmt.Sprintf("%d %s", pid, strings.Join(args, " ")))
		}
	}
	return strings.Join(found, "\n")
}
