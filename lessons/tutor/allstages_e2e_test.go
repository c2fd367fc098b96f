package tutor

import (
	"encoding/json"
	"testing"

	"github.com/rt-lab/rt-lab/lessons"
)

// TestAllStagesInARow runs every ready stage with --auto, one after the other on
// one root as a student who finishes the course would, and then grades them all
// with one `rt-lab check`: the houses of every stage must still be right at the
// end, so full marks in both languages.
func TestAllStagesInARow(t *testing.T) {
	requireRoot(t)
	stages, err := lessons.All()
	if err != nil {
		t.Fatal(err)
	}
	c := newStageCLI(t, buildStaticRTLab(t), "en")
	ready := 0
	for _, stage := range stages {
		if !stage.Ready() {
			continue
		}
		ready++
		if out, stderr, code := c.run("start", stage.ID, "--auto"); code != 0 {
			t.Fatalf("start %s --auto: exit %d\n%s\n%s", stage.ID, code, out, stderr)
		}
	}
	if ready < 2 {
		t.Fatalf("%d ready stages; this test needs at least two", ready)
	}
	for _, lang := range []string{"id", "en"} {
		c.lang = lang
		out, stderr, code := c.run("check", "--format", "json")
		var report checkJSON
		if err := json.Unmarshal([]byte(out), &report); err != nil {
			t.Fatalf("%s: check --format json: %v\n%s\n%s", lang, err, out, stderr)
		}
		if code != 0 || !report.Passed || report.Score != report.Max || report.Max == 0 {
			t.Errorf("%s: check after all %d stages: exit %d, %d of %d points\n%s", lang, ready, code,
				report.Score, report.Max, out)
		}
	}
}
