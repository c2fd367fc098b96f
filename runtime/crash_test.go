package runtime_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rt-lab/rt-lab/internal/diag"
	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/runtime"
)

// faultCLI runs an rt-lab binary built with the faultinject tag on one root.
type faultCLI struct {
	t    *testing.T
	bin  string
	root string
}

// buildFaultBinary builds rt-lab with the faultinject tag, statically as make
// builds it, into a folder removed when the test ends.
func buildFaultBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rt-lab")
	cmd := exec.Command("go", "build", "-tags", "faultinject", "-o", bin, "github.com/rt-lab/rt-lab/cmd/rt-lab")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags faultinject: %v\n%s", err, out)
	}
	return bin
}

// run runs rt-lab with args and, when fault is set, RT_LAB_FAULT=fault. It
// returns the combined output and the process state.
func (c faultCLI) run(fault string, args ...string) (string, *os.ProcessState) {
	c.t.Helper()
	cmd := exec.Command(c.bin, append([]string{"--root", c.root, "--lang", "en"}, args...)...)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "RT_LAB_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if fault != "" {
		cmd.Env = append(cmd.Env, "RT_LAB_FAULT="+fault)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		c.t.Fatalf("run rt-lab %q: %v", args, err)
	}
	return out.String(), cmd.ProcessState
}

// ok runs rt-lab with args and fails the test unless it exits with status 0.
func (c faultCLI) ok(args ...string) string {
	c.t.Helper()
	out, st := c.run("", args...)
	if st.ExitCode() != 0 {
		c.t.Fatalf("rt-lab %q: exit %d\n%s", args, st.ExitCode(), out)
	}
	return out
}

// healthyHouse is a house made before the faults, with what must survive them.
type healthyHouse struct {
	name   string
	state  []byte
	letter string // path of a file the family wrote, read from the host
	pid    int
	start  uint64
}

func (h *healthyHouse) check(t *testing.T, r *runtime.Runtime) {
	t.Helper()
	if got, err := os.ReadFile(r.StatePath(h.name)); err != nil || !bytes.Equal(got, h.state) {
		t.Errorf("state of %s changed: %v\n%s\nwant\n%s", h.name, err, got, h.state)
	}
	if got, err := os.ReadFile(h.letter); err != nil || string(got) != "surat\n" {
		t.Errorf("letter of %s: %q, %v", h.name, got, err)
	}
	if h.pid != 0 && !procfs.Alive(h.pid, h.start) {
		t.Errorf("init %d of %s died", h.pid, h.name)
	}
}

// TestCrashAfterEveryStep kills rt-lab with SIGKILL after each step of
// create, start, stop and delete. After each crash the next commands must
// work, recover-state must leave a clean complex with nothing more to find,
// and two healthy houses, one running and one stopped, must survive intact.
func TestCrashAfterEveryStep(t *testing.T) {
	testutil.RequireRoot(t)
	r := recoverRuntime(t)
	c := faultCLI{t: t, bin: buildFaultBinary(t), root: r.Root()}

	c.ok("create-container", "sehat-jalan")
	c.ok("run-container", "sehat-jalan", "--", "sh", "-c", "echo surat > /root/surat")
	c.ok("create-container", "sehat-diam")
	letter := filepath.Join(r.UpperDir("sehat-diam"), "root", "surat")
	if err := os.MkdirAll(filepath.Dir(letter), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(letter, []byte("surat\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	running, err := r.Get("sehat-jalan")
	if err != nil {
		t.Fatal(err)
	}
	var healthy []*healthyHouse
	for _, h := range []*healthyHouse{
		{name: "sehat-jalan", letter: fmt.Sprintf("/proc/%d/root/root/surat", running.PID), pid: running.PID, start: running.PIDStart},
		{name: "sehat-diam", letter: letter},
	} {
		if h.state, err = os.ReadFile(r.StatePath(h.name)); err != nil {
			t.Fatal(err)
		}
		healthy = append(healthy, h)
	}

	// prepare brings the victim house to the state the operation starts from.
	prepare := map[string][][]string{
		"create": nil,
		"start":  {{"create-container", "korban"}},
		"stop":   {{"create-container", "korban"}, {"run-container", "korban", "--", "true"}},
		"delete": {{"create-container", "korban"}},
	}
	faulted := map[string][]string{
		"create": {"create-container", "korban"},
		"start":  {"run-container", "korban", "--", "true"},
		"stop":   {"stop-container", "korban"},
		"delete": {"delete-container", "korban", "--yes"},
	}
	for _, op := range []string{"create", "start", "stop", "delete"} {
		for _, step := range runtime.FaultSteps[op] {
			t.Run(op+"/"+step, func(t *testing.T) {
				c := faultCLI{t: t, bin: c.bin, root: c.root}
				for _, args := range prepare[op] {
					c.ok(args...)
				}
				out, st := c.run(op+":"+step, faulted[op]...)
				if ws, ok := st.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
					t.Fatalf("rt-lab %q with fault %s:%s ended with %v, not SIGKILL: the step was not reached\n%s",
						faulted[op], op, step, st, out)
				}

				c.ok("list-containers")
				c.ok("create-container", "lain")
				c.ok("delete-container", "lain", "--yes")
				if out := c.ok("recover-state"); t.Failed() {
					t.Log(out)
				}
				if out := c.ok("recover-state", "--dry-run"); !strings.Contains(out, "Nothing to repair") {
					t.Errorf("a second recover-state still finds something:\n%s", out)
				}
				checkClean(t, r, c.bin)
				for _, h := range healthy {
					h.check(t, r)
				}
				if _, err := os.Stat(r.ContainerDir("korban")); err == nil {
					c.ok("delete-container", "korban", "--force", "--yes")
				}
			})
		}
	}
}

// checkClean fails unless every object of the root belongs to a healthy
// house: groups under the parent cgroup and ports on the bridge only for
// running houses, no mount below the root in rt-lab's namespace, no process
// of the fault binary left, and no process on a house's overlay other than a
// running house's family.
func checkClean(t *testing.T, r *runtime.Runtime, bin string) {
	t.Helper()
	rep, err := (&diag.Inspector{Runtime: r}).Inspect("")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Healthy() {
		for _, h := range rep.Containers {
			if !h.Healthy() {
				t.Errorf("house %s is not healthy: %v", h.Name, issueCodesOf(h.Issues))
			}
		}
		t.Errorf("orphans %v, network error %v", issueCodesOf(rep.Orphans), rep.NetworkError)
	}

	cs, err := r.List()
	if err != nil {
		t.Fatal(err)
	}
	runningNS := map[string]uint64{} // house -> pid namespace of its init
	var wantPorts []string
	n, _ := r.Network()
	for _, h := range cs {
		if h.Status == runtime.StatusBroken {
			t.Errorf("house %s is broken: %v", h.Name, h.Err)
		}
		if h.Status != runtime.StatusRunning {
			continue
		}
		ns, err := procfs.NSInode(h.PID, "pid")
		if err != nil {
			t.Fatal(err)
		}
		runningNS[h.Name] = ns
		if a, ok, _ := n.Allocation(h.Name); ok {
			wantPorts = append(wantPorts, a.HostLink())
		}
	}
	for _, g := range groupsUnderParent(t, r) {
		if _, ok := runningNS[filepath.Base(g)]; !ok {
			t.Errorf("cgroup %s left without a running house", g)
		}
	}
	slices.Sort(wantPorts)
	if ports := bridgePorts(t, r); !slices.Equal(ports, wantPorts) {
		t.Errorf("bridge ports %v, want the running houses' %v", ports, wantPorts)
	}
	if m := mountsUnder(t, r.Root()); len(m) > 0 {
		t.Errorf("mounts under the root: %v", m)
	}
	checkNoStrays(t, r, bin, runningNS)
}

// checkNoStrays looks for processes of the fault binary, such as a bootstrap
// whose parent died, and processes on a house's overlay outside the running
// houses' families. A bootstrap exits on its own once its config pipe
// closes, so it gets a few seconds.
func checkNoStrays(t *testing.T, r *runtime.Runtime, bin string, runningNS map[string]uint64) {
	t.Helper()
	var strays []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		strays = strays[:0]
		pids, err := procfs.PIDs()
		if err != nil {
			t.Fatal(err)
		}
		for _, pid := range pids {
			if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && exe == bin {
				strays = append(strays, fmt.Sprintf("%d (%s)", pid, exe))
				continue
			}
			root, err := procfs.RootMount(pid)
			if err != nil {
				continue
			}
			upper, _ := root.Option("upperdir")
			rest, ok := strings.CutPrefix(upper, r.ContainersDir()+"/")
			if !ok {
				continue
			}
			house, _, _ := strings.Cut(rest, "/")
			if ns, err := procfs.NSInode(pid, "pid"); err != nil || ns != runningNS[house] {
				strays = append(strays, fmt.Sprintf("%d (on the overlay of %s)", pid, house))
			}
		}
		if len(strays) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(strays) > 0 {
		t.Errorf("stray processes: %v", strays)
	}
}

func issueCodesOf(issues []diag.Issue) []string {
	var out []string
	for _, i := range issues {
		out = append(out, i.Code)
	}
	return out
}
