package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// v1Controllers are the v1 hierarchies rt-lab uses. Where cpu and cpuacct are
// mounted together, BASE/cpu and BASE/cpuacct are symlinks to one folder, and
// each step below simply runs twice on it.
var v1Controllers = []string{Memory, CPU, CPUAcct, Pids}

// v1 is the cgroup v1 driver: one group folder per controller hierarchy.
type v1 struct {
	base    string
	dirs    map[string]string // controller -> group folder
	parents map[string]string // controller -> parent folder; nil when unknown
	rmdir   func(string) error
	write   func(dir, name, value string) error
}

func newV1(base, parent, name string) *v1 {
	m := &v1{base: base, dirs: map[string]string{}, parents: map[string]string{}, rmdir: unix.Rmdir, write: writeFile}
	for _, c := range v1Controllers {
		m.parents[c] = filepath.Join(base, c, parent)
		m.dirs[c] = filepath.Join(m.parents[c], name)
	}
	return m
}

func (m *v1) Version() Version { return V1 }

func (m *v1) Path(controller string) string { return m.dirs[controller] }

func (m *v1) Exists() bool {
	for _, c := range v1Controllers {
		if !exists(m.dirs[c]) {
			return false
		}
	}
	return true
}

func (m *v1) Create(limits Limits) (retErr error) {
	if err := limits.Validate(); err != nil {
		return err
	}
	if err := checkV1(m.base); err != nil {
		return err
	}
	for _, c := range v1Controllers {
		if err := checkEmpty(m.dirs[c]); err != nil {
			return err
		}
	}
	defer func() {
		if retErr != nil {
			m.Destroy()
		}
	}()
	for _, c := range v1Controllers {
		if err := mkdir(m.parents[c]); err != nil {
			return err
		}
		if err := mkdir(m.dirs[c]); err != nil {
			return err
		}
	}
	return m.Set(limits)
}

// checkV1 fails when a controller's hierarchy is not mounted below base.
func checkV1(base string) error {
	for _, c := range v1Controllers {
		root := filepath.Join(base, c)
		if !exists(filepath.Join(root, "cgroup.procs")) {
			return noController(c, root)
		}
	}
	return nil
}

func (m *v1) AddProc(pid int) error { return m.addTo("cgroup.procs", pid) }

// AddThread writes 0, which names the writing thread, when tid is the calling
// thread. The kernel then skips the process-wide cgroup_threadgroup_rwsem
// (cgroup_procs_write_start sets threadgroup_locked to pid || threadgroup),
// whose write lock waits for an RCU grace period: 6 to 16 ms for a written
// tid against 0.1 ms for 0 on the lab's Linux 6.18 VM.
func (m *v1) AddThread(tid int) error {
	if tid == unix.Gettid() {
		tid = 0
	}
	return m.addTo("tasks", tid)
}

// addTo writes id to file in every hierarchy: cgroup.procs moves a whole process,
// tasks a single thread.
func (m *v1) addTo(file string, id int) error {
	for _, c := range v1Controllers {
		if err := m.write(m.dirs[c], file, strconv.Itoa(id)); err != nil {
			return err
		}
	}
	return nil
}

func (m *v1) OpenDir() (*os.File, error) { return nil, ErrCloneInto }

func (m *v1) Set(limits Limits) error {
	if err := limits.Validate(); err != nil {
		return err
	}
	if err := m.setMemory(limits.MemoryBytes); err != nil {
		return err
	}
	cpu := m.dirs[CPU]
	if err := m.write(cpu, "cpu.cfs_period_us", strconv.Itoa(CPUPeriod)); err != nil {
		return err
	}
	if err := m.write(cpu, "cpu.cfs_quota_us", strconv.FormatInt(limits.CPUQuota(), 10)); err != nil {
		return err
	}
	return m.write(m.dirs[Pids], "pids.max", pidsValue(limits.Pids))
}

// setMemory sets memory.limit_in_bytes and, where swap accounting is on,
// memory.memsw.limit_in_bytes (memory plus swap) to the same value, so the group
// cannot swap. The kernel keeps memsw >= limit at every step, so a raise writes
// memsw first and a lower writes it last.
func (m *v1) setMemory(bytes int64) error {
	dir := m.dirs[Memory]
	value := "-1"
	if bytes > 0 {
		value = strconv.FormatInt(bytes, 10)
	}
	if !exists(filepath.Join(dir, "memory.memsw.limit_in_bytes")) {
		return m.writeMemory("memory.limit_in_bytes", value, bytes)
	}
	memsw, err := readLimit(dir, "memory.memsw.limit_in_bytes")
	if err != nil {
		return err
	}
	order := []string{"memory.limit_in_bytes", "memory.memsw.limit_in_bytes"}
	if bytes == 0 || (memsw != 0 && bytes > memsw) {
		order[0], order[1] = order[1], order[0]
	}
	for _, file := range order {
		if err := m.writeMemory(file, value, bytes); err != nil {
			return err
		}
	}
	return nil
}

// writeMemory writes a memory limit file. The kernel first reclaims memory to
// fit a lower limit and returns EBUSY when it cannot; the error then names the
// usage.
func (m *v1) writeMemory(file, value string, bytes int64) error {
	dir := m.dirs[Memory]
	err := m.write(dir, file, value)
	if !errors.Is(err, unix.EBUSY) {
		return err
	}
	usage, uerr := readInt(dir, "memory.usage_in_bytes")
	if uerr != nil {
		return err
	}
	return memoryBusy(dir, bytes, usage)
}

func (m *v1) Stats() (Stats, error) {
	var s Stats
	var err error
	mem, cpu, acct, pids := m.dirs[Memory], m.dirs[CPU], m.dirs[CPUAcct], m.dirs[Pids]
	read := func(dst *int64, dir, name string, f func(string, string) (int64, error)) {
		if err == nil {
			*dst, err = f(dir, name)
		}
	}
	read(&s.MemoryUsage, mem, "memory.usage_in_bytes", readInt)
	read(&s.MemoryMaxUsage, mem, "memory.max_usage_in_bytes", readInt)
	read(&s.MemoryLimit, mem, "memory.limit_in_bytes", readLimit)
	read(&s.CPUQuota, cpu, "cpu.cfs_quota_us", readInt)
	read(&s.CPUPeriod, cpu, "cpu.cfs_period_us", readInt)
	var usage int64
	read(&usage, acct, "cpuacct.usage", readInt)
	read(&s.PidsCurrent, pids, "pids.current", readInt)
	read(&s.PidsMax, pids, "pids.max", readLimit)
	if err != nil {
		return Stats{}, err
	}
	s.CPUUsage = time.Duration(usage)

	cpuStat, err := readKeyed(cpu, "cpu.stat")
	if err != nil {
		return Stats{}, err
	}
	s.NrPeriods, s.NrThrottled = cpuStat["nr_periods"], cpuStat["nr_throttled"]
	s.ThrottledTime = time.Duration(cpuStat["throttled_time"])

	// The oom_kill line exists from Linux 4.13; older kernels count no kills.
	oom, err := readKeyed(mem, "memory.oom_control")
	if err != nil {
		return Stats{}, err
	}
	s.OOMKills = oom["oom_kill"]
	return s, nil
}

// Procs returns the union of the group's processes in every hierarchy. A
// hierarchy where the group is missing, as after a Destroy cut short, adds
// none. The error wraps os.ErrNotExist only when the group is missing in all.
func (m *v1) Procs() ([]int, error) {
	var lists [][]int
	var missing error
	for _, c := range v1Controllers {
		pids, err := readProcs(m.dirs[c])
		if errors.Is(err, os.ErrNotExist) {
			missing = err
			continue
		}
		if err != nil {
			return nil, err
		}
		lists = append(lists, pids)
	}
	if len(lists) == 0 && missing != nil {
		return nil, missing
	}
	return unionPIDs(lists...), nil
}

func (m *v1) Destroy() error {
	for _, c := range v1Controllers {
		if err := removeGroup(m.dirs[c], m.rmdir); err != nil {
			return err
		}
	}
	for _, c := range v1Controllers {
		if p := m.parents[c]; p != "" {
			if err := removeParent(p, m.rmdir); err != nil {
				return err
			}
		}
	}
	return nil
}
