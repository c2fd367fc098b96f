package tutor

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/lessons"
)

// End-to-end tests of tahap 3 (memory, CPU and pids limits). They build rt-lab,
// run the lesson against real cgroups, and grade with `rt-lab check`.

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

func TestTahap3StartAutoGivesFullMarks(t *testing.T) {
	requireRoot(t)
	bin := buildStaticRTLab(t)
	stage, err := lessons.Find("tahap-3")
	if err != nil {
		t.Fatal(err)
	}
	steps := len(stage.Steps)
	for _, lang := range []string{"id", "en"} {
		t.Run(lang, func(t *testing.T) {
			c := cli{t: t, bin: bin, root: t.TempDir(), lang: lang}
			c.resetOnCleanup()

			stdout, stderr, code := c.run("start", "tahap-3", "--auto")
			if code != 0 {
				t.Fatalf("start --auto: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if n := strings.Count(stdout, markPass); n != steps {
				t.Errorf("start --auto passed %d steps, want %d:\n%s", n, steps, stdout)
			}

			stdout, stderr, code = c.run("check", "tahap-3", "--format", "json")
			if code != 0 {
				t.Errorf("check: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			var report checkJSON
			if err := json.Unmarshal([]byte(stdout), &report); err != nil {
				t.Fatalf("check output is not JSON: %v\n%s", err, stdout)
			}
			want := 10 * steps
			if report.Score != want || report.Max != want || !report.Passed {
				t.Errorf("check: score %d/%d, passed %v; want %d/%d, passed",
					report.Score, report.Max, report.Passed, want, want)
			}
		})
	}
}

// TestTahap3NeedsTheExperiments builds the house with its quota but does none of
// the later steps, which must then fail. The question step passes only with the
// kernel's value.
func TestTahap3NeedsTheExperiments(t *testing.T) {
	requireRoot(t)
	c := cli{t: t, bin: buildStaticRTLab(t), root: t.TempDir(), lang: "en"}
	c.resetOnCleanup()
	for _, args := range [][]string{
		{"create-container", "rumah-hemat", "--ram", "64", "--cpu", "25", "--hostname", "hemat"},
		{"run-container", "rumah-hemat", "--", "true"},
	} {
		if stdout, stderr, code := c.run(args...); code != 0 {
			t.Fatalf("rt-lab %q: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
		}
	}

	passed := c.checkSteps("tahap-3")
	if !passed["bangun-rumah-hemat"] {
		t.Error("bangun-rumah-hemat did not pass for a running house with 64 MiB and 25%")
	}
	for _, id := range []string{"tagihan-listrik", "batas-penghuni", "listrik-diputus", "bagi-daya"} {
		if passed[id] {
			t.Errorf("%s passed before the student did anything", id)
		}
	}

	for _, tc := range []struct {
		answer string
		want   bool
	}{
		{"65", false},
		{"64", true},
		{"064", true},
	} {
		if _, err := UpdateProgress(c.root, func(p *Progress) error {
			p.Stage("tahap-3").Step("tagihan-listrik").Answer = tc.answer
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if passed := c.checkSteps("tahap-3"); passed["tagihan-listrik"] != tc.want {
			t.Errorf("answer %q: tagihan-listrik passed = %v, want %v", tc.answer, passed["tagihan-listrik"], tc.want)
		}
	}
}
