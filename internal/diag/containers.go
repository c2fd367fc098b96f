package diag

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/network"
	"github.com/rt-lab/rt-lab/runtime"
)

// Recorded states of a container's state file.
const (
	RecordedRunning    = "running"    // the file names an init PID
	RecordedStopped    = "stopped"    // the file names no PID
	RecordedUnreadable = "unreadable" // the file cannot be parsed
	RecordedMissing    = "missing"    // a folder without a state file
)

// Kernel states of a container: whether a verified init exists.
const (
	KernelRunning = "running"
	KernelStopped = "stopped"
)

// Container is the inspection result of one container: its record, its init,
// processes, cgroup, network and files.
type Container struct {
	Name      string     `json:"name"`
	Recorded  Recorded   `json:"recorded"`
	Kernel    string     `json:"kernel_state"` // KernelRunning or KernelStopped
	Init      *Init      `json:"init"`         // nil when no verified init exists
	Processes []Process  `json:"processes"`
	Cgroup    CgroupInfo `json:"cgroup"`
	Network   *NetInfo   `json:"network"` // nil without an address
	Rootfs    RootfsInfo `json:"rootfs"`
	// PhoneBookDetached is set when the running house's /etc/rt-lab is not
	// the root's phone book folder, as after that folder was removed and made
	// again: the house then reads a phone book that no longer changes.
	PhoneBookDetached bool `json:"phone_book_detached,omitempty"`
	// HostsUnlinked is set when the running house's /etc/hosts is not the
	// link to the phone book, as after root of the house removed it.
	HostsUnlinked bool    `json:"hosts_unlinked,omitempty"`
	Issues        []Issue `json:"-"`
}

// Healthy reports whether Inspect found no inconsistency.
func (c *Container) Healthy() bool { return len(c.Issues) == 0 }

// Recorded is the container's state file as written.
type Recorded struct {
	State    string  `json:"state"` // one of the Recorded* constants
	Path     string  `json:"path"`
	PID      int     `json:"pid"`
	PIDStart uint64  `json:"pid_start"`
	Error    Message `json:"-"` // why the file cannot be read, with RecordedUnreadable
	// Rejected is the reason the recorded PID is not the container's init. It
	// is zero when the PID is the init or when no PID is recorded.
	Rejected Message `json:"-"`
}

// Init is a container's PID 1, verified against the kernel.
type Init struct {
	PID       int    `json:"host_pid"`
	NSpid     []int  `json:"nspid"`
	Command   string `json:"command"`
	MountNS   uint64 `json:"mount_ns"`   // inode of its mount namespace
	FromState bool   `json:"from_state"` // the recorded PID; false when found by scanning /proc
}

// CgroupInfo describes the container's cgroup: the one its init is in, or for a
// stopped container the one the runtime would create.
type CgroupInfo struct {
	Paths map[string]string `json:"paths"` // controller -> folder
	// Expected is the memory folder the runtime gives the container; an init
	// in another group escapes its limits.
	Expected string         `json:"expected_path"`
	Exists   bool           `json:"exists"`
	Procs    []int          `json:"procs"`
	Stats    *cgroups.Stats `json:"-"`     // nil unless every folder exists
	Usage    *Usage         `json:"usage"` // Stats for JSON; nil with Stats
	Limits   Limits         `json:"recorded_limits"`
}

// Usage is the part of cgroups.Stats that `debug containers --json` prints. A
// limit of 0 means no limit.
type Usage struct {
	MemoryBytes      int64  `json:"memory_bytes"`
	MemoryMaxBytes   int64  `json:"memory_max_bytes"`
	MemoryLimitBytes int64  `json:"memory_limit_bytes"`
	CPUNanoseconds   int64  `json:"cpu_ns"`
	CPUQuotaMicros   int64  `json:"cpu_quota_us"` // -1: no limit
	CPUPeriodMicros  int64  `json:"cpu_period_us"`
	NrThrottled      uint64 `json:"nr_throttled"`
	Pids             int64  `json:"pids"`
	PidsMax          int64  `json:"pids_max"`
	OOMKills         uint64 `json:"oom_kills"`
}

func usageOf(s cgroups.Stats) *Usage {
	return &Usage{
		MemoryBytes: s.MemoryUsage, MemoryMaxBytes: s.MemoryMaxUsage, MemoryLimitBytes: s.MemoryLimit,
		CPUNanoseconds: int64(s.CPUUsage), CPUQuotaMicros: s.CPUQuota, CPUPeriodMicros: s.CPUPeriod,
		NrThrottled: s.NrThrottled, Pids: s.PidsCurrent, PidsMax: s.PidsMax, OOMKills: s.OOMKills,
	}
}

// Limits are the limits in the state file. 0 means no limit.
type Limits struct {
	MemoryBytes int64 `json:"memory_bytes"`
	CPUPercent  int   `json:"cpu_percent"`
	Pids        int64 `json:"pids"`
}

// NetInfo is the container's address and the host end of its veth pair.
type NetInfo struct {
	Address    string `json:"address"`
	Link       string `json:"link"`
	LinkExists bool   `json:"link_exists"`
	Bridge     string `json:"bridge"`
	OnBridge   bool   `json:"on_bridge"`
}

// RootfsInfo is the location of the container's files and the mounts of its
// overlay.
type RootfsInfo struct {
	Path        string     `json:"path"`
	Upper       string     `json:"upper"`
	UpperExists bool       `json:"upper_exists"`
	Base        string     `json:"base"` // the shared read-only lower folder; "" without a state file
	BaseExists  bool       `json:"base_exists"`
	Mounts      []MountRef `json:"mounts"`
}

// Report is the result of Inspect.
type Report struct {
	Root       string
	Containers []*Container
	// Orphans are rt-lab objects of this root that belong to no container:
	// cgroups, veths and addresses. Only an inspection of all containers looks
	// for them.
	Orphans []Issue
	// NetworkError is why network.json or network-addresses.json cannot be
	// read. The containers' addresses and veths are then unknown.
	NetworkError error
}

// Healthy reports whether every container is healthy and nothing is orphaned.
func (r *Report) Healthy() bool {
	for _, c := range r.Containers {
		if !c.Healthy() {
			return false
		}
	}
	return len(r.Orphans) == 0 && r.NetworkError == nil
}

// Inspector compares the containers of one root folder with the kernel. Empty
// fields mean the real host.
type Inspector struct {
	Runtime       *runtime.Runtime
	Proc          string          // procfs mount; default /proc
	CgroupBase    string          // cgroupfs folder; default cgroups.DefaultBase
	CgroupVersion cgroups.Version // 0 detects it at CgroupBase
	links         linkView        // nil: netlink
}

// Inspect inspects container name, or every container and the orphans when
// name is empty. A name with neither a folder nor a state file is a usage error.
// Inspect only reads: it never signals a process, whatever a state file
// contains.
func (in *Inspector) Inspect(name string) (*Report, error) {
	names, err := in.containerNames(name)
	if err != nil {
		return nil, err
	}
	in.fill()

	snap, err := takeSnapshot(procReader{root: in.Proc})
	if err != nil {
		return nil, usererr.Wrap(err, usererr.Environment, "ErrDebugNoProc", "Path", in.Proc)
	}
	rep := &Report{Root: in.Runtime.Root()}
	net, err := loadNetwork(rep.Root)
	if err != nil {
		rep.NetworkError = err
	}

	for _, n := range names {
		c := in.inspect(snap, net, n)
		assess(c)
		rep.Containers = append(rep.Containers, c)
	}
	if name == "" {
		rep.Orphans = in.orphans(net, names)
		if net != nil {
			if stale, err := net.PhoneBookStale(); err == nil && stale {
				rep.Orphans = append(rep.Orphans, issue(IssuePhoneBookStale,
					"Path", filepath.Join(network.PhoneBookDir(rep.Root), "hosts")))
			}
		}
	}
	return rep, nil
}

// fill sets the empty fields to the real host.
func (in *Inspector) fill() {
	if in.Proc == "" {
		in.Proc = "/proc"
	}
	if in.CgroupBase == "" {
		in.CgroupBase = cgroups.DefaultBase
	}
	if in.CgroupVersion == 0 {
		// A host without cgroups has no groups to report: the version stays 0
		// and the cgroup fields stay empty.
		in.CgroupVersion, _ = cgroups.DetectAt(in.CgroupBase)
	}
	if in.links == nil {
		in.links = netlinkView{}
	}
}

// loadNetwork returns root's network, or nil when root has none yet or its
// files cannot be read. Reading the addresses once here finds a damaged
// network-addresses.json, which later lookups would skip silently.
func loadNetwork(root string) (*network.Network, error) {
	net, err := network.Load(root)
	if errors.Is(err, network.ErrNotConfigured) {
		return nil, nil
	}
	if err == nil {
		_, err = net.Allocations()
	}
	if err != nil {
		return nil, err
	}
	return net, nil
}

// containerNames returns name alone, after checking that it exists, or every
// folder under ROOT/containers whose name is a valid container name.
func (in *Inspector) containerNames(name string) ([]string, error) {
	r := in.Runtime
	if name != "" {
		if err := runtime.ValidateName(name); err != nil {
			return nil, err
		}
		if _, err := os.Stat(r.ContainerDir(name)); errors.Is(err, os.ErrNotExist) {
			return nil, usererr.New(usererr.Usage, "ErrContainerNotFound", "Name", name)
		}
		return []string{name}, nil
	}
	entries, err := os.ReadDir(r.ContainersDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && runtime.ValidateName(e.Name()) == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

func (in *Inspector) inspect(snap *snapshot, net *network.Network, name string) *Container {
	r := in.Runtime
	c := &Container{
		Name:     name,
		Recorded: Recorded{Path: r.StatePath(name)},
		Kernel:   KernelStopped,
		Rootfs:   RootfsInfo{Path: r.RootfsDir(name), Upper: r.UpperDir(name), Mounts: []MountRef{}},
		// Empty lists rather than nil, so the JSON output has [] and not null.
		Processes: []Process{},
		Cgroup:    CgroupInfo{Procs: []int{}},
	}
	c.Rootfs.UpperExists = fileExists(c.Rootfs.Upper)
	c.Rootfs.Mounts = append(c.Rootfs.Mounts, snap.overlaysOf(c.Rootfs.Upper)...)
	state := in.readState(c)
	if state != nil {
		c.Rootfs.Base = r.BaseDir(state.Base)
		c.Rootfs.BaseExists = fileExists(c.Rootfs.Base)
	}
	in.findInit(snap, c)
	in.inspectCgroup(snap, c, state)
	if net != nil {
		c.Network = in.inspectNetwork(net, name)
		if c.Init != nil {
			houseRoot := filepath.Join(in.Proc, strconv.Itoa(c.Init.PID), "root")
			c.PhoneBookDetached = phoneBookDetached(houseRoot, network.PhoneBookDir(r.Root()))
			c.HostsUnlinked = hostsUnlinked(houseRoot)
		}
	}
	return c
}

// hostsUnlinked reports whether the house with root folder houseRoot has the
// phone book mount but an /etc/hosts that is not the link to it. A house of
// an older rt-lab keeps a file of its own and is never unlinked.
func hostsUnlinked(houseRoot string) bool {
	if _, err := os.Stat(filepath.Join(houseRoot, network.PhoneBookMount)); err != nil {
		return false
	}
	target, err := os.Readlink(filepath.Join(houseRoot, "etc", "hosts"))
	return err != nil || target != network.PhoneBookHosts
}

// phoneBookDetached reports whether the phone book folder that a house with
// root folder houseRoot (/proc/PID/root) sees is not book, the root's. A house
// of an older rt-lab, which has no /etc/rt-lab, is never detached.
func phoneBookDetached(houseRoot, book string) bool {
	seen, err := os.Stat(filepath.Join(houseRoot, network.PhoneBookMount))
	if err != nil {
		return false
	}
	want, err := os.Stat(book)
	return err != nil || !os.SameFile(seen, want)
}

// readState fills c.Recorded from the state file and returns the parsed state,
// or nil when there is none.
func (in *Inspector) readState(c *Container) *runtime.Container {
	if _, err := os.Stat(c.Recorded.Path); errors.Is(err, os.ErrNotExist) {
		c.Recorded.State = RecordedMissing
		return nil
	}
	st, err := in.Runtime.Get(c.Name)
	if err != nil {
		// The issue message already states that the state file cannot be
		// read, so the cause skips ErrContainerBroken, which repeats it.
		if inner := errors.Unwrap(err); inner != nil && usererr.Is(err, "ErrContainerBroken") {
			err = inner
		}
		c.Recorded.State, c.Recorded.Error = RecordedUnreadable, errorValue(err)
		return nil
	}
	c.Recorded.State, c.Recorded.PID, c.Recorded.PIDStart = RecordedStopped, st.PID, st.PIDStart
	if st.PID > 0 {
		c.Recorded.State = RecordedRunning
	}
	return st
}

// findInit verifies the recorded PID and, when that fails, scans for the
// container's init, so a live container is found even when its state file
// is wrong.
func (in *Inspector) findInit(snap *snapshot, c *Container) {
	var p *proc
	if c.Recorded.PID > 0 {
		p, c.Recorded.Rejected = snap.verify(c.Recorded.PID, c.Recorded.PIDStart, c.Rootfs.Upper)
	}
	fromState := p != nil
	if p == nil {
		p = snap.findInit(c.Rootfs.Upper)
	}
	if p == nil {
		return
	}
	c.Kernel = KernelRunning
	c.Init = &Init{PID: p.PID, NSpid: p.NSpid, Command: snap.command(p), MountNS: p.MntNS, FromState: fromState}
	c.Processes = snap.family(p.PidNS)
}

// inspectCgroup reads the group of c's init, found from /proc/PID/cgroup, or
// for a stopped container the group the runtime would use, to find leftovers.
func (in *Inspector) inspectCgroup(snap *snapshot, c *Container, state *runtime.Container) {
	if state != nil {
		c.Cgroup.Limits = Limits{MemoryBytes: state.MemoryBytes, CPUPercent: state.CPUPercent, Pids: state.Pids}
	}
	if in.CgroupVersion == 0 {
		return
	}
	want, err := in.expectedCgroup(c.Name)
	if err != nil {
		return
	}
	c.Cgroup.Expected = want.Path(cgroups.Memory)

	var m cgroups.Manager
	if c.Init != nil {
		groups, gerr := snap.reader.cgroups(c.Init.PID)
		if gerr == nil {
			m, err = cgroups.ForGroups(in.CgroupVersion, in.CgroupBase, groups)
		}
	}
	if err != nil {
		return
	}
	if m == nil {
		m = want
	}

	c.Cgroup.Paths = map[string]string{}
	all := true
	for _, ctrl := range in.controllers() {
		path := m.Path(ctrl)
		c.Cgroup.Paths[ctrl] = path
		if fileExists(path) {
			c.Cgroup.Exists = true
		} else {
			all = false
		}
	}
	if !c.Cgroup.Exists {
		return
	}

	if procs, err := m.Procs(); err == nil && procs != nil {
		c.Cgroup.Procs = procs
	}
	if all {
		if st, err := m.Stats(); err == nil {
			c.Cgroup.Stats, c.Cgroup.Usage = &st, usageOf(st)
		}
	}
}

// expectedCgroup returns the group the runtime gives container name.
func (in *Inspector) expectedCgroup(name string) (cgroups.Manager, error) {
	return cgroups.New(cgroups.Config{
		Version: in.CgroupVersion,
		Base:    in.CgroupBase,
		Parent:  cgroups.ParentName(in.Runtime.Root()),
		Name:    name,
	})
}

func (in *Inspector) inspectNetwork(net *network.Network, name string) *NetInfo {
	a, ok, err := net.Allocation(name)
	if err != nil || !ok {
		return nil
	}
	info := &NetInfo{Address: a.Address.String(), Link: a.HostLink(), Bridge: net.Config().Bridge}
	l, exists, err := in.links.Link(info.Link)
	if err == nil && exists {
		info.LinkExists = true
		info.OnBridge = l.Master == info.Bridge
	}
	return info
}

// controllers returns the controllers whose folders a group has.
func (in *Inspector) controllers() []string {
	if in.CgroupVersion == cgroups.V2 {
		return []string{cgroups.Memory, cgroups.CPU, cgroups.Pids}
	}
	return []string{cgroups.Memory, cgroups.CPU, cgroups.CPUAcct, cgroups.Pids}
}

// groupFolders lists the groups below the parent group of this root: group
// name -> its folders. On v1 a group has one folder per controller.
func (in *Inspector) groupFolders() map[string][]string {
	parent := cgroups.ParentName(in.Runtime.Root())
	var dirs []string
	switch in.CgroupVersion {
	case cgroups.V1:
		for _, ctrl := range in.controllers() {
			dirs = append(dirs, filepath.Join(in.CgroupBase, ctrl, parent))
		}
	case cgroups.V2:
		dirs = []string{filepath.Join(in.CgroupBase, parent)}
	}
	out := map[string][]string{}
	for _, dir := range dirs {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.IsDir() {
				out[e.Name()] = append(out[e.Name()], filepath.Join(dir, e.Name()))
			}
		}
	}
	return out
}
