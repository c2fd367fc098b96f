package checker

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/fsutil"
	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/network"
)

// checkHouseRecovered checks that house name exists and that the RT office's
// record agrees with the kernel, with nothing of a dead father left. Either its
// father lives and the record names him, or the house is stopped cleanly. A
// cleanly stopped house has no process with its overlay as "/", no group in
// any cgroup hierarchy, no phone cable (the host end of its veth pair) and no
// PID in its record. recover-state leaves a house in one of these states, and
// a later start keeps the check true.
func checkHouseRecovered(env *Env, with map[string]string) Result {
	p := env.printer()
	name := with["name"]
	res, fail := newResult(p)

	if !houseDirExists(env, name, res, fail) {
		res.Expected = p.Tf("CheckExpectRecovered", "Name", name)
		return *res
	}

	h, notes := findHouse(env, name)
	switch {
	case h != nil && h.FromState:
		res.Evidence = append(res.Evidence, p.Tf("CheckRecordVerified", "PID", h.PID))
	case h != nil:
		res.Evidence = append(res.Evidence, notes...)
		fail("CheckRecoverUnrecorded", "PID", h.PID)
	default:
		res.Evidence = append(res.Evidence, leftoverEvidence(env, name, fail)...)
		if c, err := env.Runtime.Get(name); err != nil {
			fail("CheckRecordUnreadable", "Name", name, "Error", usererr.Render(err, p))
		} else if c.PID != 0 {
			fail("CheckRecoverRecordPID", "Name", name, "PID", c.PID)
		} else {
			res.Evidence = append(res.Evidence, p.Tf("CheckRecordStopped", "Name", name))
		}
	}
	if !res.Passed {
		res.Expected = p.Tf("CheckExpectRecovered", "Name", name)
	}
	return *res
}

// checkHouseGone checks that house name was demolished without a trace: no
// folder, no process on its overlay, no cgroup, no address for the name, and
// no phone cable left on the root's bridge without an address.
func checkHouseGone(env *Env, with map[string]string) Result {
	p := env.printer()
	name := with["name"]
	res, fail := newResult(p)

	dir := env.Runtime.ContainerDir(name)
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		res.Evidence = append(res.Evidence, p.Tf("CheckRecoverNoFolder", "Path", dir))
	} else {
		fail("CheckRecoverFolderLeft", "Path", dir)
	}
	res.Evidence = append(res.Evidence, leftoverEvidence(env, name, fail)...)

	n, err := network.Load(env.Runtime.Root())
	switch {
	case errors.Is(err, network.ErrNotConfigured):
	case err != nil:
		fail("CheckRecoverNetError", "Error", usererr.Render(err, p))
	default:
		if a, ok, err := n.Allocation(name); err != nil {
			fail("CheckRecoverNetError", "Error", usererr.Render(err, p))
		} else if ok {
			fail("CheckRecoverAddressLeft", "Name", name, "Address", a.Address.String())
		} else {
			res.Evidence = append(res.Evidence, p.Tf("CheckRecoverNoAddress", "Name", name))
		}
		orphans, err := orphanLinks(n)
		switch {
		case err != nil:
			fail("CheckRecoverNetError", "Error", err.Error())
		case len(orphans) > 0:
			fail("CheckRecoverOrphanLinks", "Bridge", n.Config().Bridge, "Links", strings.Join(orphans, " "))
		}
	}
	if !res.Passed {
		res.Expected = p.Tf("CheckExpectGone", "Name", name)
	}
	return *res
}

// leftoverEvidence looks for what the father of house name leaves when he
// dies: processes on the house's overlay, the house's cgroup folders and its
// phone cable. It calls fail for each one found and returns the evidence of
// what is absent.
func leftoverEvidence(env *Env, name string, fail func(id string, kv ...any)) []string {
	p := env.printer()
	var ev []string
	upper := env.Runtime.UpperDir(name)
	if pids, err := processesOn(upper); err != nil {
		fail("CheckProcError", "Error", err.Error())
	} else if len(pids) > 0 {
		fail("CheckRecoverProcesses", "PIDs", strings.Join(pids, " "), "Upper", upper)
	} else {
		ev = append(ev, p.Tf("CheckRecoverNoProcess", "Upper", upper))
	}

	groups, err := cgroupFolders(env.Runtime.Root(), name)
	switch {
	case err != nil:
		fail("CheckProcError", "Error", err.Error())
	case len(groups) > 0:
		fail("CheckRecoverCgroupLeft", "Paths", strings.Join(groups, " "))
	default:
		ev = append(ev, p.Tf("CheckRecoverNoCgroup", "Group", cgroups.ParentName(env.Runtime.Root())+"/"+name))
	}

	if link, ok := hostLinkOf(env, name); ok {
		if _, err := netlink.LinkByName(link); err == nil {
			fail("CheckRecoverVethLeft", "Link", link)
		} else {
			ev = append(ev, p.Tf("CheckRecoverNoVeth", "Link", link))
		}
	}
	return ev
}

// processesOn lists the PIDs of the processes whose "/" is an overlay with
// upperdir upper.
func processesOn(upper string) ([]string, error) {
	pids, err := procfs.PIDs()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, pid := range pids {
		m, err := procfs.RootMount(pid)
		if err != nil {
			continue // exited, or a kernel thread without mounts
		}
		if got, _ := m.Option("upperdir"); m.FSType == "overlay" && fsutil.SameDir(got, upper) {
			out = append(out, strconv.Itoa(pid))
		}
	}
	return out, nil
}

// cgroupFolders lists the folders of group name under the root's parent group
// in every cgroup hierarchy mounted in the checker's mount namespace. The
// parent group's name comes from the root folder's path, never from a record.
func cgroupFolders(root, name string) ([]string, error) {
	mounts, err := procfs.Mounts(os.Getpid())
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range mounts {
		if m.FSType != "cgroup" && m.FSType != "cgroup2" {
			continue
		}
		dir := filepath.Join(m.MountPoint, cgroups.ParentName(root), name)
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			out = append(out, dir)
		}
	}
	return out, nil
}

// hostLinkOf returns the name of the host end of house name's veth pair from
// the root's address records. The callers ask the kernel whether it exists.
func hostLinkOf(env *Env, name string) (string, bool) {
	n, err := network.Load(env.Runtime.Root())
	if err != nil {
		return "", false
	}
	a, ok, err := n.Allocation(name)
	if err != nil || !ok {
		return "", false
	}
	return a.HostLink(), true
}

// cgroupVersion returns "2" when a cgroup2 file system is mounted at
// /sys/fs/cgroup and "1" when a tmpfs is, as on v1 and hybrid machines, where
// the controllers rt-lab uses sit in v1 hierarchies below it.
func cgroupVersion(env *Env) (string, []string, *Result) {
	p := env.printer()
	var st unix.Statfs_t
	err := unix.Statfs(cgroups.DefaultBase, &st)
	switch {
	case err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC:
		return "2", []string{p.Tf("CheckRecoverCgroupFS", "Path", cgroups.DefaultBase, "FS", "cgroup2", "Version", 2)}, nil
	case err == nil && st.Type == unix.TMPFS_MAGIC:
		return "1", []string{p.Tf("CheckRecoverCgroupFS", "Path", cgroups.DefaultBase, "FS", "tmpfs", "Version", 1)}, nil
	case err == nil:
		err = errors.New("neither cgroup2 nor tmpfs")
	}
	return "", nil, &Result{Evidence: []string{p.Tf("CheckRecoverNoCgroupFS", "Path", cgroups.DefaultBase, "Error", err.Error())},
		Expected: p.T("CheckExpectCgroupFS", nil)}
}

// orphanLinks returns n.OrphanLinks. A link dump that a concurrent change of
// the host's links interrupted (NLM_F_DUMP_INTR) may be incomplete, so it is
// repeated a few times before the error counts.
func orphanLinks(n *network.Network) ([]string, error) {
	for attempt := 1; ; attempt++ {
		orphans, err := n.OrphanLinks()
		if !errors.Is(err, netlink.ErrDumpInterrupted) || attempt == 5 {
			return orphans, err
		}
	}
}
