package tutor

import (
	"testing"
)

// End-to-end tests of tahap 3 (memory, CPU and pids limits). They build rt-lab,
// run the lesson against real cgroups, and grade with `rt-lab check`.

func TestTahap3StartAutoGivesFullMarks(t *testing.T) {
	requireRoot(t)
	testStartAutoFullMarks(t, buildStaticRTLab(t), "tahap-3", nil)
}

// TestTahap3NeedsTheExperiments builds the house with its quota but does none of
// the later steps, which must then fail. The question step passes only with the
// kernel's value.
func TestTahap3NeedsTheExperiments(t *testing.T) {
	requireRoot(t)
	c := newStageCLI(t, buildStaticRTLab(t), "en")
	c.mustRun("create-container", "rumah-hemat", "--ram", "64", "--cpu", "25", "--hostname", "hemat")
	c.mustRun("run-container", "rumah-hemat", "--", "true")

	passed := c.checkSteps("tahap-3")
	if !passed["bangun-rumah-hemat"] {
		t.Error("bangun-rumah-hemat did not pass for a running house with 64 MiB and 25%")
	}
	for _, id := range []string{"tagihan-listrik", "batas-penghuni", "listrik-diputus", "bagi-daya"} {
		if passed[id] {
			t.Errorf("%s passed before the student did anything", id)
		}
	}

	c.checkAnswers("tahap-3", "tagihan-listrik", []answerCase{
		{"65", false},
		{"67108864", false},
		{"64", true},
		{"064", true},
		{"64 MiB", true},
		{"64MiB", true},
		{"64 mib", true},
	})
}
