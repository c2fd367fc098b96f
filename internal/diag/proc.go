package diag

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/fsutil"
	"github.com/rt-lab/rt-lab/internal/procfs"
)

// procReader reads process files below a procfs mount, which tests replace
// with a fake tree. The package procfs always reads its global Root, so diag
// keeps its own small reader.
type procReader struct{ root string }

func (r procReader) path(pid int, name string) string {
	return filepath.Join(r.root, strconv.Itoa(pid), name)
}

func (r procReader) stat(pid int) (procfs.Stat, error) {
	return procfs.ReadStatFile(r.path(pid, "stat"))
}

// nspid returns the NSpid line of /proc/PID/status: the PID in each pid
// namespace, outermost first.
func (r procReader) nspid(pid int) ([]int, error) {
	return procfs.ReadNSpidFile(r.path(pid, "status"))
}

func (r procReader) cmdline(pid int) []string {
	data, err := os.ReadFile(r.path(pid, "cmdline"))
	data = bytes.TrimRight(data, "\x00")
	if err != nil || len(data) == 0 {
		return nil
	}
	return strings.Split(string(data), "\x00")
}

func (r procReader) cgroups(pid int) (cgroups.ProcGroups, error) {
	data, err := os.ReadFile(r.path(pid, "cgroup"))
	if err != nil {
		return nil, err
	}
	return cgroups.ParseProcGroup(string(data))
}

func (r procReader) mounts(pid int) ([]procfs.Mount, error) {
	f, err := os.Open(r.path(pid, "mountinfo"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return procfs.ParseMountinfo(f)
}

func (r procReader) pids() ([]int, error) {
	return procfs.ListPIDs(r.root)
}

// proc is one process of a snapshot.
type proc struct {
	PID   int
	NSpid []int
	PidNS uint64 // inode of its pid namespace
	MntNS uint64 // inode of its mount namespace
	Stat  procfs.Stat
}

// initOfNS reports whether p is PID 1 of a pid namespace below the host's.
func (p *proc) initOfNS() bool {
	return len(p.NSpid) >= 2 && p.NSpid[len(p.NSpid)-1] == 1
}

// snapshot is every process at one moment, read once and shared by all the
// containers of one inspection.
type snapshot struct {
	reader procReader
	selfNS uint64 // pid namespace of the inspecting process
	procs  []*proc
	byPID  map[int]*proc
	mounts map[string][]MountRef // overlay upperdir (cleaned) -> where it is mounted
	roots  map[int]procfs.Mount  // root mount by PID, read on first use
}

// takeSnapshot reads every process below r. Processes that exit while it reads
// are left out.
func takeSnapshot(r procReader) (*snapshot, error) {
	self, err := nsInode(filepath.Join(r.root, "self", "ns", "pid"))
	if err != nil {
		return nil, err
	}
	pids, err := r.pids()
	if err != nil {
		return nil, err
	}
	s := &snapshot{reader: r, selfNS: self, byPID: map[int]*proc{}, roots: map[int]procfs.Mount{}}
	for _, pid := range pids {
		p := &proc{PID: pid}
		var err error
		if p.Stat, err = r.stat(pid); err != nil {
			continue
		}
		if p.NSpid, err = r.nspid(pid); err != nil {
			continue
		}
		if p.PidNS, err = nsInode(r.path(pid, "ns/pid")); err != nil {
			continue
		}
		if p.MntNS, err = nsInode(r.path(pid, "ns/mnt")); err != nil {
			continue
		}
		s.procs = append(s.procs, p)
		s.byPID[pid] = p
	}
	s.mounts = s.scanOverlays()
	return s, nil
}

// MountRef is one place where a container's overlay is mounted.
type MountRef struct {
	PID        int    `json:"pid"`      // a process whose mountinfo lists the mount
	MountNS    uint64 `json:"mount_ns"` // inode of that process's mount namespace
	MountPoint string `json:"mount_point"`
}

// scanOverlays reads the mountinfo of one process per mount namespace and
// records every overlay mount by its upperdir.
//
// NOTE: mountinfo lists only the mounts below the process's root, so a mount
// hidden from the chosen process by chroot(2) is missed. Houses use pivot_root and the
// lowest PID of a namespace is usually its init, so this rarely matters.
func (s *snapshot) scanOverlays() map[string][]MountRef {
	out := map[string][]MountRef{}
	seen := map[uint64]bool{}
	for _, p := range s.procs {
		if seen[p.MntNS] {
			continue
		}
		mounts, err := s.reader.mounts(p.PID)
		if err != nil {
			continue
		}
		seen[p.MntNS] = true
		for _, m := range mounts {
			upper, ok := m.Option("upperdir")
			if m.FSType != "overlay" || !ok {
				continue
			}
			key := filepath.Clean(upper)
			out[key] = append(out[key], MountRef{PID: p.PID, MountNS: p.MntNS, MountPoint: m.MountPoint})
		}
	}
	return out
}

// overlaysOf returns the mounts whose upperdir is upper, by its cleaned path
// and by its path with symbolic links resolved.
func (s *snapshot) overlaysOf(upper string) []MountRef {
	keys := []string{filepath.Clean(upper)}
	if real, err := filepath.EvalSymlinks(upper); err == nil && real != keys[0] {
		keys = append(keys, real)
	}
	var out []MountRef
	for _, k := range keys {
		out = append(out, s.mounts[k]...)
	}
	return out
}

// verify checks that pid, recorded with start time start, is the init of the
// container whose overlay upper folder is upper. The process must be alive with
// that start time and PID 1 of a pid namespace other than the inspector's, with
// that overlay at its "/". verify returns the process, or nil and the reason.
func (s *snapshot) verify(pid int, start uint64, upper string) (*proc, Message) {
	p := s.byPID[pid]
	switch {
	case p == nil || p.Stat.State == 'Z' || p.Stat.State == 'X':
		return nil, msg("DebugRejectGone", "PID", pid)
	case p.Stat.StartTime != start:
		return nil, msg("DebugRejectStart", "PID", pid, "Start", start, "Got", p.Stat.StartTime)
	case !p.initOfNS():
		return nil, msg("DebugRejectNotInit", "PID", pid, "NSpid", formatInts(p.NSpid))
	case p.PidNS == s.selfNS:
		return nil, msg("DebugRejectHostNS", "PID", pid)
	}
	root, err := s.rootMount(pid)
	if err != nil {
		return nil, errorValue(err)
	}
	got, _ := root.Option("upperdir")
	if root.FSType != "overlay" || !fsutil.SameDir(got, upper) {
		return nil, msg("DebugRejectRoot", "PID", pid, "FSType", root.FSType, "Upper", got, "Want", upper)
	}
	return p, Message{}
}

// findInit looks through every process for the init of the container with
// overlay upper folder upper. When several qualify (a pid namespace nested in
// the container has the same root), the outermost wins, then the oldest.
func (s *snapshot) findInit(upper string) *proc {
	var found []*proc
	for _, p := range s.procs {
		if !p.initOfNS() || p.PidNS == s.selfNS {
			continue
		}
		if v, _ := s.verify(p.PID, p.Stat.StartTime, upper); v != nil {
			found = append(found, v)
		}
	}
	if len(found) == 0 {
		return nil
	}
	return slices.MinFunc(found, func(a, b *proc) int {
		if len(a.NSpid) != len(b.NSpid) {
			return len(a.NSpid) - len(b.NSpid)
		}
		if a.Stat.StartTime != b.Stat.StartTime {
			if a.Stat.StartTime < b.Stat.StartTime {
				return -1
			}
			return 1
		}
		return a.PID - b.PID
	})
}

// Process is one process of a container's pid namespace.
type Process struct {
	HostPID  int    `json:"host_pid"`
	InnerPID int    `json:"pid"` // PID inside the container
	Command  string `json:"command"`
}

// family lists the processes in pid namespace ns, sorted by inner PID.
func (s *snapshot) family(ns uint64) []Process {
	var out []Process
	for _, p := range s.procs {
		if p.PidNS != ns || p.Stat.State == 'Z' {
			continue
		}
		out = append(out, Process{HostPID: p.PID, InnerPID: p.NSpid[len(p.NSpid)-1], Command: s.command(p)})
	}
	slices.SortFunc(out, func(a, b Process) int { return a.InnerPID - b.InnerPID })
	return out
}

// command returns p's command line, or its comm in brackets as ps(1) shows a
// process without arguments.
func (s *snapshot) command(p *proc) string {
	if args := s.reader.cmdline(p.PID); len(args) > 0 {
		return strings.Join(args, " ")
	}
	return "[" + p.Stat.Comm + "]"
}

// rootMount returns the mount at "/" in pid's mountinfo. Of several stacked
// there, the last is on top.
func (s *snapshot) rootMount(pid int) (procfs.Mount, error) {
	if m, ok := s.roots[pid]; ok {
		return m, nil
	}
	mounts, err := s.reader.mounts(pid)
	if err != nil {
		return procfs.Mount{}, err
	}
	if m, ok := procfs.TopMount(mounts, "/"); ok {
		s.roots[pid] = m
		return m, nil
	}
	return procfs.Mount{}, fmt.Errorf("%s has no mount at /", s.reader.path(pid, "mountinfo"))
}

func formatInts(ids []int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(id)
	}
	return strings.Join(parts, " ")
}
