// Package cgroups places containers in control groups and sets their memory, CPU
// and process-count limits. One Manager interface has two drivers: cgroup v1,
// used on v1 and hybrid hosts, and cgroup v2 (cgroups(7); the kernel's
// Documentation/admin-guide/cgroup-v1/ and cgroup-v2.rst). The driver is chosen
// once per process by Detect.
//
// Every group lives under a parent group named for the runtime's root folder
// (ParentName), so the groups of two root folders never collide:
//
//	v1: /sys/fs/cgroup/CONTROLLER/rt-lab-1a2b3c4d/NAME
//	v2: /sys/fs/cgroup/rt-lab-1a2b3c4d/NAME
package cgroups

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// Version is a cgroup hierarchy version.
type Version int

// The cgroup versions. The zero Version means "detect".
const (
	V1 Version = 1
	V2 Version = 2
)

func (v Version) String() string {
	switch v {
	case V1:
		return "v1"
	case V2:
		return "v2"
	}
	return "unknown"
}

// DefaultBase is the folder where the cgroup file systems are mounted.
const DefaultBase = "/sys/fs/cgroup"

// Controller names, as in /proc/PID/cgroup and the cgroupfs file names.
const (
	Memory  = "memory"
	CPU     = "cpu"
	CPUAcct = "cpuacct" // v1 only: CPU usage; v2 reports it in cpu.stat
	Pids    = "pids"
)

// CPU bandwidth constants, in microseconds (sched-bwc.rst in the kernel docs).
const (
	// CPUPeriod is the CFS period of every group.
	CPUPeriod = 100000
	// MinCPUQuota is the smallest quota the kernel accepts; a smaller one is
	// EINVAL.
	MinCPUQuota = 1000
)

// Limits are the limits of one group. A zero field means no limit.
type Limits struct {
	MemoryBytes int64 // memory.limit_in_bytes (v1) or memory.max (v2); swap is disabled
	CPUPercent  int   // percent of one CPU; 100 x number of CPUs uses them all
	Pids        int64 // maximum number of processes and threads
}

// CPUQuota returns the CFS quota in microseconds per CPUPeriod, or -1 for no
// limit: 25 percent is 25000.
func (l Limits) CPUQuota() int64 {
	if l.CPUPercent == 0 {
		return -1
	}
	return int64(l.CPUPercent) * CPUPeriod / 100
}

// Validate rejects negative limits and a CPU quota below MinCPUQuota before any
// file is written. With CPUPeriod 100000, 1 percent is exactly MinCPUQuota, so
// the quota check matters only if the period is ever made shorter.
func (l Limits) Validate() error {
	if l.MemoryBytes < 0 || l.CPUPercent < 0 || l.Pids < 0 {
		return usererr.New(usererr.Usage, "ErrCgroupNegativeLimit",
			"Memory", l.MemoryBytes, "CPU", l.CPUPercent, "Pids", l.Pids)
	}
	if q := l.CPUQuota(); q != -1 && q < MinCPUQuota {
		return usererr.New(usererr.Usage, "ErrCgroupQuotaTooSmall",
			"Quota", q, "Period", CPUPeriod, "Min", MinCPUQuota)
	}
	return nil
}

// Stats is one reading of a group's counters. A limit of 0 means no limit.
type Stats struct {
	MemoryUsage    int64 // bytes in use now, page cache included
	MemoryMaxUsage int64 // peak bytes; 0 where v2 lacks memory.peak (before Linux 5.19)
	MemoryLimit    int64

	CPUUsage      time.Duration // CPU time used by all processes since the group was made
	CPUQuota      int64         // microseconds per CPUPeriod; -1: no limit
	CPUPeriod     int64         // microseconds
	NrPeriods     uint64        // periods in which the group was runnable
	NrThrottled   uint64        // periods in which the group used up its quota
	ThrottledTime time.Duration // time the group waited for a new period

	PidsCurrent int64
	PidsMax     int64

	// OOMKills counts processes the OOM killer ended in the group: oom_kill in
	// memory.oom_control (v1, Linux 4.13 and later) or memory.events (v2).
	OOMKills uint64
}

// Manager controls one cgroup: a leaf group under a parent group. It holds no
// open files, so a Manager may be made and dropped freely.
type Manager interface {
	// Version returns the driver's cgroup version.
	Version() Version
	// Create makes the group (and its parent) and sets limits. A group left
	// from an earlier run is reused when it has no processes.
	Create(limits Limits) error
	// Exists reports whether the group exists in every hierarchy rt-lab uses.
	Exists() bool
	// AddProc moves process pid, with all its threads, into the group.
	AddProc(pid int) error
	// AddThread moves the single thread tid into the group, so that the
	// processes it forks start inside. Only v1 allows this; v2 returns
	// ErrThreadMove. The caller's goroutine must stay locked to that thread
	// until it exits, so Go ends the thread, and it must not be the main
	// thread, which Go parks instead of ending.
	AddThread(tid int) error
	// OpenDir opens the group's folder for clone3 CLONE_INTO_CGROUP
	// (SysProcAttr.UseCgroupFD with CgroupFD set to its Fd). Only v2 allows
	// this; v1 returns ErrCloneInto.
	OpenDir() (*os.File, error)
	// Set changes the limits of an existing group.
	Set(limits Limits) error
	// Stats reads the group's counters and limits.
	Stats() (Stats, error)
	// Procs lists the PIDs in the group.
	Procs() ([]int, error)
	// Path returns the group's folder for controller (Memory, CPU, CPUAcct,
	// Pids). On v2 every controller has the same folder.
	Path(controller string) string
	// Destroy removes the group, and the parent when it has no other groups.
	// It fails with ErrNotEmpty while processes remain and never kills them.
	// A group that does not exist is not an error.
	Destroy() error
}

// Config names the group a Manager controls.
type Config struct {
	Version Version // 0: Detect()
	Base    string  // cgroupfs mount folder; empty: DefaultBase
	Parent  string  // parent group, usually ParentName(root)
	Name    string  // leaf group, usually the container name
}

// Errors for operations a cgroup version does not offer.
var (
	ErrCloneInto  = errors.New("cgroup v1 cannot place a process at clone time (CLONE_INTO_CGROUP is v2 only)")
	ErrThreadMove = errors.New("cgroup v2 cannot move a single thread of a process into a domain group")
)

// ParentName returns the parent group name for the runtime root folder root:
// "rt-lab-" and the first 8 hex digits of the SHA-256 of the path.
func ParentName(root string) string {
	sum := sha256.Sum256([]byte(root))
	return "rt-lab-" + hex.EncodeToString(sum[:4])
}

// reservedNames are file names in a v1 group folder that contain no dot, so a
// group of that name would collide with the file. Every other cgroupfs file name
// contains a dot.
var reservedNames = []string{"tasks", "notify_on_release", "release_agent"}

// ValidateName rejects a group name that is not one plain path element or that
// could collide with a cgroupfs file: empty, ".", "..", names with '/', '.', NUL
// or a newline, and the reserved v1 file names.
func ValidateName(name string) error {
	bad := name == "" || strings.ContainsAny(name, "/.\x00\n") || len(name) > 255
	for _, r := range reservedNames {
		bad = bad || name == r
	}
	if bad {
		return usererr.New(usererr.Usage, "ErrCgroupName", "Name", name)
	}
	return nil
}

// ProcGroups maps a hierarchy key to the group path of a process, relative to
// the hierarchy's mount. The keys are the v1 controllers ("memory", "cpu",
// "cpuacct", "pids" and others), named v1 hierarchies ("name=systemd"), and ""
// for the v2 (unified) hierarchy. A co-mounted "cpu,cpuacct" line gives two keys.
type ProcGroups map[string]string

// ParseProcGroup parses the content of /proc/PID/cgroup, lines of
// "ID:CONTROLLERS:PATH" (cgroups(7)).
func ParseProcGroup(data string) (ProcGroups, error) {
	groups := ProcGroups{}
	for _, line := range strings.Split(data, "\n") {
		if line == "" {
			continue
		}
		_, rest, ok := strings.Cut(line, ":")
		controllers, path, ok2 := strings.Cut(rest, ":")
		if !ok || !ok2 || !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("parse /proc/PID/cgroup: invalid line %q", line)
		}
		if controllers == "" {
			groups[""] = path
			continue
		}
		for _, c := range strings.Split(controllers, ",") {
			groups[c] = path
		}
	}
	return groups, nil
}

// ProcGroup returns the groups of process pid, read from /proc/PID/cgroup.
func ProcGroup(pid int) (ProcGroups, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil, err
	}
	return ParseProcGroup(string(data))
}
