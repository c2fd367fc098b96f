package checker

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rt-lab/rt-lab/internal/fsutil"
	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/locales"
)

// house is a running container's PID 1 as the kernel shows it.
type house struct {
	PID       int    // host PID
	NSpid     []int  // PIDs from the host's namespace inward; the last is 1
	PIDNS     uint64 // inode of its pid namespace
	Comm      string
	Upper     string // upperdir= of the overlay mounted at its "/"
	FromState bool   // the recorded PID passed verification; no /proc scan was needed
}

// findHouse finds container name's PID 1. The PID recorded in the runtime's state
// is trusted only after the kernel confirms it: alive with the recorded start time,
// PID 1 of a pid namespace other than the checker's, with the container's overlay
// upper folder mounted at "/". Otherwise findHouse scans /proc for such a process,
// so an edited or stale state file never points the checks at another process and
// a container started by other means is still found. notes are evidence lines:
// why the record was rejected, or why nothing was found (then h is nil).
func findHouse(env *Env, name string) (h *house, notes []string) {
	p := env.printer()
	upper := env.Runtime.UpperDir(name)
	selfNS, err := procfs.SelfNSInode("pid")
	if err != nil {
		return nil, []string{p.Tf("CheckProcError", "Error", err.Error())}
	}

	c, err := env.Runtime.Get(name)
	switch {
	case err != nil && usererr.Is(err, "ErrContainerNotFound"):
		notes = append(notes, p.Tf("CheckNoRecord", "Name", name))
	case err != nil:
		notes = append(notes, p.Tf("CheckRecordUnreadable", "Name", name, "Error", usererr.Render(err, p)))
	case c.PID <= 0:
		notes = append(notes, p.Tf("CheckRecordStopped", "Name", name))
	case !procfs.Alive(c.PID, c.PIDStart):
		reason := p.Tf("CheckRejectStart", "PID", c.PID, "Start", c.PIDStart)
		notes = append(notes, p.Tf("CheckRecordRejected", "PID", c.PID, "Reason", reason))
	default:
		h, reason := verifyInit(p, c.PID, upper, selfNS)
		if h != nil {
			h.FromState = true
			return h, notes
		}
		notes = append(notes, p.Tf("CheckRecordRejected", "PID", c.PID, "Reason", reason))
	}

	h, err = scanForHouse(p, upper, selfNS)
	if err != nil {
		return nil, append(notes, p.Tf("CheckProcError", "Error", err.Error()))
	}
	if h == nil {
		return nil, append(notes, p.Tf("CheckNoInit", "Name", name, "Upper", upper))
	}
	return h, notes
}

// verifyInit checks that pid is PID 1 of a pid namespace other than selfNS whose
// root is an overlay with upperdir upper. It returns the house, or nil and the
// reason in p's language.
func verifyInit(p *locales.Printer, pid int, upper string, selfNS uint64) (*house, string) {
	st, err := procfs.ReadStat(pid)
	if err != nil || st.State == 'Z' || st.State == 'X' {
		return nil, p.Tf("CheckRejectGone", "PID", pid)
	}
	nspid, err := procfs.NSpid(pid)
	if err != nil {
		return nil, p.Tf("CheckProcError", "Error", err.Error())
	}
	if len(nspid) < 2 || nspid[len(nspid)-1] != 1 {
		return nil, p.Tf("CheckRejectNotInit", "NSpid", formatNSpid(nspid))
	}
	ns, err := procfs.NSInode(pid, "pid")
	if err != nil {
		return nil, p.Tf("CheckProcError", "Error", err.Error())
	}
	if ns == selfNS {
		return nil, p.Tf("CheckRejectHostNS", "NS", nsLabel("pid", ns))
	}
	m, err := procfs.RootMount(pid)
	if err != nil {
		return nil, p.Tf("CheckProcError", "Error", err.Error())
	}
	got, _ := m.Option("upperdir")
	if m.FSType != "overlay" || !fsutil.SameDir(got, upper) {
		return nil, p.Tf("CheckRejectRoot", "FSType", m.FSType, "Upper", got, "Want", upper)
	}
	return &house{PID: pid, NSpid: nspid, PIDNS: ns, Comm: st.Comm, Upper: got}, ""
}

// scanForHouse looks through every process for a pid namespace init whose root
// overlay has upperdir upper. When several match (a nested pid namespace inside
// the container has the same root), the outermost wins, then the oldest.
func scanForHouse(p *locales.Printer, upper string, selfNS uint64) (*house, error) {
	pids, err := procfs.PIDs()
	if err != nil {
		return nil, err
	}
	var found []*house
	var starts = map[int]uint64{}
	for _, pid := range pids {
		nspid, err := procfs.NSpid(pid)
		if err != nil || len(nspid) < 2 || nspid[len(nspid)-1] != 1 {
			continue
		}
		h, _ := verifyInit(p, pid, upper, selfNS)
		if h == nil {
			continue
		}
		if st, err := procfs.ReadStat(pid); err == nil {
			starts[pid] = st.StartTime
		}
		found = append(found, h)
	}
	if len(found) == 0 {
		return nil, nil
	}
	slices.SortFunc(found, func(a, b *house) int {
		if len(a.NSpid) != len(b.NSpid) {
			return len(a.NSpid) - len(b.NSpid)
		}
		if starts[a.PID] != starts[b.PID] {
			if starts[a.PID] < starts[b.PID] {
				return -1
			}
			return 1
		}
		return a.PID - b.PID
	})
	return found[0], nil
}

// member is one process of a container's pid namespace.
type member struct {
	HostPID  int
	InnerPID int // PID inside the container's pid namespace
	Comm     string
}

// family lists the processes whose pid namespace is ns, sorted by inner PID.
// Processes that exit during the scan are skipped.
func family(ns uint64) ([]member, error) {
	pids, err := procfs.PIDs()
	if err != nil {
		return nil, err
	}
	var out []member
	for _, pid := range pids {
		ino, err := procfs.NSInode(pid, "pid")
		if err != nil || ino != ns {
			continue
		}
		nspid, err := procfs.NSpid(pid)
		if err != nil || len(nspid) == 0 {
			continue
		}
		st, err := procfs.ReadStat(pid)
		if err != nil {
			continue
		}
		out = append(out, member{HostPID: pid, InnerPID: nspid[len(nspid)-1], Comm: programName(pid, st.Comm)})
	}
	slices.SortFunc(out, func(a, b member) int { return a.InnerPID - b.InnerPID })
	return out, nil
}

// programName is the name ps shows for pid: the base name of argv[0], falling
// back to comm for kernel threads and processes that cleared their arguments.
// comm alone misleads with busybox: a static busybox built with
// FEATURE_SH_STANDALONE runs applets such as sleep by executing /proc/self/exe,
// so their comm is "exe".
func programName(pid int, comm string) string {
	args, err := procfs.Cmdline(pid)
	if err != nil || len(args) == 0 || args[0] == "" {
		return comm
	}
	return filepath.Base(args[0])
}

// nsLabel formats a namespace the way readlink(/proc/PID/ns/KIND) shows it.
func nsLabel(kind string, inode uint64) string { return fmt.Sprintf("%s:[%d]", kind, inode) }

// formatNSpid formats an NSpid list as /proc/PID/status shows it.
func formatNSpid(ids []int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(id)
	}
	return strings.Join(parts, " ")
}

// formatFamily lists members as "1 init, 7 sh, 9 sleep", or "-" for none.
func formatFamily(members []member) string {
	if len(members) == 0 {
		return "-"
	}
	parts := make([]string, len(members))
	for i, m := range members {
		parts[i] = fmt.Sprintf("%d %s", m.InnerPID, m.Comm)
	}
	return strings.Join(parts, ", ")
}

// houseEvidence finds container name's PID 1 for a check that needs it running.
// On failure it returns the failed Result to hand back directly.
func houseEvidence(env *Env, name string) (*house, []string, *Result) {
	h, notes := findHouse(env, name)
	if h == nil {
		return nil, nil, &Result{
			Evidence: notes,
			Expected: env.printer().Tf("CheckExpectRunning", "Name", name),
		}
	}
	return h, notes, nil
}
