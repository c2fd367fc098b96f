package checker

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/runtime"
)

// handGroup is a cgroup the test makes itself, on v1 one folder per controller,
// on v2 one folder. The checker must grade a house placed in it by hand exactly
// as one placed there by rt-lab: it reads the kernel, not the runtime.
type handGroup struct {
	v2   bool
	dirs map[string]string // controller -> folder
}

func newHandGroup(t *testing.T) *handGroup {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		t.Fatal(err)
	}
	// The name comes from the test's own temporary folder, so two test runs on
	// one machine never share a group.
	name := fmt.Sprintf("rt-lab-checktest-%x", sha256.Sum256([]byte(t.TempDir())))[:30]
	g := &handGroup{v2: st.Type == unix.CGROUP2_SUPER_MAGIC, dirs: map[string]string{}}
	if g.v2 {
		if err := os.WriteFile("/sys/fs/cgroup/cgroup.subtree_control", []byte("+memory +cpu +pids"), 0); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join("/sys/fs/cgroup", name)
		g.dirs = map[string]string{"memory": dir, "cpu": dir, "pids": dir}
	} else {
		// The mount point of each controller's hierarchy comes from mountinfo:
		// cpu shares one with cpuacct on some hosts and not on others.
		mounts, err := procfs.Mounts(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		for _, ctrl := range []string{"memory", "cpu", "pids"} {
			for _, m := range mounts {
				if m.FSType == "cgroup" && slices.Contains(m.SuperOptions, ctrl) {
					g.dirs[ctrl] = filepath.Join(m.MountPoint, name)
				}
			}
			if g.dirs[ctrl] == "" {
				t.Fatalf("no cgroup v1 hierarchy with the %s controller is mounted", ctrl)
			}
		}
	}
	made := map[string]bool{}
	for _, dir := range g.dirs {
		if made[dir] {
			continue
		}
		made[dir] = true
		// Mkdir, not MkdirAll: a missing hierarchy must fail, not create a plain
		// folder on the tmpfs above the hierarchies.
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { g.remove(t) })
	return g
}

// remove moves any process left to the parent group, then removes the folders.
// A process that the memory limit killed can keep a group busy until it has
// exited, so a busy folder is tried again for a while.
func (g *handGroup) remove(t *testing.T) {
	done := map[string]bool{}
	for _, dir := range g.dirs {
		if done[dir] {
			continue
		}
		done[dir] = true
		var err error
		for try := 0; try < 100; try++ {
			if data, readErr := os.ReadFile(filepath.Join(dir, "cgroup.procs")); readErr == nil {
				for _, pid := range strings.Fields(string(data)) {
					_ = os.WriteFile(filepath.Join(filepath.Dir(dir), "cgroup.procs"), []byte(pid), 0)
				}
			}
			if err = os.Remove(dir); err == nil || os.IsNotExist(err) || !errors.Is(err, unix.EBUSY) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil && !os.IsNotExist(err) {
			t.Errorf("remove test cgroup: %v", err)
		}
	}
}

func (g *handGroup) write(t *testing.T, ctrl, v1file, v2file, value string) {
	t.Helper()
	file := v1file
	if g.v2 {
		file = v2file
	}
	if err := os.WriteFile(filepath.Join(g.dirs[ctrl], file), []byte(value), 0); err != nil {
		t.Fatalf("write %s to %s: %v", value, file, err)
	}
}

func (g *handGroup) add(t *testing.T, pid int) {
	t.Helper()
	for _, dir := range g.dirs {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(fmt.Sprint(pid)), 0); err != nil {
			t.Fatalf("add %d to %s: %v", pid, dir, err)
		}
	}
}

func TestCgroupChecksHandMadeGroup(t *testing.T) {
	env := newRuntimeEnv(t)
	c := createAndStart(t, env.Runtime, "rumah-hemat", "hemat")
	g := newHandGroup(t)
	g.write(t, "memory", "memory.limit_in_bytes", "memory.max", "67108864")
	if g.v2 {
		g.write(t, "memory", "", "memory.swap.max", "0")
	} else if _, err := os.Stat(filepath.Join(g.dirs["memory"], "memory.memsw.limit_in_bytes")); err == nil {
		g.write(t, "memory", "memory.memsw.limit_in_bytes", "", "67108864")
	}
	g.write(t, "cpu", "cpu.cfs_quota_us", "cpu.max", map[bool]string{false: "10000", true: "10000 100000"}[g.v2])
	g.write(t, "pids", "pids.max", "pids.max", "64")
	g.add(t, c.PID)

	assertResult(t, run(env, "memory-limit", "name", "rumah-hemat", "mib", "64"), true, "(64 MiB)")
	assertResult(t, run(env, "memory-limit", "name", "rumah-hemat", "mib", "128"), false, "needs 128 MiB")
	assertResult(t, run(env, "cpu-limit", "name", "rumah-hemat", "percent", "10"), true, "10 % of one CPU")
	assertResult(t, run(env, "cpu-limit", "name", "rumah-hemat", "percent", "25"), false, "needs 25 %")
	assertResult(t, run(env, "pids-limit", "name", "rumah-hemat", "max", "64"), true, "pids.max: 64")
	assertResult(t, run(env, "oom-kill", "name", "rumah-hemat"), false, "has not killed")
	assertAnswers(t, env)
	assertResult(t, run(env, "cpu-throttled", "name", "rumah-hemat"), false, "never held it back")

	// dd with a 100 MiB block allocates and fills a 100 MiB buffer: more than the
	// 64 MiB quota, so the kernel kills it and leaves PID 1 running.
	hog := runtime.Process{Args: []string{"sh", "-c", "dd if=/dev/zero of=/dev/null bs=100M count=1"}}
	if code, _ := execJoined(t, env.Runtime, c.PID, g, hog); code == 0 {
		t.Errorf("dd of 100 MiB under a 64 MiB limit exited 0; the kernel should have killed it")
	}
	assertResult(t, run(env, "oom-kill", "name", "rumah-hemat"), true, "is still running")

	burn := runtime.Process{Args: []string{"sh", "-c", "timeout 1 sh -c 'while :; do :; done'; true"}}
	if code, err := execJoined(t, env.Runtime, c.PID, g, burn); code != 0 || err != nil {
		t.Errorf("CPU burner: status %d, %v", code, err)
	}
	assertResult(t, run(env, "cpu-throttled", "name", "rumah-hemat"), true, "nr_throttled")
}

// execJoined runs p in the house after placing it in g. Exec enters only the
// house's namespaces, and the house cannot see the host's cgroup folders, so p
// runs under a shell that waits for a line on stdin while the test writes the
// shell's host PID into g.
func execJoined(t *testing.T, r *runtime.Runtime, housePID int, g *handGroup, p runtime.Process) (int, error) {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	wrapped := p
	// read waits until the host has moved the shell into the group.
	wrapped.Args = []string{"sh", "-c", `read go; exec "$@"`, "sh"}
	wrapped.Args = append(wrapped.Args, p.Args...)
	wrapped.Stdin = pr
	done := make(chan struct{})
	var code int
	var execErr error
	go func() {
		defer close(done)
		code, execErr = r.Exec("rumah-hemat", wrapped)
	}()
	pid := waitForMember(t, housePID, "sh")
	g.add(t, pid)
	fmt.Fprintln(pw, "go")
	pw.Close()
	<-done
	return code, execErr
}

// waitForMember returns the host PID of the first process named comm, other than
// PID 1, in the pid namespace of housePID.
func waitForMember(t *testing.T, housePID int, comm string) int {
	t.Helper()
	ns, err := procfs.NSInode(housePID, "pid")
	if err != nil {
		t.Fatal(err)
	}
	for range 500 {
		members, err := family(ns)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range members {
			if m.InnerPID > 1 && m.Comm == comm {
				return m.HostPID
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no process %s appeared in the house", comm)
	return 0
}

// assertAnswers grades a question step about rumah-hemat's 64 MiB quota.
func assertAnswers(t *testing.T, env *Env) {
	t.Helper()
	step := &lessons.Step{ID: "tanya", Points: 5, Checks: []lessons.Check{
		{Check: "answer", With: map[string]string{"name": "rumah-hemat", "value": "memory-mib"}}}}
	if got, res, ok := Answer(env, step); !ok || got != "64" {
		t.Errorf("Answer = %q, %v (%v), want 64", got, ok, res.Evidence)
	}
	for answer, want := range map[string]bool{"64": true, "064": true, "128": false, "": false} {
		env.Answers = map[string]string{"tanya": answer}
		if res := GradeStep(env, step); res.Passed != want {
			t.Errorf("answer %q: passed %v, want %v; evidence %v", answer, res.Passed, want, res.Evidence)
		}
	}
	env.Answers = nil
}
