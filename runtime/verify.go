package runtime

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/fsutil"
	"github.com/rt-lab/rt-lab/internal/procfs"
)

// verifyInit reports why process pid, recorded with start time start, is not
// the init of the container whose overlay upper folder is upper, or returns nil
// when it is. The kernel must confirm three things: the process is alive with
// that start time, it is PID 1 of a pid namespace other than rt-lab's, and the
// mount at its "/" is an overlay with upperdir upper. A state file that was
// edited, or that outlived the container and names a reused PID, then never
// makes rt-lab signal or enter another process.
func verifyInit(pid int, start uint64, upper string) error {
	if !procfs.Alive(pid, start) {
		return fmt.Errorf("no live process %d started at tick %d", pid, start)
	}
	nspid, err := procfs.NSpid(pid)
	if err != nil {
		return err
	}
	if len(nspid) < 2 || nspid[len(nspid)-1] != 1 {
		return fmt.Errorf("process %d is not PID 1 of a pid namespace (NSpid %v)", pid, nspid)
	}
	ns, err := procfs.NSInode(pid, "pid")
	if err != nil {
		return err
	}
	self, err := procfs.SelfNSInode("pid")
	if err != nil {
		return err
	}
	if ns == self {
		return fmt.Errorf("process %d is in rt-lab's own pid namespace", pid)
	}
	root, err := procfs.RootMount(pid)
	if err != nil {
		return err
	}
	got, _ := root.Option("upperdir")
	if root.FSType != "overlay" || !fsutil.SameDir(got, upper) {
		return fmt.Errorf("root of process %d is %s with upperdir %q, not the overlay on %s", pid, root.FSType, got, upper)
	}
	// The PID may have been reused while the files above were read.
	if !procfs.Alive(pid, start) {
		return fmt.Errorf("process %d exited during the check", pid)
	}
	return nil
}

// findInit looks for the init of house name among the processes of the
// house's cgroup, for a house whose state file names no live init. The cost
// depends on the house's own processes, not on how many run on the machine.
//
// An init that runs is always in its house's group: on cgroup v2 it is cloned
// into the group, and on v1 it is forked from a thread that has joined the
// group (see startInGroup). The group cannot be removed while the init is in
// it, and root in a house cannot move the init out, because it has no
// CAP_SYS_ADMIN to mount a cgroupfs and its sysfs is read-only. Only root on
// the host can move the init to another group, and then findInit misses it.
// recover-state and the forced removal of a house without a readable state file
// use scanInit, which looks at every process. Every candidate still passes
// verifyInit.
func (r *Runtime) findInit(name string) (pid int, start uint64, found bool, err error) {
	if _, err := cgroups.Detect(); err != nil {
		// No cgroup file system: no house can have started here.
		return 0, 0, false, nil
	}
	m, err := r.Cgroup(name)
	if err != nil {
		return 0, 0, false, err
	}
	pids, err := m.Procs()
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, err
	}
	pid, start, found = pickInit(pids, r.UpperDir(name))
	return pid, start, found, nil
}

// scanInit looks at every process in /proc for the init of the house whose
// overlay upper folder is upper. Its cost grows with the number of processes
// on the machine, so only recovery paths use it (see findInit).
func scanInit(upper string) (pid int, start uint64, found bool, err error) {
	pids, err := procfs.PIDs()
	if err != nil {
		return 0, 0, false, err
	}
	pid, start, found = pickInit(pids, upper)
	return pid, start, found, nil
}

// pickInit returns the process among pids that verifyInit confirms as the
// init of the house whose overlay upper folder is upper. When several qualify
// (a pid namespace nested inside the house has the same root), the outermost
// wins, then the oldest. found is false when no process qualifies.
func pickInit(pids []int, upper string) (pid int, start uint64, found bool) {
	type candidate struct {
		pid, depth int
		start      uint64
	}
	var all []candidate
	for _, p := range pids {
		nspid, err := procfs.NSpid(p)
		if err != nil || len(nspid) < 2 || nspid[len(nspid)-1] != 1 {
			continue
		}
		st, err := procfs.ReadStat(p)
		if err != nil {
			continue
		}
		if verifyInit(p, st.StartTime, upper) == nil {
			all = append(all, candidate{p, len(nspid), st.StartTime})
		}
	}
	if len(all) == 0 {
		return 0, 0, false
	}
	best := slices.MinFunc(all, func(a, b candidate) int {
		if a.depth != b.depth {
			return a.depth - b.depth
		}
		if a.start != b.start {
			if a.start < b.start {
				return -1
			}
			return 1
		}
		return a.pid - b.pid
	})
	return best.pid, best.start, true
}
