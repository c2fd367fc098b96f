package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// These tests use the host's real cgroups with the driver Detect picks, so the
// same binary tests v1 here and v2 in a VM booted with cgroup_no_v1=all.

const helperEnv = "RT_LAB_CGROUP_HELPER"

// init keeps the main goroutine on the main thread. A goroutine that moved its
// locked thread into a group ends that thread when it exits, but Go cannot end
// the main thread: it would park it, and the whole process would stay listed in
// the group.
func init() {
	goruntime.LockOSThread()
}

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		runHelper(mode)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runHelper is a process for the tests to place in a group. It waits for one
// line on stdin, so the test can move it first, then does its work, prints
// "ready" and waits for stdin to close.
//
//	eat N   allocate and touch N MiB
//	burn    use CPU until stdin closes
//	wait    do nothing
func runHelper(mode string) {
	in := bufio.NewReader(os.Stdin)
	if _, err := in.ReadString('\n'); err != nil {
		os.Exit(2)
	}
	var keep []byte
	switch {
	case strings.HasPrefix(mode, "eat "):
		mib, _ := strconv.Atoi(strings.TrimPrefix(mode, "eat "))
		keep = make([]byte, mib<<20)
		for i := 0; i < len(keep); i += 4096 {
			keep[i] = 1
		}
	case mode == "burn":
		done := make(chan struct{})
		go func() {
			io.Copy(io.Discard, in)
			close(done)
		}()
		fmt.Println("ready")
		for {
			select {
			case <-done:
				return
			default:
			}
		}
	}
	fmt.Println("ready")
	io.Copy(io.Discard, in)
	goruntime.KeepAlive(keep)
}

// newRealGroup creates a group for the test under a parent named for its temp
// folder and destroys it when the test ends.
func newRealGroup(t *testing.T, limits Limits) Manager {
	t.Helper()
	testutil.RequireRoot(t)
	m, err := New(Config{Parent: ParentName(t.TempDir()), Name: "uji"})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Create(limits); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Destroy(); err != nil {
			t.Errorf("cleanup: destroy %s: %v", m.Path(Memory), err)
		}
	})
	return m
}

type helper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

// startHelper starts runHelper in mode inside m: by clone3 CLONE_INTO_CGROUP on
// v2, or by writing its PID before releasing it on v1. The process is killed
// when the test ends.
func startHelper(t *testing.T, m Manager, mode string) *helper {
	t.Helper()
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)

	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if m.Version() == V2 {
		dir, err := m.OpenDir()
		if err != nil {
			t.Fatal(err)
		}
		defer dir.Close()
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(dir.Fd())}
	}

	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})

	if m.Version() == V1 {
		if err := m.AddProc(cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
	return &helper{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
}

func (h *helper) waitReady(t *testing.T) {
	t.Helper()
	line, err := h.out.ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("helper sent %q, %v; want ready", line, err)
	}
}

func readFileT(t *testing.T, dir, name string) string {
	t.Helper()
	s, err := readString(dir, name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRealDetectIgnoresUnified(t *testing.T) {
	testutil.RequireRoot(t)
	v, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(DefaultBase, &st); err != nil {
		t.Fatal(err)
	}
	want := V1
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		want = V2
	}
	if v != want {
		t.Errorf("Detect() = %s, want %s (statfs type %#x)", v, want, st.Type)
	}
	t.Logf("host cgroup version: %s", v)
}

func TestRealLimitsReadBack(t *testing.T) {
	m := newRealGroup(t, Limits{MemoryBytes: 64 << 20, CPUPercent: 25, Pids: 64})
	var want map[string]map[string]string // folder -> file -> value
	if m.Version() == V1 {
		want = map[string]map[string]string{
			m.Path(Memory): {"memory.limit_in_bytes": "67108864"},
			m.Path(CPU):    {"cpu.cfs_quota_us": "25000", "cpu.cfs_period_us": "100000"},
			m.Path(Pids):   {"pids.max": "64"},
		}
		if exists(filepath.Join(m.Path(Memory), "memory.memsw.limit_in_bytes")) {
			want[m.Path(Memory)]["memory.memsw.limit_in_bytes"] = "67108864"
		}
	} else {
		want = map[string]map[string]string{
			m.Path(Memory): {"memory.max": "67108864", "cpu.max": "25000 100000", "pids.max": "64"},
		}
		if exists(filepath.Join(m.Path(Memory), "memory.swap.max")) {
			want[m.Path(Memory)]["memory.swap.max"] = "0"
		}
	}
	for dir, files := range want {
		for file, value := range files {
			if got := readFileT(t, dir, file); got != value {
				t.Errorf("%s/%s = %q, want %q", dir, file, got, value)
			}
		}
	}

	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.MemoryLimit != 64<<20 || s.CPUQuota != 25000 || s.CPUPeriod != 100000 || s.PidsMax != 64 {
		t.Errorf("stats limits: memory %d, cpu %d/%d, pids %d; want 67108864, 25000/100000, 64",
			s.MemoryLimit, s.CPUQuota, s.CPUPeriod, s.PidsMax)
	}
}

func TestRealProcessJoinsGroup(t *testing.T) {
	m := newRealGroup(t, Limits{Pids: 64})
	h := startHelper(t, m, "wait")
	h.waitReady(t)
	pid := h.cmd.Process.Pid

	groups, err := ProcGroup(pid)
	if err != nil {
		t.Fatal(err)
	}
	found, err := ForGroups(m.Version(), "", groups)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{Memory, CPU, Pids} {
		if found.Path(c) != m.Path(c) {
			t.Errorf("%s group of PID %d is %s, want %s", c, pid, found.Path(c), m.Path(c))
		}
	}
	procs, err := m.Procs()
	if err != nil {
		t.Fatal(err)
	}
	if len(procs) != 1 || procs[0] != pid {
		t.Errorf("Procs() = %v, want [%d]", procs, pid)
	}
	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.PidsCurrent < 1 || s.MemoryUsage == 0 {
		t.Errorf("stats with a process: pids %d, memory %d; want both above 0", s.PidsCurrent, s.MemoryUsage)
	}
}

// TestRealChildStartsInGroup checks that a child is in the group from its first
// instruction: on v1 because the forking thread joined it, on v2 because clone3
// placed it there. The child reports its own /proc/self/cgroup.
func TestRealChildStartsInGroup(t *testing.T) {
	m := newRealGroup(t, Limits{Pids: 64})
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		// The thread that joins the group is never unlocked, so Go ends it
		// with this goroutine instead of running other code on it.
		goruntime.LockOSThread()
		cmd := exec.Command("/bin/cat", "/proc/self/cgroup")
		if m.Version() == V1 {
			if err := m.AddThread(unix.Gettid()); err != nil {
				done <- result{nil, err}
				return
			}
		} else {
			dir, err := m.OpenDir()
			if err != nil {
				done <- result{nil, err}
				return
			}
			defer dir.Close()
			cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(dir.Fd())}
		}
		out, err := cmd.Output()
		done <- result{out, err}
	}()

	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	groups, err := ParseProcGroup(string(r.out))
	if err != nil {
		t.Fatal(err)
	}
	found, err := ForGroups(m.Version(), "", groups)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{Memory, CPU, CPUAcct, Pids} {
		if m.Version() == V2 && c == CPUAcct {
			continue
		}
		if found.Path(c) != m.Path(c) {
			t.Errorf("child's %s group is %s, want %s", c, found.Path(c), m.Path(c))
		}
	}

	self, err := ProcGroup(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if mine, _ := ForGroups(m.Version(), "", self); mine != nil && mine.Path(Memory) == m.Path(Memory) {
		t.Errorf("the test process itself moved into %s", m.Path(Memory))
	}
}

func TestRealMemoryBelowUsageRejected(t *testing.T) {
	m := newRealGroup(t, Limits{Pids: 64})
	h := startHelper(t, m, "eat 32")
	h.waitReady(t)

	err := m.Set(Limits{MemoryBytes: 8 << 20, Pids: 64})
	if !usererr.Is(err, "ErrCgroupMemoryBusy") {
		t.Fatalf("lowering memory below usage: %v, want ErrCgroupMemoryBusy", err)
	}
	var ue *usererr.Error
	if errors.As(err, &ue) {
		if usage, _ := ue.Data["Usage"].(int64); usage < 32<<20 {
			t.Errorf("reported usage %d bytes, want at least 32 MiB", usage)
		}
	}
	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.MemoryLimit != 0 {
		t.Errorf("memory limit after the rejected change = %d, want no limit", s.MemoryLimit)
	}
	if err := h.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("helper died after the rejected change: %v", err)
	}
	if err := m.Set(Limits{MemoryBytes: 256 << 20, Pids: 64}); err != nil {
		t.Errorf("raising the limit above usage: %v", err)
	}
}

func TestRealOOMKillCounted(t *testing.T) {
	m := newRealGroup(t, Limits{MemoryBytes: 32 << 20, Pids: 64})
	h := startHelper(t, m, "eat 128")
	err := h.cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("helper eating 128 MiB under a 32 MiB limit: %v, want killed", err)
	}
	if ws := exit.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("helper ended with %v, want SIGKILL from the OOM killer", exit)
	}
	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.OOMKills < 1 {
		t.Errorf("OOMKills = %d after an OOM kill, want at least 1", s.OOMKills)
	}
	// The kernel charges in batches, so the peak may pass the limit by a few
	// pages; it only has to show that the helper filled most of the limit.
	if s.MemoryMaxUsage != 0 && s.MemoryMaxUsage < 16<<20 {
		t.Errorf("peak usage %d bytes, want at least 16 MiB after filling 32 MiB", s.MemoryMaxUsage)
	}
}

func TestRealCPUThrottled(t *testing.T) {
	m := newRealGroup(t, Limits{CPUPercent: 10, Pids: 64})
	h := startHelper(t, m, "burn")
	h.waitReady(t)
	// A second is ten periods of 100 ms, and a busy loop with a 10 ms quota
	// uses up its quota in most of them.
	time.Sleep(time.Second)
	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	h.stdin.Close()
	h.cmd.Wait()
	if s.NrThrottled == 0 || s.ThrottledTime == 0 {
		t.Errorf("busy loop at 10%%: throttled %d of %d periods for %v; want throttling",
			s.NrThrottled, s.NrPeriods, s.ThrottledTime)
	}
	if s.CPUUsage == 0 {
		t.Errorf("CPU usage 0 after a busy loop")
	}
}

func TestRealDestroy(t *testing.T) {
	testutil.RequireRoot(t)
	m, err := New(Config{Parent: ParentName(t.TempDir()), Name: "uji"})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Create(Limits{Pids: 16}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Destroy() })
	h := startHelper(t, m, "wait")
	h.waitReady(t)

	defer func(n int) { destroyRetries = n }(destroyRetries)
	destroyRetries = 1
	if err := m.Destroy(); !usererr.Is(err, "ErrCgroupNotEmpty") {
		t.Errorf("Destroy with a live process: %v, want ErrCgroupNotEmpty", err)
	}
	if !m.Exists() {
		t.Fatal("Destroy removed a group with a live process")
	}

	h.stdin.Close()
	h.cmd.Wait()
	destroyRetries = 100
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{Memory, CPU, CPUAcct, Pids} {
		dir := m.Path(c)
		if dir == "" {
			continue
		}
		for _, p := range []string{dir, filepath.Dir(dir)} {
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Errorf("%s left after Destroy: %v", p, err)
			}
		}
	}
}
