package checker

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/diag"
	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/runtime"
)

func runNamed(env *Env, check, name string) Result {
	return Run(env, lessons.Check{Check: check, With: map[string]string{"name": name}})
}

// TestRecoverChecksFollowEmergency walks a house through the emergency of
// tahap 5: running, father killed, recover-state, and a neighbour demolished.
func TestRecoverChecksFollowEmergency(t *testing.T) {
	env := newRuntimeEnv(t)
	r := env.Runtime
	house := createAndStart(t, r, "rumah-medan", "medan")
	if _, err := r.Create(runtime.CreateOptions{Name: "rumah-tua"}); err != nil {
		t.Fatal(err)
	}

	if res := runNamed(env, "house-recovered", "rumah-medan"); !res.Passed {
		t.Errorf("running, recorded house: not recovered:\n%s", strings.Join(res.Evidence, "\n"))
	}
	if res := runNamed(env, "house-recovered", "rumah-hilang"); res.Passed || res.Expected == "" {
		t.Errorf("house without a folder: %+v, want a failure with what is expected", res)
	}
	if res := runNamed(env, "house-gone", "rumah-tua"); res.Passed {
		t.Error("house-gone passed for a house that exists")
	}

	if err := syscall.Kill(house.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); procfs.Alive(house.PID, house.PIDStart); {
		if time.Now().After(deadline) {
			t.Fatalf("init %d still alive 10 s after SIGKILL", house.PID)
		}
		time.Sleep(10 * time.Millisecond)
	}
	res := runNamed(env, "house-recovered", "rumah-medan")
	if res.Passed {
		t.Fatal("house-recovered passed with a dead father still recorded")
	}
	evidence := strings.Join(res.Evidence, "\n")
	for _, want := range []string{"cgroup is still there", "still records host PID"} {
		if !strings.Contains(evidence, want) {
			t.Errorf("evidence lacks %q:\n%s", want, evidence)
		}
	}

	if _, err := (&diag.Inspector{Runtime: r}).Recover("", false); err != nil {
		t.Fatal(err)
	}
	if res := runNamed(env, "house-recovered", "rumah-medan"); !res.Passed {
		t.Errorf("after recover-state: not recovered:\n%s", strings.Join(res.Evidence, "\n"))
	}

	if err := r.Delete("rumah-tua", false); err != nil {
		t.Fatal(err)
	}
	if res := runNamed(env, "house-gone", "rumah-tua"); !res.Passed {
		t.Errorf("demolished house not gone:\n%s", strings.Join(res.Evidence, "\n"))
	}
}

func TestHouseRecoveredNeedsRecordedFather(t *testing.T) {
	env := newRuntimeEnv(t)
	createAndStart(t, env.Runtime, "rumah-binjai", "binjai")
	editState(t, env.Runtime, "rumah-binjai", 0, 0)

	res := runNamed(env, "house-recovered", "rumah-binjai")
	if res.Passed {
		t.Fatal("house-recovered passed while the record names no father")
	}
	if evidence := strings.Join(res.Evidence, "\n"); !strings.Contains(evidence, "does not record him") {
		t.Errorf("evidence does not name the unrecorded father:\n%s", evidence)
	}
}

func TestAnswerCgroupVersion(t *testing.T) {
	env := &Env{}
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		t.Skipf("no cgroup file system: %v", err)
	}
	want := "1"
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		want = "2"
	}
	step := &lessons.Step{ID: "versi", Points: 10, Checks: []lessons.Check{
		{Check: lessons.AnswerCheck, With: map[string]string{"name": "rumah-apa", "value": "cgroup-version"}}}}
	got, res, ok := Answer(env, step)
	if !ok || got != want {
		t.Fatalf("answer %q, ok %v, want %q: %v", got, ok, want, res.Evidence)
	}
	for answer, pass := range map[string]bool{want: true, "0" + want: true, "3": false} {
		env.Answers = map[string]string{"versi": answer}
		if r := GradeStep(env, step); r.Passed != pass {
			t.Errorf("answer %q: passed %v, want %v", answer, r.Passed, pass)
		}
	}
}
