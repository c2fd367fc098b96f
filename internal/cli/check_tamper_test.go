package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/internal/report"
	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/internal/testutil/rttest"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/lessons/tutor"
	"github.com/rt-lab/rt-lab/runtime"
)

// These tests grade through `rt-lab check`, as an instructor would. Editing
// rt-lab's state file, the progress file or the files of a house never earns a
// point. A step passes when the kernel shows the right state, however the
// student reached it. The tests change the kernel state by hand with util-linux
// nsenter and the cgroup files, only for houses that they created themselves.

// mustStage returns the lesson stage with the given id.
func mustStage(t *testing.T, id string) *lessons.Stage {
	t.Helper()
	st, err := lessons.Find(id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// gradeCLI runs `rt-lab check STAGE --format json` on root and returns the
// decoded report. It fails the test on an exit status other than 0 or 1 and on
// a template hole in the report's texts.
func gradeCLI(t *testing.T, root, stage string) *report.Report {
	t.Helper()
	env := map[string]string{"RT_LAB_ROOT": root, "RT_LAB_LANG": "en"}
	code, out, errOut := runCLI(t, env, "check", stage, "--format", "json", "--student", "Uji")
	if code != 0 && code != 1 {
		t.Fatalf("check %s: exit status %d (stderr %q)", stage, code, errOut)
	}
	rep, err := report.Decode("stdout", []byte(out))
	if err != nil {
		t.Fatalf("check %s: %v\n%s", stage, err, out)
	}
	if strings.Contains(out, "<no value>") {
		t.Errorf("check %s: the report has a template hole:\n%s", stage, out)
	}
	return rep
}

// wantSteps checks that exactly the steps in passing passed in rep's only
// stage, and that the score is their points.
func wantSteps(t *testing.T, what string, rep *report.Report, stage *lessons.Stage, passing ...string) {
	t.Helper()
	want := 0
	for _, step := range stage.Steps {
		if slices.Contains(passing, step.ID) {
			want += step.Points
		}
	}
	if len(rep.Stages) != 1 {
		t.Fatalf("%s: %d stages in the report, want 1", what, len(rep.Stages))
	}
	for _, step := range rep.Stages[0].Steps {
		if got, wantPass := step.Passed, slices.Contains(passing, step.ID); got != wantPass {
			t.Errorf("%s: step %s passed = %v, want %v\nevidence: %s\nexpected: %s", what, step.ID, got, wantPass,
				strings.Join(step.Evidence, "\n  "), step.Expected)
		}
	}
	if rep.Score != want {
		t.Errorf("%s: score %d/%d, want %d", what, rep.Score, rep.Max, want)
	}
}

// forgeProgress writes a progress file that marks every step of stage done
// with full points, with answers for the question steps.
func forgeProgress(t *testing.T, root string, stage *lessons.Stage, answers map[string]string) {
	t.Helper()
	if _, err := tutor.UpdateProgress(root, func(p *tutor.Progress) error {
		p.CurrentStage = stage.ID
		for _, step := range stage.Steps {
			sp := p.Stage(stage.ID).Step(step.ID)
			sp.Done, sp.How, sp.Points = true, tutor.HowChecked, step.Points
			if a, ok := answers[step.ID]; ok {
				sp.Answer = a
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// setAnswer saves the student's answer to a question step, as the lesson does.
func setAnswer(t *testing.T, root, stage, step, answer string) {
	t.Helper()
	if _, err := tutor.UpdateProgress(root, func(p *tutor.Progress) error {
		p.Stage(stage).Step(step).Answer = answer
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// startHouse creates and starts a house and returns its record.
func startHouse(t *testing.T, r *runtime.Runtime, name, hostname string) *runtime.Container {
	t.Helper()
	if _, err := r.Create(runtime.CreateOptions{Name: name, Hostname: hostname}); err != nil {
		t.Fatal(err)
	}
	c, err := r.Start(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// nsenter runs util-linux nsenter on the host against the namespaces of pid,
// which must be the PID 1 of a house this test created.
func nsenter(t *testing.T, pid int, args ...string) {
	t.Helper()
	bin, err := exec.LookPath("nsenter")
	if err != nil {
		t.Fatalf("nsenter (util-linux) not found: %v", err)
	}
	cmd := exec.Command(bin, append([]string{"--target", strconv.Itoa(pid)}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nsenter %v: %v\n%s", args, err, out)
	}
}

// waitForSleep waits until a process named sleep runs in the pid namespace of
// housePID. Its parent shell may exit before the child has run exec.
func waitForSleep(t *testing.T, housePID int) {
	t.Helper()
	ns, err := procfs.NSInode(housePID, "pid")
	if err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		pids, err := procfs.PIDs()
		if err != nil {
			t.Fatal(err)
		}
		for _, pid := range pids {
			if ino, err := procfs.NSInode(pid, "pid"); err != nil || ino != ns {
				continue
			}
			if args, err := procfs.Cmdline(pid); err == nil && len(args) > 0 && filepath.Base(args[0]) == "sleep" {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no sleep process appeared in the house")
}

// houseCgroupDir returns the host folder of pid's cgroup for controller and
// whether it is on the unified (v2) hierarchy, from /proc/PID/cgroup and the
// test's own mountinfo, the way the checker finds it.
func houseCgroupDir(t *testing.T, pid int, controller string) (string, bool) {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	mounts, err := procfs.Mounts(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	unifiedPath := ""
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			unifiedPath = parts[2]
			continue
		}
		if !slices.Contains(strings.Split(parts[1], ","), controller) {
			continue
		}
		for _, m := range mounts {
			if m.FSType == "cgroup" && slices.Contains(m.SuperOptions, controller) {
				return filepath.Join(m.MountPoint, parts[2]), false
			}
		}
		t.Fatalf("no cgroup v1 mount has the %s controller", controller)
	}
	for _, m := range mounts {
		if m.FSType == "cgroup2" && unifiedPath != "" {
			return filepath.Join(m.MountPoint, unifiedPath), true
		}
	}
	t.Fatalf("pid %d has no cgroup for %s:\n%s", pid, controller, data)
	return "", false
}

// writeCgroup writes value to file in dir, as `echo value > file` would.
func writeCgroup(t *testing.T, dir, file, value string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, file), []byte(value), 0); err != nil {
		t.Fatalf("write %s to %s: %v", value, filepath.Join(dir, file), err)
	}
}

// limitByHand gives the house of pid a memory quota of 64 MiB, 25 % of one CPU
// and at most 64 processes by writing its cgroup files, without rt-lab.
func limitByHand(t *testing.T, pid int) {
	t.Helper()
	dir, v2 := houseCgroupDir(t, pid, "memory")
	if v2 {
		writeCgroup(t, dir, "memory.max", "67108864")
	} else {
		writeCgroup(t, dir, "memory.limit_in_bytes", "67108864")
	}
	dir, v2 = houseCgroupDir(t, pid, "cpu")
	if v2 {
		writeCgroup(t, dir, "cpu.max", "25000 100000")
	} else {
		writeCgroup(t, dir, "cpu.cfs_period_us", "100000")
		writeCgroup(t, dir, "cpu.cfs_quota_us", "25000")
	}
	dir, _ = houseCgroupDir(t, pid, "pids")
	writeCgroup(t, dir, "pids.max", "64")
}

func TestCheckUnknownStageListsNames(t *testing.T) {
	all, err := lessons.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "id"} {
		env := map[string]string{"RT_LAB_ROOT": t.TempDir(), "RT_LAB_LANG": lang}
		code, out, errOut := runCLI(t, env, "check", "tahap-9")
		if code != 2 || out != "" {
			t.Errorf("%s: exit status %d, stdout %q; want 2 and nothing", lang, code, out)
		}
		for _, st := range all {
			if !strings.Contains(errOut, st.ID) {
				t.Errorf("%s: the error %q does not list the stage %s", lang, errOut, st.ID)
			}
		}
	}
}

// TestCheckIgnoresForgedStateTahap1 points the state file of a stopped house at
// processes that are not the house: a host process, the host's PID 1 and the
// PID 1 of another house. Only the step that reads the house's files passes.
func TestCheckIgnoresForgedStateTahap1(t *testing.T) {
	testutil.RequireRoot(t)
	stage := mustStage(t, "tahap-1")
	r, root := newTestRuntime(t)
	startHouse(t, r, "rumah-jakarta", "jakarta")
	// create rejects a hostname that another house has, so the other house
	// takes rumah-jakarta's hostname inside its own UTS namespace.
	other := startHouse(t, r, "rumah-lain", "lain")
	nsenter(t, other.PID, "--uts", "hostname", "jakarta")
	if err := r.Stop("rumah-jakarta", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	forgeProgress(t, root, stage, nil)

	startOf := func(pid int) uint64 {
		st, err := procfs.ReadStat(pid)
		if err != nil {
			t.Fatal(err)
		}
		return st.StartTime
	}
	self := os.Getpid()
	for _, tt := range []struct {
		name  string
		pid   int
		start uint64
	}{
		{"the test process", self, startOf(self)},
		{"the host's PID 1", 1, startOf(1)},
		{"another house's PID 1", other.PID, other.PIDStart},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rttest.EditState(t, r, "rumah-jakarta", map[string]any{"pid": tt.pid, "pid_start": tt.start})
			rep := gradeCLI(t, root, stage.ID)
			wantSteps(t, tt.name, rep, stage, "bangun-rumah")
		})
	}
}

// TestCheckIgnoresEditedHouseFiles edits the house's /etc/hostname and the
// hostname in its state file while the kernel's UTS hostname stays bogor: the
// name plate step earns nothing. Setting the hostname in the house's UTS
// namespace with nsenter then passes it, and so does bringing lo up by hand.
func TestCheckIgnoresEditedHouseFiles(t *testing.T) {
	testutil.RequireRoot(t)
	stage := mustStage(t, "tahap-1")
	r, root := newTestRuntime(t)
	c := startHouse(t, r, "rumah-jakarta", "bogor")

	// create-container writes /etc/hostname, and house-built reads it because
	// step 1 has no process yet. The kernel's hostname is still bogor.
	if err := os.WriteFile(filepath.Join(r.UpperDir("rumah-jakarta"), "etc", "hostname"), []byte("jakarta\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rttest.EditState(t, r, "rumah-jakarta", map[string]any{"hostname": "jakarta"})
	forgeProgress(t, root, stage, nil)
	rep := gradeCLI(t, root, stage.ID)
	wantSteps(t, "edited /etc/hostname and state file", rep, stage, "bangun-rumah", "ayah-pid-1", "telepon-rumah")

	// Reached by hand: the hostname is set in the house's UTS namespace from
	// the host, with no rt-lab command.
	nsenter(t, c.PID, "--uts", "hostname", "jakarta")
	rep = gradeCLI(t, root, stage.ID)
	wantSteps(t, "hostname set with nsenter", rep, stage, "bangun-rumah", "ayah-pid-1", "nama-rumah", "telepon-rumah")

	// lo down fails the phone step; lo brought up by hand passes it again.
	nsenter(t, c.PID, "--net", "ip", "link", "set", "lo", "down")
	rep = gradeCLI(t, root, stage.ID)
	wantSteps(t, "lo down", rep, stage, "bangun-rumah", "ayah-pid-1", "nama-rumah")
	nsenter(t, c.PID, "--net", "ip", "link", "set", "lo", "up")
	rep = gradeCLI(t, root, stage.ID)
	wantSteps(t, "lo up with nsenter", rep, stage, "bangun-rumah", "ayah-pid-1", "nama-rumah", "telepon-rumah")
}

// TestCheckIgnoresForgedLimitsTahap3 builds rumah-hemat without limits and
// claims them in the state file and the progress file, with an answer for the
// question step: nothing earns a point. Writing the limits into the house's
// cgroup files by hand then passes the steps that need them, and the question
// step passes only with the kernel's value.
func TestCheckIgnoresForgedLimitsTahap3(t *testing.T) {
	testutil.RequireRoot(t)
	stage := mustStage(t, "tahap-3")
	r, root := newTestRuntime(t)
	c := startHouse(t, r, "rumah-hemat", "hemat")

	rttest.EditState(t, r, "rumah-hemat", map[string]any{"memory_bytes": 64 << 20, "cpu_percent": 25, "pids": 64})
	forgeProgress(t, root, stage, map[string]string{"tagihan-listrik": "64"})
	if got, err := r.Get("rumah-hemat"); err != nil || got.MemoryBytes != 64<<20 || got.CPUPercent != 25 {
		t.Fatalf("the edited state file does not claim the limits: %+v, %v", got, err)
	}
	rep := gradeCLI(t, root, stage.ID)
	wantSteps(t, "limits only in the state file", rep, stage)

	// By hand: echo 67108864 > memory.limit_in_bytes (memory.max on v2), and
	// the same for the CPU quota and pids.max.
	limitByHand(t, c.PID)
	rep = gradeCLI(t, root, stage.ID)
	wantSteps(t, "limits written to the cgroup by hand", rep, stage,
		"bangun-rumah-hemat", "tagihan-listrik", "batas-penghuni")

	// A forged answer that does not match the kernel earns nothing.
	setAnswer(t, root, stage.ID, "tagihan-listrik", "128")
	rep = gradeCLI(t, root, stage.ID)
	wantSteps(t, "answer 128 for a 64 MiB quota", rep, stage, "bangun-rumah-hemat", "batas-penghuni")
}

// setupTamperedState is a student of tahap 1 who built the house, stopped it,
// and pointed its state file at the test process while the progress file
// claims every step.
func setupTamperedState(t *testing.T, r *runtime.Runtime, root string) {
	stage := mustStage(t, "tahap-1")
	startHouse(t, r, "rumah-jakarta", "jakarta")
	if err := r.Stop("rumah-jakarta", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	st, err := procfs.ReadStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	rttest.EditState(t, r, "rumah-jakarta", map[string]any{"pid": os.Getpid(), "pid_start": st.StartTime})
	forgeProgress(t, root, stage, nil)
}

// setupReachedByHand is a student of tahap 1 who created the house without
// --hostname, so its /etc/hostname has the wrong name, then set the hostname
// and started sleep in the house from the host with nsenter. Every step but
// the first passes.
func setupReachedByHand(t *testing.T, r *runtime.Runtime, _ string) {
	c := startHouse(t, r, "rumah-jakarta", "")
	nsenter(t, c.PID, "--uts", "hostname", "jakarta")
	nsenter(t, c.PID, "--mount", "--uts", "--ipc", "--net", "--pid", "--root", "--wd",
		"sh", "-c", "sleep 100000 >/dev/null 2>&1 &")
	waitForSleep(t, c.PID)
}
