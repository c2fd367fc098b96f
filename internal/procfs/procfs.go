// Package procfs reads the few /proc fields rt-lab needs: process start time,
// state, namespaced PIDs and namespace inodes. See proc(5).
package procfs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Root is the procfs mount to read; tests may point it elsewhere.
var Root = "/proc"

// Stat holds fields of /proc/PID/stat.
type Stat struct {
	PID       int
	Comm      string
	State     byte // R, S, D, Z, ...
	PPID      int
	StartTime uint64 // field 22: clock ticks after boot; with the PID it names one process
}

// ReadStat reads /proc/PID/stat below Root.
func ReadStat(pid int) (Stat, error) {
	st, err := ReadStatFile(fmt.Sprintf("%s/%d/stat", Root, pid))
	st.PID = pid
	return st, err
}

// ReadStatFile reads a /proc/PID/stat file at path, which may be below a proc
// mount other than Root. PID stays 0, because the file does not name the
// directory it is in.
func ReadStatFile(path string) (Stat, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Stat{}, err
	}
	st, err := ParseStat(data)
	if err != nil {
		return Stat{}, fmt.Errorf("parse %s: %w", path, err)
	}
	return st, nil
}

// ParseStat parses the text of a /proc/PID/stat file except the PID. The comm
// field may contain spaces and parentheses, so the fields after it are found
// from the last ')'.
func ParseStat(data []byte) (Stat, error) {
	open := bytes.IndexByte(data, '(')
	closing := bytes.LastIndexByte(data, ')')
	if open < 0 || closing < open {
		return Stat{}, errors.New("no comm field")
	}
	rest := strings.Fields(string(data[closing+1:]))
	// rest[0] is field 3 (state), so field N is rest[N-3].
	if len(rest) < 20 {
		return Stat{}, fmt.Errorf("%d fields", len(rest)+2)
	}
	st := Stat{Comm: string(data[open+1 : closing]), State: rest[0][0]}
	var err error
	if st.PPID, err = strconv.Atoi(rest[1]); err != nil {
		return Stat{}, fmt.Errorf("ppid: %w", err)
	}
	if st.StartTime, err = strconv.ParseUint(rest[19], 10, 64); err != nil {
		return Stat{}, fmt.Errorf("starttime: %w", err)
	}
	return st, nil
}

// Alive reports whether pid is a live process (not a zombie) that started at
// startTime, so a reused PID is never taken for the original process.
func Alive(pid int, startTime uint64) bool {
	if pid <= 0 {
		return false
	}
	st, err := ReadStat(pid)
	if err != nil {
		return false
	}
	return st.StartTime == startTime && st.State != 'Z' && st.State != 'X'
}

// NSpid returns the process's PID in each PID namespace it belongs to, outermost
// first (the NSpid line of /proc/PID/status). The last entry is its PID inside its
// own namespace: 1 for a namespace's init.
func NSpid(pid int) ([]int, error) {
	return ReadNSpidFile(fmt.Sprintf("%s/%d/status", Root, pid))
}

// ReadNSpidFile returns the NSpid line of a /proc/PID/status file at path,
// which may be below a proc mount other than Root.
func ReadNSpidFile(path string) ([]int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, "NSpid:")
		if !ok {
			continue
		}
		var ids []int
		for _, f := range strings.Fields(rest) {
			n, err := strconv.Atoi(f)
			if err != nil {
				return nil, fmt.Errorf("parse NSpid in %s: %w", path, err)
			}
			ids = append(ids, n)
		}
		return ids, nil
	}
	return nil, fmt.Errorf("%s has no NSpid line (kernel older than 4.1)", path)
}

// NSInode returns the inode number of namespace ns ("pid", "net", "uts", "ipc",
// "mnt", "user", "cgroup") of pid. Two processes share a namespace exactly when
// these inodes (on the nsfs device) are equal.
func NSInode(pid int, ns string) (uint64, error) {
	var st unix.Stat_t
	path := fmt.Sprintf("%s/%d/ns/%s", Root, pid, ns)
	if err := unix.Stat(path, &st); err != nil {
		return 0, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return st.Ino, nil
}

// SelfNSInode is NSInode for the calling process.
func SelfNSInode(ns string) (uint64, error) {
	return NSInode(os.Getpid(), ns)
}

// PIDs lists the numeric entries of /proc.
func PIDs() ([]int, error) {
	entries, err := os.ReadDir(Root)
	if err != nil {
		return nil, err
	}
	pids := make([]int, 0, len(entries))
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, n)
		}
	}
	return pids, nil
}

// ListPIDs returns the positive numeric entries of dir in ascending order: the
// PIDs that a proc mount at dir shows.
func ListPIDs(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil && n > 0 {
			pids = append(pids, n)
		}
	}
	slices.Sort(pids)
	return pids, nil
}

// Cmdline returns the NUL-separated argv of pid.
func Cmdline(pid int) ([]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("%s/%d/cmdline", Root, pid))
	if err != nil {
		return nil, err
	}
	data = bytes.TrimRight(data, "\x00")
	if len(data) == 0 {
		return nil, nil
	}
	return strings.Split(string(data), "\x00"), nil
}

// IsNotExist reports whether err means the process is gone.
func IsNotExist(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ESRCH)
}

// SignalHandled reports whether a signal sig sent to pid would reach it rather
// than be dropped, as the kernel drops signals without a handler sent to a pid
// namespace's init. That holds when pid has a handler for sig (SigCgt) or blocks
// it to collect it later (SigBlk). busybox init blocks its signals and collects
// them with sigtimedwait, and while it waits the kernel shows them as unblocked,
// so a process sleeping in sigtimedwait counts too.
func SignalHandled(pid int, sig unix.Signal) (bool, error) {
	handled, err := signalInMasks(pid, sig, "SigCgt", "SigBlk")
	if err != nil || handled {
		return handled, err
	}
	wchan, err := os.ReadFile(fmt.Sprintf("%s/%d/wchan", Root, pid))
	return err == nil && strings.Contains(string(wchan), "sigtimedwait"), nil
}

// SignalPending reports whether sig is pending for pid: queued for one of its
// threads (SigPnd) or for the whole process (ShdPnd) and not yet taken by a
// handler or sigtimedwait(2).
func SignalPending(pid int, sig unix.Signal) (bool, error) {
	return signalInMasks(pid, sig, "SigPnd", "ShdPnd")
}

// signalInMasks reports whether sig is set in the signal mask line first or
// second of /proc/PID/status. It fails unless the file has both lines.
func signalInMasks(pid int, sig unix.Signal, first, second string) (bool, error) {
	data, err := os.ReadFile(fmt.Sprintf("%s/%d/status", Root, pid))
	if err != nil {
		return false, err
	}
	bit := uint64(1) << (uint(sig) - 1)
	found := 0
	for _, line := range strings.Split(string(data), "\n") {
		key, rest, ok := strings.Cut(line, ":")
		if !ok || key != first && key != second {
			continue
		}
		found++
		mask, err := strconv.ParseUint(strings.TrimSpace(rest), 16, 64)
		if err != nil {
			return false, fmt.Errorf("parse %s of %d: %w", key, pid, err)
		}
		if mask&bit != 0 {
			return true, nil
		}
	}
	if found < 2 {
		return false, fmt.Errorf("%s/%d/status has no %s or %s line", Root, pid, first, second)
	}
	return false, nil
}

// Wchan returns the kernel function pid sleeps in, such as "hrtimer_nanosleep",
// or "0" when it runs. Kernels without symbol names show "0" as well.
func Wchan(pid int) (string, error) {
	data, err := os.ReadFile(fmt.Sprintf("%s/%d/wchan", Root, pid))
	if err != nil {
		return "", err
	}
	return string(data), nil
}
