package tutor

import (
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/procfs"
)

// End-to-end tests of tahap 5 (a house's life, the RT's inspections and the
// emergency repaired by recover-state). They build rt-lab, run the lesson on
// real houses and grade with `rt-lab check`.

func TestTahap5StartAutoGivesFullMarks(t *testing.T) {
	requireRoot(t)
	testStartAutoFullMarks(t, buildRTLab(t), "tahap-5", nil)
}

// TestTahap5EmergencyNeedsRecovery kills the father of rumah-medan by hand.
// Steps 1, 3 and 4 need the letter. The emergency step must fail until the
// father who saw the letter written is gone and recover-state has run. The
// demolition step must fail while rumah-tua still exists. The question steps
// pass only with the kernel's cgroup version and the letter's text.
func TestTahap5EmergencyNeedsRecovery(t *testing.T) {
	requireRoot(t)
	c := newStageCLI(t, buildRTLab(t), "en")
	c.mustRun("create-container", "rumah-medan", "--hostname", "medan")
	c.mustRun("create-container", "rumah-tua", "--hostname", "tua")
	c.mustRun("run-container", "rumah-medan", "--", "true")
	passed := c.checkSteps("tahap-5")
	if passed["bangun-dan-periksa"] || passed["ayah-meninggal"] || passed["hidup-lagi"] {
		t.Errorf("steps %v: without a letter, steps 1, 3 and 4 must fail", passed)
	}
	c.mustRun("run-container", "rumah-medan", "--", "sh", "-c", "echo 'Horas dari Medan' > /root/surat.txt")
	passed = c.checkSteps("tahap-5")
	if !passed["bangun-dan-periksa"] {
		t.Errorf("steps %v: a running rumah-medan with its letter passes step 1", passed)
	}
	if passed["ayah-meninggal"] || passed["hidup-lagi"] {
		t.Errorf("steps %v: while the father who saw the letter lives, steps 3 and 4 must fail", passed)
	}
	if passed["robohkan-rumah-tua"] {
		t.Error("robohkan-rumah-tua passed while rumah-tua still exists")
	}

	r := c.runtime()
	house, err := r.Get("rumah-medan")
	if err != nil {
		t.Fatal(err)
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
	if passed := c.checkSteps("tahap-5"); passed["ayah-meninggal"] || passed["hidup-lagi"] {
		t.Errorf("steps %v: with a dead father and his cgroup left, steps 3 and 4 must fail", passed)
	}

	c.mustRun("recover-state")
	passed = c.checkSteps("tahap-5")
	if !passed["ayah-meninggal"] {
		t.Errorf("steps %v: ayah-meninggal fails after recover-state", passed)
	}
	if passed["hidup-lagi"] {
		t.Error("hidup-lagi passed while rumah-medan is stopped")
	}
	if _, err := r.Get("rumah-tua"); err != nil {
		t.Errorf("recover-state harmed the healthy, never-started rumah-tua: %v", err)
	}

	c.checkAnswers("tahap-5", "inspeksi-kompleks", []answerCase{
		{"3", false},
		{cgroupVersionAnswer(t), true},
	})

	c.mustRun("run-container", "rumah-medan", "--", "cat", "/root/surat.txt")
	c.checkAnswers("tahap-5", "hidup-lagi", []answerCase{
		{"Horas dari Jakarta", false},
		{"horas  dari medan", true},
	})
}

// cgroupVersionAnswer returns the right answer to the cgroup question: "2"
// when /sys/fs/cgroup is a cgroup2 file system, else "1".
func cgroupVersionAnswer(t *testing.T) string {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		t.Fatal(err)
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "2"
	}
	return "1"
}
