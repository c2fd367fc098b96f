package tutor

import (
	"bytes"
	"testing"

	"github.com/rt-lab/rt-lab/lessons"
)

// TestTahap3FirstSolutionOverOtherLimits builds rumah-hemat with other limits
// first, as a student who tried something else did, and runs the first step's
// solution through the lesson runner: the step must pass, because the
// solution updates the house that is already there.
func TestTahap3FirstSolutionOverOtherLimits(t *testing.T) {
	requireRoot(t)
	c := newStageCLI(t, buildStaticRTLab(t), "en")
	if stdout, stderr, code := c.run("create-container", "rumah-hemat", "--ram", "32", "--cpu", "50"); code != 0 {
		t.Fatalf("create with other limits: exit %d\n%s%s", code, stdout, stderr)
	}
	stage, err := lessons.Find("tahap-3")
	if err != nil {
		t.Fatal(err)
	}
	runner := c.newRunner()
	var out bytes.Buffer
	if err := runner.RunSolution(stage.Steps[0].Solution, &out, &out); err != nil {
		t.Fatalf("solution of %s: %v\n%s", stage.Steps[0].ID, err, out.String())
	}
	if passed := c.checkSteps("tahap-3"); !passed[stage.Steps[0].ID] {
		t.Errorf("%s does not pass after its solution over a house with other limits:\n%s", stage.Steps[0].ID, out.String())
	}
}
