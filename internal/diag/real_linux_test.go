package diag

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/network"
	"github.com/rt-lab/rt-lab/runtime"
)

func TestMain(m *testing.M) {
	runtime.MaybeInit()
	os.Exit(m.Run())
}

// hostLinksNamed lists the links of the host's network namespace whose name
// starts with prefix.
func hostLinksNamed(t *testing.T, prefix string) []string {
	t.Helper()
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range links {
		if strings.HasPrefix(l.Attrs().Name, prefix) {
			names = append(names, l.Attrs().Name)
		}
	}
	return names
}

func threadNetNS(t *testing.T) uint64 {
	t.Helper()
	ino, err := nsInode(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		t.Fatal(err)
	}
	return ino
}

func TestDiagProbeLinksOnHost(t *testing.T) {
	testutil.RequireRoot(t)
	before := threadNetNS(t)

	p := probeLinks()

	if p.Skipped || p.Veth != nil || p.Bridge != nil {
		t.Errorf("probe = %+v, want veth and bridge created as root", p)
	}
	if left := hostLinksNamed(t, "rtdiag"); len(left) > 0 {
		t.Errorf("probe left links in the host's namespace: %v", left)
	}
	if after := threadNetNS(t); after != before {
		t.Errorf("test thread moved from net namespace %d to %d", before, after)
	}
}

func TestDiagSystemOnHost(t *testing.T) {
	testutil.RequireRoot(t)
	rep, err := System(SystemOptions{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// Every rt-lab root test needs these, so a missing one is a broken test
	// machine, not a skip.
	must := []string{CheckRoot, CheckKernel, CheckCgroup, CheckNamespaces, CheckOverlay, CheckVeth,
		CheckBridgeLink, "cgroup-memory", "cgroup-cpu", "cgroup-pids", CheckBridge}
	for _, id := range must {
		c := findCheck(t, rep.Checks, id)
		if c.Verdict != OK {
			t.Errorf("%s: verdict %s, value %+v, fix %+v; want ok", id, c.Verdict, c.Value, c.Fix)
		}
	}
	if c := findCheck(t, rep.Checks, CheckBridge); c.Value.ID != "DebugValueBridgeNone" {
		t.Errorf("bridge of a fresh root = %q, want DebugValueBridgeNone", c.Value.ID)
	}
}

// realHouses is a runtime on a fresh root whose houses, cgroups and bridge
// are removed when the test ends, even when it fails.
func realHouses(t *testing.T) *runtime.Runtime {
	t.Helper()
	testutil.RequireRoot(t)
	r, err := runtime.New(runtime.Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		entries, _ := os.ReadDir(r.ContainersDir())
		for _, e := range entries {
			if _, err := os.Stat(r.StatePath(e.Name())); err == nil {
				if err := r.Delete(e.Name(), true); err != nil {
					t.Errorf("cleanup: delete %s: %v", e.Name(), err)
				}
			}
		}
		n, err := network.Load(r.Root())
		if err == nil {
			err = n.RemoveBridge(true)
		}
		if err != nil && !errors.Is(err, network.ErrNotConfigured) {
			t.Errorf("cleanup: remove bridge: %v", err)
		}
	})
	return r
}

// killInit sends SIGKILL to the house's init from the host, as a student
// causing an emergency does, and waits until the process is gone.
func killInit(t *testing.T, pid int) {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatal(os.NewSyscallError("pidfd_open", err))
	}
	defer unix.Close(fd)
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil {
		t.Fatal(os.NewSyscallError("pidfd_send_signal", err))
	}
	// The pidfd becomes readable when the process exits; a SIGKILLed
	// process always does, so this waits without a timeout.
	for {
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, -1)
		if n > 0 || (err != nil && err != unix.EINTR) {
			break
		}
	}
	// The runtime reaps the init in a goroutine of this test process; wait
	// for the zombie to go too.
	for {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || !strings.Contains(string(data), ") Z ") {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func findContainer(t *testing.T, rep *Report, name string) *Container {
	t.Helper()
	for _, c := range rep.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %s in the report", name)
	return nil
}

func TestDiagInspectRealHouses(t *testing.T) {
	r := realHouses(t)
	for _, name := range []string{"rumah-sehat", "rumah-diam", "rumah-mati"} {
		if _, err := r.Create(runtime.CreateOptions{Name: name, MemoryBytes: 64 << 20, CPUPercent: 50}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"rumah-sehat", "rumah-mati"} {
		if _, err := r.Start(name); err != nil {
			t.Fatal(err)
		}
	}
	dead, err := r.Get("rumah-mati")
	if err != nil {
		t.Fatal(err)
	}
	killInit(t, dead.PID)
	if err := os.Mkdir(r.ContainerDir("rumah-setengah"), 0o700); err != nil {
		t.Fatal(err)
	}
	stateBefore, err := os.ReadFile(r.StatePath("rumah-mati"))
	if err != nil {
		t.Fatal(err)
	}

	rep, err := (&Inspector{Runtime: r}).Inspect("")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("running", func(t *testing.T) {
		c := findContainer(t, rep, "rumah-sehat")
		if !c.Healthy() {
			t.Errorf("issues %v, want healthy", issueCodes(c.Issues))
		}
		if c.Init == nil || !c.Init.FromState || c.Kernel != KernelRunning {
			t.Fatalf("init %+v, kernel %s; want the recorded init running", c.Init, c.Kernel)
		}
		if len(c.Processes) == 0 || c.Processes[0].InnerPID != 1 || c.Processes[0].HostPID != c.Init.PID {
			t.Errorf("processes %+v, want the init first as PID 1", c.Processes)
		}
		if c.Cgroup.Stats == nil || c.Cgroup.Stats.MemoryLimit != 64<<20 {
			t.Errorf("cgroup stats %+v, want a 64 MiB memory limit", c.Cgroup.Stats)
		}
		if !slices.Contains(c.Cgroup.Procs, c.Init.PID) {
			t.Errorf("cgroup procs %v do not contain the init %d", c.Cgroup.Procs, c.Init.PID)
		}
		if len(c.Rootfs.Mounts) == 0 || c.Rootfs.Mounts[0].MountNS != c.Init.MountNS {
			t.Errorf("rootfs mounts %+v, want the overlay inside the house", c.Rootfs.Mounts)
		}
		if c.Network != nil && !c.Network.OnBridge {
			t.Errorf("network %+v, want the veth on the bridge", c.Network)
		}
	})
	t.Run("stopped", func(t *testing.T) {
		c := findContainer(t, rep, "rumah-diam")
		if !c.Healthy() || c.Kernel != KernelStopped || c.Cgroup.Exists || len(c.Rootfs.Mounts) > 0 {
			t.Errorf("issues %v, kernel %s, cgroup exists %v, mounts %v; want a healthy stopped house with nothing left",
				issueCodes(c.Issues), c.Kernel, c.Cgroup.Exists, c.Rootfs.Mounts)
		}
	})
	t.Run("init killed", func(t *testing.T) {
		c := findContainer(t, rep, "rumah-mati")
		codes := issueCodes(c.Issues)
		if !slices.Contains(codes, IssueInitDead) {
			t.Errorf("issues %v, want %s", codes, IssueInitDead)
		}
		if !slices.Contains(codes, IssueCgroupLeft) {
			t.Errorf("issues %v, want %s: nothing removed the cgroup", codes, IssueCgroupLeft)
		}
		if c.Network != nil && c.Network.LinkExists != slices.Contains(codes, IssueVethLeft) {
			t.Errorf("veth exists %v but issues %v", c.Network.LinkExists, codes)
		}
		if c.Init != nil || len(c.Processes) > 0 {
			t.Errorf("init %+v, processes %v; want none", c.Init, c.Processes)
		}
	})
	t.Run("folder without state", func(t *testing.T) {
		c := findContainer(t, rep, "rumah-setengah")
		if codes := issueCodes(c.Issues); !slices.Equal(codes, []string{IssueStateMissing}) {
			t.Errorf("issues %v, want [%s]", codes, IssueStateMissing)
		}
	})
	if len(rep.Orphans) > 0 {
		t.Errorf("orphans %v, want none", issueCodes(rep.Orphans))
	}

	// Inspect only reads: the dead house's state and cgroup stay as they were.
	stateAfter, err := os.ReadFile(r.StatePath("rumah-mati"))
	if err != nil || string(stateAfter) != string(stateBefore) {
		t.Errorf("state file changed: %v\nbefore %s\nafter  %s", err, stateBefore, stateAfter)
	}
	if cg, err := r.Cgroup("rumah-mati"); err != nil || !fileExists(cg.Path("memory")) {
		t.Errorf("cgroup of rumah-mati gone after Inspect: %v", err)
	}
}

func TestDiagInspectOrphanCgroup(t *testing.T) {
	r := realHouses(t)
	if _, err := r.Create(runtime.CreateOptions{Name: "rumah-ada"}); err != nil {
		t.Fatal(err)
	}
	// A group of this root without a house, as a crash between creating the
	// cgroup and writing the state file leaves.
	m, err := r.Cgroup("rumah-hantu")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Create(cgroups.Limits{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Destroy(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})

	rep, err := (&Inspector{Runtime: r}).Inspect("")
	if err != nil {
		t.Fatal(err)
	}
	if codes := issueCodes(rep.Orphans); !slices.Equal(codes, []string{IssueCgroupOrphan}) {
		t.Fatalf("orphans %v, want [%s]", codes, IssueCgroupOrphan)
	}
	if path := rep.Orphans[0].Data["Path"].(string); filepath.Base(path) != "rumah-hantu" {
		t.Errorf("orphan path %s, want the rumah-hantu group", path)
	}
}

func TestDiagInspectForgedPID(t *testing.T) {
	r := realHouses(t)
	if _, err := r.Create(runtime.CreateOptions{Name: "rumah-palsu"}); err != nil {
		t.Fatal(err)
	}
	// The state file names this test process, alive with its true start
	// time. The folder is removed directly, so no cleanup path of any runtime
	// version acts on the forged PID.
	t.Cleanup(func() { os.RemoveAll(r.ContainerDir("rumah-palsu")) })
	self, err := (procReader{root: "/proc"}).stat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(r.StatePath("rumah-palsu"))
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.Replace(string(data), "{", fmt.Sprintf(`{"pid":%d,"pid_start":%d,`, os.Getpid(), self.StartTime), 1)
	if err := os.WriteFile(r.StatePath("rumah-palsu"), []byte(forged), 0o644); err != nil {
		t.Fatal(err)
	}

	rep, err := (&Inspector{Runtime: r}).Inspect("rumah-palsu")
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Containers[0]
	if codes := issueCodes(c.Issues); !slices.Equal(codes, []string{IssueInitDead}) {
		t.Errorf("issues %v, want [%s]", codes, IssueInitDead)
	}
	if c.Recorded.Rejected.ID != "DebugRejectNotInit" {
		t.Errorf("rejected %+v, want DebugRejectNotInit", c.Recorded.Rejected)
	}
	if c.Init != nil {
		t.Errorf("init %+v, want none", c.Init)
	}
}
