package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// v2Controllers are the v2 controllers rt-lab enables; cpu.stat reports CPU
// usage without a cpuacct controller.
var v2Controllers = []string{Memory, CPU, Pids}

// v2 is the cgroup v2 driver: one group folder in the unified hierarchy.
type v2 struct {
	base   string
	parent string // parent folder; "" when unknown
	dir    string
	rmdir  func(string) error
	write  func(dir, name, value string) error
}

func newV2(base, parent, name string) *v2 {
	p := filepath.Join(base, parent)
	return &v2{base: base, parent: p, dir: filepath.Join(p, name), rmdir: unix.Rmdir, write: writeFile}
}

func (m *v2) Version() Version { return V2 }

func (m *v2) Path(controller string) string { return m.dir }

func (m *v2) Exists() bool { return exists(m.dir) }

func (m *v2) Create(limits Limits) (retErr error) {
	if err := limits.Validate(); err != nil {
		return err
	}
	if err := checkV2(m.base); err != nil {
		return err
	}
	if err := checkEmpty(m.dir); err != nil {
		return err
	}
	defer func() {
		if retErr != nil {
			m.Destroy()
		}
	}()
	// Controllers reach a group only when its parent enables them in
	// cgroup.subtree_control, so the root enables them for the parent and the
	// parent for the group. The kernel refuses this with EBUSY in a non-root group
	// that has processes of its own ("no internal processes" in cgroup-v2.rst),
	// which is why the parent never holds any.
	if err := m.enableControllers(m.base); err != nil {
		return err
	}
	if err := mkdir(m.parent); err != nil {
		return err
	}
	if err := m.enableControllers(m.parent); err != nil {
		return err
	}
	if err := mkdir(m.dir); err != nil {
		return err
	}
	return m.Set(limits)
}

// checkV2 fails when the root group at base does not offer a controller.
func checkV2(base string) error {
	available, err := readString(base, "cgroup.controllers")
	if err != nil {
		return err
	}
	for _, c := range v2Controllers {
		if !slices.Contains(strings.Fields(available), c) {
			return noController(c, filepath.Join(base, "cgroup.controllers"))
		}
	}
	return nil
}

// enableControllers adds the missing v2Controllers to dir's cgroup.subtree_control.
func (m *v2) enableControllers(dir string) error {
	enabled, err := readString(dir, "cgroup.subtree_control")
	if err != nil {
		return err
	}
	for _, c := range v2Controllers {
		if slices.Contains(strings.Fields(enabled), c) {
			continue
		}
		if err := m.write(dir, "cgroup.subtree_control", "+"+c); err != nil {
			return fmt.Errorf("enable the %s controller for the groups below %s: %w", c, dir, err)
		}
	}
	return nil
}

func (m *v2) AddProc(pid int) error {
	return m.write(m.dir, "cgroup.procs", strconv.Itoa(pid))
}

func (m *v2) AddThread(tid int) error { return ErrThreadMove }

func (m *v2) OpenDir() (*os.File, error) {
	return os.OpenFile(m.dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

func (m *v2) Set(limits Limits) error {
	if err := limits.Validate(); err != nil {
		return err
	}
	if err := m.setMemory(limits.MemoryBytes); err != nil {
		return err
	}
	quota := "max"
	if q := limits.CPUQuota(); q > 0 {
		quota = strconv.FormatInt(q, 10)
	}
	if err := m.write(m.dir, "cpu.max", quota+" "+strconv.Itoa(CPUPeriod)); err != nil {
		return err
	}
	return m.write(m.dir, "pids.max", pidsValue(limits.Pids))
}

// setMemory sets memory.max, and memory.swap.max to 0 where swap accounting
// exists. Unlike v1, v2 accepts a memory.max below usage: it reclaims and then
// OOM-kills processes in the group. To reject such a limit as v1 does, a limit
// below usage is first written to memory.high, which reclaims without killing.
// If usage still exceeds the limit, memory.high is reset and the limit rejected.
func (m *v2) setMemory(bytes int64) error {
	value, swap := "max", "max"
	if bytes > 0 {
		value, swap = strconv.FormatInt(bytes, 10), "0"
		usage, err := readInt(m.dir, "memory.current")
		if err != nil {
			return err
		}
		if usage > bytes {
			if err := m.reclaimTo(value, bytes); err != nil {
				return err
			}
		}
	}
	if err := m.write(m.dir, "memory.max", value); err != nil {
		return err
	}
	if !exists(filepath.Join(m.dir, "memory.swap.max")) {
		return nil
	}
	return m.write(m.dir, "memory.swap.max", swap)
}

func (m *v2) reclaimTo(value string, bytes int64) error {
	if err := m.write(m.dir, "memory.high", value); err != nil {
		return err
	}
	usage, err := readInt(m.dir, "memory.current")
	if rerr := m.write(m.dir, "memory.high", "max"); err == nil {
		err = rerr
	}
	if err != nil {
		return err
	}
	if usage > bytes {
		return memoryBusy(m.dir, bytes, usage)
	}
	return nil
}

func (m *v2) Stats() (Stats, error) {
	var s Stats
	var err error
	read := func(dst *int64, name string, f func(string, string) (int64, error)) {
		if err == nil {
			*dst, err = f(m.dir, name)
		}
	}
	read(&s.MemoryUsage, "memory.current", readInt)
	read(&s.MemoryLimit, "memory.max", readLimit)
	read(&s.PidsCurrent, "pids.current", readInt)
	read(&s.PidsMax, "pids.max", readLimit)
	if err != nil {
		return Stats{}, err
	}
	// memory.peak exists from Linux 5.19.
	if exists(filepath.Join(m.dir, "memory.peak")) {
		if s.MemoryMaxUsage, err = readInt(m.dir, "memory.peak"); err != nil {
			return Stats{}, err
		}
	}
	if s.CPUQuota, s.CPUPeriod, err = readCPUMax(m.dir); err != nil {
		return Stats{}, err
	}

	cpuStat, err := readKeyed(m.dir, "cpu.stat")
	if err != nil {
		return Stats{}, err
	}
	s.CPUUsage = time.Duration(cpuStat["usage_usec"]) * time.Microsecond
	s.NrPeriods, s.NrThrottled = cpuStat["nr_periods"], cpuStat["nr_throttled"]
	s.ThrottledTime = time.Duration(cpuStat["throttled_usec"]) * time.Microsecond

	events, err := readKeyed(m.dir, "memory.events")
	if err != nil {
		return Stats{}, err
	}
	s.OOMKills = events["oom_kill"]
	return s, nil
}

// readCPUMax parses cpu.max, "QUOTA PERIOD" with QUOTA "max" for no limit.
func readCPUMax(dir string) (quota, period int64, err error) {
	s, err := readString(dir, "cpu.max")
	if err != nil {
		return 0, 0, err
	}
	fields := strings.Fields(s)
	bad := &os.PathError{Op: "parse", Path: filepath.Join(dir, "cpu.max"), Err: fmt.Errorf("invalid value %q", s)}
	if len(fields) != 2 {
		return 0, 0, bad
	}
	if period, err = strconv.ParseInt(fields[1], 10, 64); err != nil {
		return 0, 0, bad
	}
	if fields[0] == "max" {
		return -1, period, nil
	}
	if quota, err = strconv.ParseInt(fields[0], 10, 64); err != nil {
		return 0, 0, bad
	}
	return quota, period, nil
}

func (m *v2) Procs() ([]int, error) { return readProcs(m.dir) }

func (m *v2) Destroy() error {
	if err := removeGroup(m.dir, m.rmdir); err != nil {
		return err
	}
	if m.parent == "" {
		return nil
	}
	return removeParent(m.parent, m.rmdir)
}
