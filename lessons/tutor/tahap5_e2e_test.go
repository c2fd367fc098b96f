package tutor

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/runtime"
)

// End-to-end tests of tahap 5 (a house's life, the RT's inspections and the
// emergency repaired by recover-state). They build rt-lab, run the lesson on
// real houses and grade with `rt-lab check`.

func TestTahap5StartAutoGivesFullMarks(t *testing.T) {
	requireRoot(t)
	bin := buildRTLab(t)
	stage, err := lessons.Find("tahap-5")
	if err != nil {
		t.Fatal(err)
	}
	steps := len(stage.Steps)
	for _, lang := range []string{"id", "en"} {
		t.Run(lang, func(t *testing.T) {
			c := cli{t: t, bin: bin, root: t.TempDir(), lang: lang}
			c.removeBridgeOnCleanup()
			c.resetOnCleanup()

			stdout, stderr, code := c.run("start", "tahap-5", "--auto")
			if code != 0 {
				t.Fatalf("start --auto: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if n := strings.Count(stdout, markPass); n != steps {
				t.Errorf("start --auto passed %d steps, want %d:\n%s", n, steps, stdout)
			}

			stdout, stderr, code = c.run("check", "tahap-5", "--format", "json")
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

// TestTahap5EmergencyNeedsRecovery kills the father of rumah-medan by hand:
// the emergency step must fail until recover-state has run, the demolition
// step must fail while rumah-tua still exists, and the question step passes only
// with the kernel's cgroup version.
func TestTahap5EmergencyNeedsRecovery(t *testing.T) {
	requireRoot(t)
	c := cli{t: t, bin: buildRTLab(t), root: t.TempDir(), lang: "en"}
	c.removeBridgeOnCleanup()
	c.resetOnCleanup()
	for _, args := range [][]string{
		{"create-container", "rumah-medan", "--hostname", "medan"},
		{"create-container", "rumah-tua", "--hostname", "tua"},
		{"run-container", "rumah-medan", "--", "true"},
	} {
		if stdout, stderr, code := c.run(args...); code != 0 {
			t.Fatalf("rt-lab %q: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
		}
	}
	passed := c.checkSteps("tahap-5")
	if !passed["bangun-dan-periksa"] || !passed["ayah-meninggal"] || !passed["hidup-lagi"] {
		t.Errorf("steps %v: a running, recorded rumah-medan passes steps 1, 3 and 4", passed)
	}
	if passed["robohkan-rumah-tua"] {
		t.Error("robohkan-rumah-tua passed while rumah-tua still exists")
	}

	r, err := runtime.New(runtime.Options{Root: c.root})
	if err != nil {
		t.Fatal(err)
	}
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

	if stdout, stderr, code := c.run("recover-state"); code != 0 {
		t.Fatalf("recover-state: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
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

	for _, tc := range []struct {
		answer string
		want   bool
	}{
		{"3", false},
		{cgroupVersionAnswer(t), true},
	} {
		if _, err := UpdateProgress(c.root, func(p *Progress) error {
			p.Stage("tahap-5").Step("inspeksi-kompleks").Answer = tc.answer
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if passed := c.checkSteps("tahap-5"); passed["inspeksi-kompleks"] != tc.want {
			t.Errorf("answer %q: inspeksi-kompleks passed = %v, want %v", tc.answer, passed["inspeksi-kompleks"], tc.want)
		}
	}
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
