package checker

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rt-lab/rt-lab/internal/procfs"
)

// maxComm is the longest comm the kernel keeps (TASK_COMM_LEN 16, less the NUL);
// longer program names are cut to it.
const maxComm = 15

// memberTries and memberRetryDelay bound how long checkFamilyMember waits for a
// process that is still starting.
const (
	memberTries      = 10
	memberRetryDelay = 50 * time.Millisecond
)

// findMember returns the first process other than PID 1 named comm; a comm cut
// to the kernel's length matches the full name.
func findMember(members []member, comm string) (member, bool) {
	for _, m := range members {
		cut := len(comm) > maxComm && len(m.Comm) == maxComm && comm[:maxComm] == m.Comm
		if m.InnerPID > 1 && (m.Comm == comm || cut) {
			return m, true
		}
	}
	return member{}, false
}

// checkHouseRunning checks that the container's PID 1 runs: found and verified by
// findHouse, and its command is busybox init.
func checkHouseRunning(env *Env, with map[string]string) Result {
	p := env.printer()
	name := with["name"]
	h, ev, fail := houseEvidence(env, name)
	if fail != nil {
		return *fail
	}

	if h.FromState {
		ev = append(ev, p.Tf("CheckRecordVerified", "PID", h.PID))
	}
	ev = append(ev,
		p.Tf("CheckInitFound", "PID", h.PID, "Comm", h.Comm, "NS", nsLabel("pid", h.PIDNS), "NSpid", formatNSpid(h.NSpid)),
		p.Tf("CheckRootOverlay", "Upper", h.Upper))
	if h.Comm != "init" {
		ev = append(ev, p.Tf("CheckInitCommWrong", "Comm", h.Comm))
		return Result{Evidence: ev, Expected: p.Tf("CheckExpectInit", "Name", name)}
	}
	return Result{Passed: true, Evidence: ev}
}

// checkFamilyMember checks that a process named comm, other than PID 1, runs in the
// container's pid namespace.
func checkFamilyMember(env *Env, with map[string]string) Result {
	p := env.printer()
	name, comm := with["name"], with["comm"]
	h, ev, fail := houseEvidence(env, name)
	if fail != nil {
		return *fail
	}
	// A command started in the background a moment ago may still be the
	// forked shell that has not yet executed it, so a missing member is looked
	// for a few more times over about half a second.
	var members []member
	for try := 0; try < memberTries; try++ {
		if try > 0 {
			time.Sleep(memberRetryDelay)
		}
		var err error
		if members, err = family(h.PIDNS); err != nil {
			ev = append(ev, p.Tf("CheckProcError", "Error", err.Error()))
			return Result{Evidence: ev, Expected: p.Tf("CheckExpectMember", "Name", name, "Comm", comm)}
		}
		if m, ok := findMember(members, comm); ok {
			ev = append(ev, p.Tf("CheckMemberFound", "Comm", m.Comm, "Inner", m.InnerPID, "Host", m.HostPID,
				"NS", nsLabel("pid", h.PIDNS)))
			return Result{Passed: true, Evidence: ev}
		}
	}
	want := comm
	ev = append(ev, p.Tf("CheckMemberMissing", "Comm", want, "Family", formatFamily(members)))
	return Result{Evidence: ev, Expected: p.Tf("CheckExpectMember", "Name", name, "Comm", comm)}
}

// checkPsShowsFamily compares the PIDs in the container's own /proc (read through
// /proc/PID/root) with the inner PIDs of the host processes in its pid namespace.
// Equal sets mean ps inside the container shows its own processes and nothing
// else.
func checkPsShowsFamily(env *Env, with map[string]string) Result {
	p := env.printer()
	name := with["name"]
	expected := p.Tf("CheckExpectPs", "Name", name)
	h, ev, fail := houseEvidence(env, name)
	if fail != nil {
		return *fail
	}

	// Processes may start or exit between the reads, so the family is read before
	// and after the container's /proc: every process present both times must be
	// listed inside, and everything listed inside must be present at least once.
	before, err := family(h.PIDNS)
	if err != nil {
		return Result{Evidence: append(ev, p.Tf("CheckProcError", "Error", err.Error())), Expected: expected}
	}
	procDir := fmt.Sprintf("%s/%d/root/proc", procfs.Root, h.PID)
	inside, err := procfs.ListPIDs(procDir)
	if err != nil {
		return Result{Evidence: append(ev, p.Tf("CheckProcDirError", "Path", procDir, "Error", err.Error())),
			Expected: expected}
	}
	after, err := family(h.PIDNS)
	if err != nil {
		return Result{Evidence: append(ev, p.Tf("CheckProcError", "Error", err.Error())), Expected: expected}
	}

	ev = append(ev,
		p.Tf("CheckFamilyHost", "NS", nsLabel("pid", h.PIDNS), "Family", formatFamily(after)),
		p.Tf("CheckFamilyInside", "Path", procDir, "PIDs", formatPIDs(inside)))
	always, ever := intersectUnion(innerPIDs(before), innerPIDs(after))
	extra := difference(inside, ever)
	missing := difference(always, inside)
	switch {
	case len(inside) == 0:
		ev = append(ev, p.T("CheckProcEmpty", nil))
	case len(extra) > 0:
		ev = append(ev, p.Tf("CheckProcExtra", "PIDs", formatPIDs(extra)))
	case len(missing) > 0:
		ev = append(ev, p.Tf("CheckProcMissing", "PIDs", formatPIDs(missing)))
	default:
		ev = append(ev, p.T("CheckProcMatches", nil))
		return Result{Passed: true, Evidence: ev}
	}
	return Result{Evidence: ev, Expected: expected}
}

func innerPIDs(members []member) []int {
	out := make([]int, len(members))
	for i, m := range members {
		out[i] = m.InnerPID
	}
	slices.Sort(out)
	return out
}

// intersectUnion returns the sorted intersection and union of two sorted sets.
func intersectUnion(a, b []int) (both, either []int) {
	for _, x := range a {
		if slices.Contains(b, x) {
			both = append(both, x)
		}
	}
	either = slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(a, x) {
			either = append(either, x)
		}
	}
	slices.Sort(either)
	return both, either
}

// difference returns the elements of a that are not in b.
func difference(a, b []int) []int {
	var out []int
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// formatPIDs lists PIDs separated by spaces, or "-" for none.
func formatPIDs(pids []int) string {
	if len(pids) == 0 {
		return "-"
	}
	parts := make([]string, len(pids))
	for i, pid := range pids {
		parts[i] = strconv.Itoa(pid)
	}
	return strings.Join(parts, " ")
}
