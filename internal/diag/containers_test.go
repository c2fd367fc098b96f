package diag

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/network"
	"github.com/rt-lab/rt-lab/runtime"
)

// fakeHost is a fake /proc, cgroupfs and state folder for Inspect.
type fakeHost struct {
	t      *testing.T
	proc   *fakeProc
	cgBase string
	r      *runtime.Runtime
	links  fakeLinks
}

const (
	fakeBridge = "rt-br-test"
	fakeBase   = "b1"
)

func newFakeHost(t *testing.T) *fakeHost {
	t.Helper()
	dir := t.TempDir()
	r, err := runtime.New(runtime.Options{Root: filepath.Join(dir, "state")})
	if err != nil {
		t.Fatal(err)
	}
	h := &fakeHost{t: t, proc: newFakeProc(t), cgBase: filepath.Join(dir, "cgroup"), r: r, links: fakeLinks{}}
	for _, c := range []string{"memory", "cpu", "cpuacct", "pids"} {
		writeFiles(t, h.cgBase, map[string]string{c + "/cgroup.procs": "1\n"})
	}
	writeFiles(t, r.Root(), map[string]string{
		"base/" + fakeBase + "/bin/busybox": "",
		"network.json":                      fmt.Sprintf(`{"version":1,"subnet":"10.0.0.0/24","gateway":"10.0.0.1","bridge":%q}`, fakeBridge),
	})
	h.links[fakeBridge] = linkInfo{Type: "bridge", Up: true, Addrs: mustPrefixes("10.0.0.1/24")}
	h.proc.add(fakeProcess{PID: 1, NSpid: []int{1}, PidNS: "pid-host", MntNS: "mnt-host", Start: 1,
		Comm: "systemd", Cmdline: []string{"/sbin/init"}, Cgroup: v1CgroupFile("/"), Mountinfo: hostMountinfo()})
	return h
}

// house writes container name's folder and state file recording pid and start.
func (h *fakeHost) house(name string, pid int, start uint64) {
	h.t.Helper()
	state := fmt.Sprintf(`{"version":1,"name":%q,"hostname":%q,"base":%q,"created":"2026-01-01T00:00:00Z",`+
		`"memory_bytes":67108864,"cpu_percent":25,"pids":512,"pid":%d,"pid_start":%d}`, name, name, fakeBase, pid, start)
	writeFiles(h.t, h.r.ContainerDir(name), map[string]string{
		"state.json": state, "upper/etc/hostname": name + "\n", "work/.keep": "", "rootfs/.keep": "",
	})
}

// address records an allocation for name with link id.
func (h *fakeHost) addresses(allocs ...[3]string) {
	h.t.Helper()
	body := ""
	for i, a := range allocs {
		if i > 0 {
			body += ","
		}
		body += fmt.Sprintf(`%q:{"name":%q,"id":%q,"address":%q}`, a[0], a[0], a[1], a[2])
	}
	writeFiles(h.t, h.r.Root(), map[string]string{
		"network-addresses.json": `{"version":1,"subnet":"10.0.0.0/24","allocations":{` + body + `}}`,
	})
	// The phone book that create and start keep in step with the table.
	n, err := network.Load(h.r.Root())
	if err != nil {
		h.t.Fatal(err)
	}
	if err := n.UpdatePhoneBook(); err != nil {
		h.t.Fatal(err)
	}
}

// init adds a running house init with host PID pid and a shell as its child.
func (h *fakeHost) init(name string, pid int, start uint64) {
	h.t.Helper()
	ns := "pid-" + name
	group := "/" + cgroups.ParentName(h.r.Root()) + "/" + name
	mounts := houseMountinfo(h.r.UpperDir(name))
	h.proc.add(fakeProcess{PID: pid, NSpid: []int{pid, 1}, PidNS: ns, MntNS: "mnt-" + name, Start: start,
		Comm: "init", Cmdline: []string{"init"}, Cgroup: v1CgroupFile(group), Mountinfo: mounts})
	h.proc.add(fakeProcess{PID: pid + 1, NSpid: []int{pid + 1, 7}, PidNS: ns, MntNS: "mnt-" + name, Start: start + 5,
		Comm: "sh", Cmdline: []string{"/bin/sh"}, Cgroup: v1CgroupFile(group), Mountinfo: mounts})
}

// group creates name's cgroup with processes procs.
func (h *fakeHost) group(name, procs string) {
	fakeGroup(h.t, h.cgBase, "/"+cgroups.ParentName(h.r.Root())+"/"+name, procs)
}

func (h *fakeHost) inspect(name string) (*Report, error) {
	in := &Inspector{Runtime: h.r, Proc: h.proc.root, CgroupBase: h.cgBase, CgroupVersion: cgroups.V1, links: h.links}
	return in.Inspect(name)
}

func issueCodes(issues []Issue) []string {
	var codes []string
	for _, i := range issues {
		codes = append(codes, i.Code)
	}
	return codes
}

func TestDiagInspectFakeHouses(t *testing.T) {
	const name = "rumah"
	tests := []struct {
		name       string
		setup      func(h *fakeHost)
		wantKernel string
		wantIssues []string
	}{
		{"running and healthy", func(h *fakeHost) {
			h.house(name, 100, 5000)
			h.init(name, 100, 5000)
			h.group(name, "100\n101\n")
			h.addresses([3]string{name, "0000abcd", "10.0.0.2"})
			h.links["rt-v-0000abcd"] = linkInfo{Type: "veth", Master: fakeBridge, Up: true}
		}, KernelRunning, nil},
		{"stopped and healthy", func(h *fakeHost) {
			h.house(name, 0, 0)
			h.addresses([3]string{name, "0000abcd", "10.0.0.2"})
		}, KernelStopped, nil},
		{"init killed, cgroup and veth left", func(h *fakeHost) {
			h.house(name, 100, 5000)
			h.group(name, "")
			h.addresses([3]string{name, "0000abcd", "10.0.0.2"})
			h.links["rt-v-0000abcd"] = linkInfo{Type: "veth", Master: fakeBridge}
		}, KernelStopped, []string{IssueInitDead, IssueCgroupLeft, IssueVethLeft}},
		{"PID reused by a host process", func(h *fakeHost) {
			h.house(name, 1, 5000)
		}, KernelStopped, []string{IssueInitDead}},
		{"state says stopped, init lives", func(h *fakeHost) {
			h.house(name, 0, 0)
			h.init(name, 200, 7000)
			h.group(name, "200\n201\n")
		}, KernelRunning, []string{IssueInitUnrecorded}},
		{"wrong PID recorded", func(h *fakeHost) {
			h.house(name, 100, 5000)
			h.init(name, 200, 7000)
			h.group(name, "200\n201\n")
		}, KernelRunning, []string{IssueInitMismatch}},
		{"processes in the cgroup of a stopped house", func(h *fakeHost) {
			h.house(name, 0, 0)
			h.group(name, "300\n")
		}, KernelStopped, []string{IssueCgroupBusy}},
		{"init outside its cgroup", func(h *fakeHost) {
			h.house(name, 100, 5000)
			h.init(name, 100, 5000)
			writeFiles(h.t, h.proc.root, map[string]string{"100/cgroup": v1CgroupFile("/")})
			h.group(name, "101\n")
		}, KernelRunning, []string{IssueCgroupForeign}},
		{"running without its veth", func(h *fakeHost) {
			h.house(name, 100, 5000)
			h.init(name, 100, 5000)
			h.group(name, "100\n101\n")
			h.addresses([3]string{name, "0000abcd", "10.0.0.2"})
		}, KernelRunning, []string{IssueVethMissing}},
		{"veth off the bridge", func(h *fakeHost) {
			h.house(name, 100, 5000)
			h.init(name, 100, 5000)
			h.group(name, "100\n101\n")
			h.addresses([3]string{name, "0000abcd", "10.0.0.2"})
			h.links["rt-v-0000abcd"] = linkInfo{Type: "veth", Up: true}
		}, KernelRunning, []string{IssueVethDetached}},
		{"overlay mounted on the host", func(h *fakeHost) {
			h.house(name, 0, 0)
			leak := fmt.Sprintf("40 22 0:60 / /mnt/leak rw - overlay overlay rw,upperdir=%s,workdir=/w",
				escapeOption(h.r.UpperDir(name)))
			writeFiles(h.t, h.proc.root, map[string]string{"1/mountinfo": hostMountinfo(leak)})
		}, KernelStopped, []string{IssueRootfsMounted}},
		{"state file cut short", func(h *fakeHost) {
			h.house(name, 0, 0)
			writeFiles(h.t, h.r.ContainerDir(name), map[string]string{"state.json": `{"version":1,"na`})
		}, KernelStopped, []string{IssueStateUnreadable}},
		{"state file cut short while running", func(h *fakeHost) {
			h.house(name, 0, 0)
			h.init(name, 100, 5000)
			h.group(name, "100\n101\n")
			writeFiles(h.t, h.r.ContainerDir(name), map[string]string{"state.json": `{"version":1,"na`})
		}, KernelRunning, []string{IssueStateUnreadable}},
		{"folder without state file", func(h *fakeHost) {
			writeFiles(h.t, h.r.ContainerDir(name), map[string]string{"upper/etc/hostname": "x\n"})
		}, KernelStopped, []string{IssueStateMissing}},
		{"upper folder and base gone", func(h *fakeHost) {
			h.house(name, 0, 0)
			os.RemoveAll(h.r.UpperDir(name))
			os.RemoveAll(h.r.BaseDir(fakeBase))
		}, KernelStopped, []string{IssueRootfsMissing, IssueBaseMissing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newFakeHost(t)
			tt.setup(h)
			rep, err := h.inspect(name)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Containers) != 1 {
				t.Fatalf("got %d containers, want 1", len(rep.Containers))
			}
			c := rep.Containers[0]
			if c.Kernel != tt.wantKernel {
				t.Errorf("kernel state = %s, want %s", c.Kernel, tt.wantKernel)
			}
			if got := issueCodes(c.Issues); !slices.Equal(got, tt.wantIssues) {
				t.Errorf("issues = %v, want %v", got, tt.wantIssues)
			}
		})
	}
}

func TestDiagInspectRunningDetails(t *testing.T) {
	h := newFakeHost(t)
	h.house("rumah", 100, 5000)
	h.init("rumah", 100, 5000)
	h.group("rumah", "100\n101\n")
	h.addresses([3]string{"rumah", "0000abcd", "10.0.0.2"})
	h.links["rt-v-0000abcd"] = linkInfo{Type: "veth", Master: fakeBridge, Up: true}

	rep, err := h.inspect("rumah")
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Containers[0]
	if c.Init == nil || c.Init.PID != 100 || !c.Init.FromState || c.Init.Command != "init" {
		t.Errorf("init = %+v, want host PID 100 from the state file running init", c.Init)
	}
	want := []Process{{HostPID: 100, InnerPID: 1, Command: "init"}, {HostPID: 101, InnerPID: 7, Command: "/bin/sh"}}
	if !slices.Equal(c.Processes, want) {
		t.Errorf("processes = %+v, want %+v", c.Processes, want)
	}
	if c.Cgroup.Stats == nil {
		t.Fatal("no cgroup stats for a running house")
	}
	if c.Cgroup.Stats.MemoryLimit != 64<<20 || c.Cgroup.Stats.CPUQuota != 25000 || c.Cgroup.Stats.PidsMax != 512 {
		t.Errorf("stats = %+v, want memory limit 64 MiB, quota 25000, pids max 512", *c.Cgroup.Stats)
	}
	if !slices.Equal(c.Cgroup.Procs, []int{100, 101}) {
		t.Errorf("cgroup procs = %v, want [100 101]", c.Cgroup.Procs)
	}
	if c.Network == nil || c.Network.Address != "10.0.0.2" || !c.Network.OnBridge {
		t.Errorf("network = %+v, want 10.0.0.2 on the bridge", c.Network)
	}
	if len(c.Rootfs.Mounts) != 1 || c.Rootfs.Mounts[0].MountPoint != "/" {
		t.Errorf("rootfs mounts = %+v, want one at / inside the house", c.Rootfs.Mounts)
	}
}

func TestDiagInspectRejectReasons(t *testing.T) {
	tests := []struct {
		name   string
		pid    int
		start  uint64
		setup  func(h *fakeHost)
		reason string
	}{
		{"gone", 100, 5000, func(h *fakeHost) {}, "DebugRejectGone"},
		{"start time differs", 100, 4000, func(h *fakeHost) { h.init("rumah", 100, 5000) }, "DebugRejectStart"},
		{"host process", 1, 1, func(h *fakeHost) {}, "DebugRejectNotInit"},
		{"another house's init", 100, 5000, func(h *fakeHost) {
			h.init("rumah", 100, 5000)
			writeFiles(h.t, h.proc.root, map[string]string{"100/mountinfo": houseMountinfo("/elsewhere/upper")})
		}, "DebugRejectRoot"},
		{"zombie", 100, 5000, func(h *fakeHost) {
			h.proc.add(fakeProcess{PID: 100, NSpid: []int{100, 1}, PidNS: "pid-z", MntNS: "mnt-z", Start: 5000, State: 'Z', Comm: "init"})
		}, "DebugRejectGone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newFakeHost(t)
			h.house("rumah", tt.pid, tt.start)
			tt.setup(h)
			rep, err := h.inspect("rumah")
			if err != nil {
				t.Fatal(err)
			}
			c := rep.Containers[0]
			if c.Recorded.Rejected.ID != tt.reason {
				t.Errorf("rejected = %q, want %q", c.Recorded.Rejected.ID, tt.reason)
			}
		})
	}
}

func TestDiagInspectOrphans(t *testing.T) {
	h := newFakeHost(t)
	h.house("rumah", 0, 0)
	h.group("hantu", "4242\n")
	h.addresses([3]string{"rumah", "0000abcd", "10.0.0.2"}, [3]string{"hilang", "1111abcd", "10.0.0.3"})
	h.links["rt-v-0000abcd"] = linkInfo{Type: "veth", Master: fakeBridge} // rumah's, though it is stopped
	h.links["rt-v-deadbeef"] = linkInfo{Type: "veth", Master: fakeBridge}

	rep, err := h.inspect("")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{IssueCgroupOrphan, IssueAddressOrphan, IssueVethOrphan}
	if got := issueCodes(rep.Orphans); !slices.Equal(got, want) {
		t.Errorf("orphans = %v, want %v", got, want)
	}
	if rep.Healthy() {
		t.Error("report with orphans is healthy")
	}
	if got := issueCodes(rep.Containers[0].Issues); !slices.Equal(got, []string{IssueVethLeft}) {
		t.Errorf("rumah issues = %v, want [veth-left]", got)
	}

	one, err := h.inspect("rumah")
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Orphans) != 0 {
		t.Errorf("inspecting one house listed orphans %v", issueCodes(one.Orphans))
	}
}

func TestDiagInspectNetworkFileDamaged(t *testing.T) {
	h := newFakeHost(t)
	h.house("rumah", 0, 0)
	writeFiles(t, h.r.Root(), map[string]string{"network-addresses.json": "{\"version\":1,"})

	rep, err := h.inspect("")
	if err != nil {
		t.Fatal(err)
	}
	if rep.NetworkError == nil {
		t.Error("damaged network-addresses.json not reported")
	}
	if rep.Healthy() {
		t.Error("report with a damaged network file is healthy")
	}
	if c := rep.Containers[0]; c.Network != nil || !c.Healthy() {
		t.Errorf("rumah: network %+v, issues %v; want no network and no issues of its own", c.Network, issueCodes(c.Issues))
	}
}

func TestDiagInspectBadName(t *testing.T) {
	h := newFakeHost(t)
	h.house("rumah", 0, 0)
	tests := []struct {
		name string
		id   string
	}{
		{"rumah-hilang", "ErrContainerNotFound"},
		{"../etc", "ErrNameChar"},
		{"Rumah", "ErrNameChar"},
	}
	for _, tt := range tests {
		_, err := h.inspect(tt.name)
		if !usererr.Is(err, tt.id) || usererr.ExitCode(err) != usererr.ExitUsage {
			t.Errorf("Inspect(%q) error = %v, want usage error %s", tt.name, err, tt.id)
		}
	}
}

func TestDiagInspectEmptyRoot(t *testing.T) {
	h := newFakeHost(t)
	rep, err := h.inspect("")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Containers) != 0 || !rep.Healthy() {
		t.Errorf("empty root: %d containers, healthy %v; want none and healthy", len(rep.Containers), rep.Healthy())
	}
}
