package checker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/locales"
	"github.com/rt-lab/rt-lab/runtime"
)

// The checks of this file compare two houses with each other and with the host:
// each house must have a world of its own, not just one apart from the host.

// pairProblem returns a failed Result when the parameter other is not a valid
// house name or names the same house as name: a mistake in the lesson file.
func pairProblem(p *locales.Printer, check string, with map[string]string) *Result {
	other := with["other"]
	if err := runtime.ValidateName(other); err != nil {
		return &Result{Evidence: []string{p.Tf("CheckBadParam", "Check", check, "Param", "other", "Value", other)},
			Expected: p.T("CheckExpectLessonFix", nil)}
	}
	if other == with["name"] {
		return &Result{Evidence: []string{p.Tf("CheckIsoSameHouse", "Check", check, "Name", other)},
			Expected: p.T("CheckExpectLessonFix", nil)}
	}
	return nil
}

// findPair finds the PID 1 of both houses of a pair check. On failure it
// returns the failed Result to hand back directly.
func findPair(env *Env, name, other string) (a, b *house, ev []string, fail *Result) {
	a, ev, fail = houseEvidence(env, name)
	if fail != nil {
		return nil, nil, nil, fail
	}
	b, evB, fail := houseEvidence(env, other)
	if fail != nil {
		fail.Evidence = append(ev, fail.Evidence...)
		return nil, nil, nil, fail
	}
	return a, b, append(ev, evB...), nil
}

// checkPIDIsolated checks that two houses each have their own PID namespace
// with their own PID 1, and that neither house's /proc lists a process of
// another PID namespace, the other house's included.
func checkPIDIsolated(env *Env, with map[string]string) Result {
	p := env.printer()
	name, other := with["name"], with["other"]
	if bad := pairProblem(p, "pid-isolated", with); bad != nil {
		return *bad
	}
	expected := p.Tf("CheckIsoExpectPID", "Name", name, "Other", other)
	a, b, ev, fail := findPair(env, name, other)
	if fail != nil {
		return *fail
	}

	passed := true
	for _, h := range []struct {
		name string
		h    *house
	}{{name, a}, {other, b}} {
		members, err := family(h.h.PIDNS)
		if err != nil {
			return Result{Evidence: append(ev, p.Tf("CheckProcError", "Error", err.Error())), Expected: expected}
		}
		ev = append(ev, p.Tf("CheckIsoPIDFamily", "Name", h.name, "PID", h.h.PID,
			"NS", nsLabel("pid", h.h.PIDNS), "Family", formatFamily(members)))

		listed, strangers, err := foreignProcesses(h.h)
		if err != nil {
			ev = append(ev, p.Tf("CheckProcError", "Error", err.Error()))
			passed = false
			continue
		}
		switch {
		case len(listed) == 0:
			ev = append(ev, p.Tf("CheckIsoProcEmpty", "Name", h.name))
			passed = false
		case len(strangers) > 0:
			ev = append(ev, p.Tf("CheckIsoProcStrangers", "Name", h.name, "PIDs", shortList(p, strangers)))
			passed = false
		default:
			ev = append(ev, p.Tf("CheckIsoProcOwnOnly", "Name", h.name, "Count", len(listed),
				"NS", nsLabel("pid", h.h.PIDNS)))
		}
	}
	if a.PIDNS == b.PIDNS {
		ev = append(ev, p.Tf("CheckIsoSharedNS", "Kind", "pid", "NS", nsLabel("pid", a.PIDNS)))
		passed = false
	}
	if !passed {
		return Result{Evidence: ev, Expected: expected}
	}
	return Result{Passed: true, Evidence: ev}
}

// foreignProcesses reads the house's own /proc through /proc/PID/root and
// returns the PIDs it lists, and those of them whose PID namespace is neither
// the house's nor nested below it, each as "PID (pid:[inode])". A proc mount
// lists the processes of the PID namespace it was mounted for and of the
// namespaces below it (pid_namespaces(7)), so a foreign entry means the house
// sees another family.
func foreignProcesses(h *house) (listed []int, strangers []string, err error) {
	dir := fmt.Sprintf("%s/%d/root/proc", procfs.Root, h.PID)
	listed, err = procfs.ListPIDs(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, pid := range listed {
		path := fmt.Sprintf("%s/%d/ns/pid", dir, pid)
		inode, inside, err := withinPIDNS(path, h.PIDNS)
		switch {
		case errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH):
			continue // the process ended since the folder was read
		case err != nil:
			// The host may hide some of its own processes even from root, and
			// those are never the house's.
			strangers = append(strangers, fmt.Sprintf("%d (%s)", pid, err))
		case !inside:
			strangers = append(strangers, fmt.Sprintf("%d (%s)", pid, nsLabel("pid", inode)))
		}
	}
	return listed, strangers, nil
}

// withinPIDNS opens the PID namespace file at path and reports its inode and
// whether it is the namespace ns or one nested below it. It walks up the
// parents with the NS_GET_PARENT ioctl (ioctl_nsfs(2)). An error ends the walk:
// EPERM above the checker's own namespace, ENOTTY on kernels before 4.9.
func withinPIDNS(path string, ns uint64) (uint64, bool, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, false, err
	}
	var first uint64
	for level := 0; ; level++ {
		var st unix.Stat_t
		err := unix.Fstat(fd, &st)
		if err != nil {
			unix.Close(fd)
			return 0, false, err
		}
		if level == 0 {
			first = st.Ino
		}
		if st.Ino == ns {
			unix.Close(fd)
			return first, true, nil
		}
		parent, err := unix.IoctlRetInt(fd, unix.NS_GET_PARENT)
		unix.Close(fd)
		if err != nil {
			return first, false, nil
		}
		fd = parent
	}
}

// maxListed is how many entries of a long list evidence shows.
const maxListed = 5

// shortList joins items, showing only the first maxListed of a longer list.
func shortList(p *locales.Printer, items []string) string {
	if len(items) <= maxListed {
		return strings.Join(items, ", ")
	}
	return p.Tf("CheckIsoListMore", "Items", strings.Join(items[:maxListed], ", "), "Count", len(items))
}

// checkOwnProc checks that /proc inside the house is a proc mount of the
// house's own PID namespace. Such a mount lists the house's init as its PID 1,
// so the process at /proc/1 inside must have the start time of the house's
// PID 1. A proc mount of the host or of another namespace has another PID 1.
func checkOwnProc(env *Env, with map[string]string) Result {
	p := env.printer()
	name := with["name"]
	expected := p.Tf("CheckIsoExpectOwnProc", "Name", name)
	h, ev, fail := houseEvidence(env, name)
	if fail != nil {
		return *fail
	}
	procErr := func(err error) Result {
		return Result{Evidence: append(ev, p.Tf("CheckProcError", "Error", err.Error())), Expected: expected}
	}

	mounts, err := procfs.Mounts(h.PID)
	if err != nil {
		return procErr(err)
	}
	m, ok := procfs.TopMount(mounts, "/proc")
	if !ok {
		ev = append(ev, p.Tf("CheckIsoNoProcMount", "Name", name))
		return Result{Evidence: ev, Expected: expected}
	}
	if m.FSType != "proc" {
		ev = append(ev, p.Tf("CheckIsoProcNotProc", "Name", name, "FSType", m.FSType))
		return Result{Evidence: ev, Expected: expected}
	}
	ev = append(ev, p.Tf("CheckIsoProcMounted", "Name", name))

	init, err := procfs.ReadStat(h.PID)
	if err != nil {
		return procErr(err)
	}
	path := fmt.Sprintf("%s/%d/root/proc/1/stat", procfs.Root, h.PID)
	inside, err := procfs.ReadStatFile(path)
	if err != nil {
		ev = append(ev, p.Tf("CheckProcDirError", "Path", path, "Error", err.Error()))
		return Result{Evidence: ev, Expected: expected}
	}
	ev = append(ev, p.Tf("CheckIsoProcInit", "Comm", inside.Comm, "Start", inside.StartTime,
		"PID", h.PID, "HouseStart", init.StartTime))
	if inside.StartTime != init.StartTime || inside.Comm != init.Comm {
		ev = append(ev, p.T("CheckIsoProcOtherInit", nil))
		return Result{Evidence: ev, Expected: expected}
	}
	ev = append(ev, p.Tf("CheckIsoProcOwnNS", "NS", nsLabel("pid", h.PIDNS)))
	return Result{Passed: true, Evidence: ev}
}

// checkFilePrivate checks that path exists inside house name, and exists
// neither inside house other nor on the host: each house has its own files.
func checkFilePrivate(env *Env, with map[string]string) Result {
	p := env.printer()
	name, other, path := with["name"], with["other"], with["path"]
	if bad := pairProblem(p, "file-private", with); bad != nil {
		return *bad
	}
	if path != filepath.Clean(path) || !filepath.IsAbs(path) || path == "/" {
		return Result{Evidence: []string{p.Tf("CheckBadParam", "Check", "file-private", "Param", "path", "Value", path)},
			Expected: p.T("CheckExpectLessonFix", nil)}
	}
	expected := p.Tf("CheckIsoExpectFile", "Name", name, "Other", other, "Path", path)
	a, b, ev, fail := findPair(env, name, other)
	if fail != nil {
		return *fail
	}

	inName, err := statInHouse(a.PID, path)
	if err != nil {
		return Result{Evidence: append(ev, p.Tf("CheckProcError", "Error", err.Error())), Expected: expected}
	}
	inOther, err := statInHouse(b.PID, path)
	if err != nil {
		return Result{Evidence: append(ev, p.Tf("CheckProcError", "Error", err.Error())), Expected: expected}
	}
	onHost, err := statPath(path)
	if err != nil {
		return Result{Evidence: append(ev, p.Tf("CheckProcError", "Error", err.Error())), Expected: expected}
	}

	ev = append(ev,
		describeFile(p, p.Tf("CheckIsoWhereHouse", "Name", name), path, inName),
		describeFile(p, p.Tf("CheckIsoWhereHouse", "Name", other), path, inOther),
		describeFile(p, p.T("CheckIsoWhereHost", nil), path, onHost))
	passed := inName != nil && inOther == nil && onHost == nil
	if inName == nil {
		ev = append(ev, p.Tf("CheckIsoFileMissing", "Name", name, "Path", path))
	}
	for _, seen := range []struct {
		where string
		st    *unix.Stat_t
	}{{p.Tf("CheckIsoWhereHouse", "Name", other), inOther}, {p.T("CheckIsoWhereHost", nil), onHost}} {
		switch {
		case seen.st == nil:
		case inName != nil && sameInode(inName, seen.st):
			ev = append(ev, p.Tf("CheckIsoFileShared", "Where", seen.where, "Path", path))
		default:
			ev = append(ev, p.Tf("CheckIsoFileAlsoThere", "Where", seen.where, "Path", path))
		}
	}
	if !passed {
		return Result{Evidence: ev, Expected: expected}
	}
	return Result{Passed: true, Evidence: ev}
}

// statInHouse returns the lstat(2) result of path as process pid sees it, or nil
// when nothing is there. openat2(2) with RESOLVE_IN_ROOT keeps every step inside
// the process's root, so an absolute symbolic link in the house cannot point the
// checker at a host file.
func statInHouse(pid int, path string) (*unix.Stat_t, error) {
	rootPath := fmt.Sprintf("%s/%d/root", procfs.Root, pid)
	root, err := unix.Open(rootPath, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: rootPath, Err: err}
	}
	defer unix.Close(root)
	how := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := unix.Openat2(root, strings.TrimPrefix(path, "/"), &how)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return nil, nil
	}
	if err != nil {
		return nil, &os.PathError{Op: "openat2 in " + rootPath, Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &os.PathError{Op: "fstat", Path: rootPath + path, Err: err}
	}
	return &st, nil
}

// statPath returns the lstat(2) result of path on the host, or nil when nothing
// is there.
func statPath(path string) (*unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Lstat(path, &st)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return nil, nil
	}
	if err != nil {
		return nil, &os.PathError{Op: "lstat", Path: path, Err: err}
	}
	return &st, nil
}

func sameInode(a, b *unix.Stat_t) bool { return a.Dev == b.Dev && a.Ino == b.Ino }

// describeFile formats an evidence line: whether path exists at where, and
// its type and size when it does.
func describeFile(p *locales.Printer, where, path string, st *unix.Stat_t) string {
	if st == nil {
		return p.Tf("CheckIsoFileAbsent", "Where", where, "Path", path)
	}
	kind := "CheckIsoKindOther"
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		kind = "CheckIsoKindFile"
	case unix.S_IFDIR:
		kind = "CheckIsoKindDir"
	case unix.S_IFLNK:
		kind = "CheckIsoKindSymlink"
	}
	return p.Tf("CheckIsoFilePresent", "Where", where, "Path", path,
		"Kind", p.T(kind, nil), "Size", strconv.FormatInt(st.Size, 10))
}

// checkNSSeparate checks that houses name and other have different namespaces
// of kind ns, both different from the checker's own on the host.
func checkNSSeparate(env *Env, with map[string]string) Result {
	p := env.printer()
	name, other, kind := with["name"], with["other"], with["ns"]
	if bad := pairProblem(p, "ns-separate", with); bad != nil {
		return *bad
	}
	expected := p.Tf("CheckIsoExpectNSSeparate", "Name", name, "Other", other, "Kind", kind)
	a, b, ev, fail := findPair(env, name, other)
	if fail != nil {
		return *fail
	}

	var inodes [3]uint64
	var err error
	for i, pid := range []int{a.PID, b.PID, os.Getpid()} {
		if inodes[i], err = procfs.NSInode(pid, kind); err != nil {
			return Result{Evidence: append(ev, p.Tf("CheckProcError", "Error", err.Error())), Expected: expected}
		}
	}
	ev = append(ev, p.Tf("CheckIsoNSThree", "Kind", kind, "Name", name, "A", nsLabel(kind, inodes[0]),
		"Other", other, "B", nsLabel(kind, inodes[1]), "Host", nsLabel(kind, inodes[2])))
	passed := true
	if inodes[0] == inodes[1] {
		ev = append(ev, p.Tf("CheckIsoSharedNS", "Kind", kind, "NS", nsLabel(kind, inodes[0])))
		passed = false
	}
	for i, house := range []string{name, other} {
		if inodes[i] == inodes[2] {
			ev = append(ev, p.Tf("CheckIsoHostNS", "Name", house, "Kind", kind))
			passed = false
		}
	}
	if !passed {
		return Result{Evidence: ev, Expected: expected}
	}
	return Result{Passed: true, Evidence: ev}
}
