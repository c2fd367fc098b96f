package runtime

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/fsutil"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/network"
)

// RepairKind names one repair that Recover can make.
type RepairKind string

// Repairs of Recover. Name is a house name unless noted.
const (
	// RepairUnmount unmounts Target, a mount point below the containers
	// folder in rt-lab's own mount namespace. rt-lab never mounts there on
	// the host: a house's mounts live in its own namespace.
	RepairUnmount RepairKind = "unmount"
	// RepairRemoveCgroup removes group Name under the root's parent group
	// when no process is in it and no house with that name has an init.
	RepairRemoveCgroup RepairKind = "remove-cgroup"
	// RepairRemoveVeth removes the veth pair of house Name, which has no init.
	RepairRemoveVeth RepairKind = "remove-veth"
	// RepairMarkStopped clears the recorded PID of house Name, whose init died.
	RepairMarkStopped RepairKind = "mark-stopped"
	// RepairRecordInit records the live init of house Name, which the state
	// file does not name.
	RepairRecordInit RepairKind = "record-init"
	// RepairRebuildState writes a new state file for house Name, whose file is
	// unreadable or missing while its init runs (see stateFromKernel).
	RepairRebuildState RepairKind = "rebuild-state"
	// RepairRemoveFolder removes folder Name, which has no state file: a
	// create or a delete cut short. Its cgroup, veth and address go with it.
	RepairRemoveFolder RepairKind = "remove-folder"
	// RepairRemoveLink deletes Target, an rt-v- veth on the root's bridge that
	// belongs to no address.
	RepairRemoveLink RepairKind = "remove-link"
	// RepairReleaseAddress releases the address of Name, which has no folder.
	RepairReleaseAddress RepairKind = "release-address"
	// RepairRemoveTemp removes Target, a temporary file or folder of a write
	// cut short (see StaleTempFiles). Name is its house, or "".
	RepairRemoveTemp RepairKind = "remove-temp"
	// RepairPhoneBook rewrites the root's phone book from the address table.
	RepairPhoneBook RepairKind = "rewrite-phone-book"
)

// Repair is one change that Recover makes.
type Repair struct {
	Kind   RepairKind
	Name   string
	Target string
}

// RepairResult is the outcome of one repair. Done is false in a dry run and
// when Err is set.
type RepairResult struct {
	Repair Repair
	Done   bool
	Err    error
}

// Recover takes the root's lock, asks plan what to repair, and makes each
// repair in order. A failed repair does not stop the next ones. plan runs under
// the lock, so what it finds cannot change before the repairs run.
//
// Every repair checks again, under the lock and against the kernel, that what it
// changes is rt-lab's and unused: a live init on the house's overlay, a process
// in a group, a link that is not an rt-v- veth on this root's bridge or that an
// address names, or a folder with a state file makes it fail without a change.
// No process is ever signalled.
//
// With dryRun no repair is made and nothing changes: the lock is taken only
// when its file exists already.
func (r *Runtime) Recover(dryRun bool, plan func() ([]Repair, error)) ([]RepairResult, error) {
	l, err := r.recoverLock(dryRun)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	start := time.Now()

	repairs, err := plan()
	if err != nil {
		return nil, err
	}
	results := make([]RepairResult, len(repairs))
	for i, rep := range repairs {
		results[i].Repair = rep
		if dryRun {
			continue
		}
		results[i].Err = r.repair(rep, start)
		results[i].Done = results[i].Err == nil
	}
	if !dryRun {
		r.refreshPhoneBook()
	}
	return results, nil
}

// refreshPhoneBook rewrites the phone book when it differs from the address
// table, as after a crash between the writes of the two files. A failure is
// logged, because the next start repairs the phone book too.
func (r *Runtime) refreshPhoneBook() {
	n, err := r.loadNetwork()
	if errors.Is(err, network.ErrNotConfigured) {
		return
	}
	if err == nil {
		err = n.UpdatePhoneBook()
	}
	if err != nil {
		slog.Warn("phone book not updated", "root", r.root, "error", err)
	}
}

// recoverLock takes the root's lock. A dry run on a root that has no lock
// file yet takes none, so that it creates nothing.
func (r *Runtime) recoverLock(dryRun bool) (*fsutil.Lock, error) {
	if dryRun {
		if _, err := os.Stat(r.lockPath()); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
	}
	return r.lock()
}

// repair makes rep. start is when Recover took the lock.
func (r *Runtime) repair(rep Repair, start time.Time) error {
	switch rep.Kind {
	case RepairUnmount:
		return r.unmountLeftover(rep.Target)
	case RepairRemoveCgroup:
		return r.removeLeftoverCgroup(rep.Name)
	case RepairRemoveVeth:
		if err := r.checkNoInit(rep.Name); err != nil {
			return err
		}
		return r.disconnect(rep.Name, false)
	case RepairMarkStopped:
		return r.markStopped(rep.Name)
	case RepairRecordInit:
		return r.recordInit(rep.Name)
	case RepairRebuildState:
		return r.rebuildState(rep.Name)
	case RepairRemoveFolder:
		return r.removeFolder(rep.Name)
	case RepairRemoveLink:
		return r.removeOrphanLink(rep.Target)
	case RepairReleaseAddress:
		return r.releaseAddress(rep.Name)
	case RepairRemoveTemp:
		return r.removeTemp(rep.Name, rep.Target, start)
	case RepairPhoneBook:
		n, err := r.loadNetwork()
		if err != nil {
			return err
		}
		return n.UpdatePhoneBook()
	}
	return fmt.Errorf("unknown repair %q", rep.Kind)
}

// checkNoInit fails when an init runs on house name's overlay.
func (r *Runtime) checkNoInit(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	pid, _, found, err := scanInit(r.UpperDir(name))
	if err != nil {
		return err
	}
	if found {
		return usererr.New(usererr.Failed, "ErrRecoverInitLives", "Name", name, "PID", pid)
	}
	return nil
}

// unmountLeftover unmounts target, which must lie below the containers folder.
// A target that is no longer mounted is not an error.
func (r *Runtime) unmountLeftover(target string) error {
	target = filepath.Clean(target)
	if !strings.HasPrefix(target, r.containersDir()+"/") {
		return usererr.New(usererr.Failed, "ErrRecoverOutside", "Path", target, "Folder", r.containersDir())
	}
	mounts, err := hostMountsUnder(target)
	if err != nil {
		return err
	}
	if !slices.Contains(mounts, target) {
		return nil
	}
	if err := unix.Unmount(target, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return &os.PathError{Op: "umount", Path: target, Err: err}
	}
	return nil
}

// removeLeftoverCgroup removes group under the root's parent group. Destroy
// fails while a process is in the group and never kills one.
func (r *Runtime) removeLeftoverCgroup(group string) error {
	if ValidateName(group) == nil {
		if err := r.checkNoInit(group); err != nil {
			return err
		}
	}
	m, err := cgroups.New(cgroups.Config{Parent: cgroups.ParentName(r.root), Name: group})
	if err != nil {
		return err
	}
	if err := m.Destroy(); err != nil {
		return usererr.Wrap(err, usererr.Failed, "ErrCgroupRemove", "Name", group)
	}
	return nil
}

// markStopped clears the PID of house name when the kernel confirms that its
// init is gone.
func (r *Runtime) markStopped(name string) error {
	c, err := r.load(name)
	if err != nil {
		return brokenError(name, r.statePath(name), err)
	}
	if err := r.checkNoInit(name); err != nil {
		return err
	}
	if c.PID == 0 {
		return nil
	}
	c.PID, c.PIDStart, c.Started = 0, 0, time.Time{}
	return r.save(c)
}

// recordInit records the init that runs on house name's overlay.
func (r *Runtime) recordInit(name string) error {
	c, err := r.load(name)
	if err != nil {
		return brokenError(name, r.statePath(name), err)
	}
	if c.Status == StatusRunning {
		return nil
	}
	// recover-state looks at every process, so it also records an init that
	// root on the host moved out of the house's cgroup (see findInit).
	pid, start, found, err := scanInit(r.UpperDir(name))
	if err != nil {
		return err
	}
	if !found {
		return usererr.New(usererr.Failed, "ErrRecoverNoInit", "Name", name)
	}
	return r.recordFound(c, pid, start)
}

// removeFolder removes the folder of name when it has no state file, nothing
// is mounted under it and no init runs on its overlay, with the cgroup, veth
// and address of that name.
func (r *Runtime) removeFolder(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if _, err := os.Lstat(r.statePath(name)); !errors.Is(err, os.ErrNotExist) {
		return usererr.New(usererr.Failed, "ErrRecoverHasState", "Name", name, "Path", r.statePath(name))
	}
	fi, err := os.Lstat(r.ContainerDir(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return usererr.New(usererr.Failed, "ErrRecoverOutside", "Path", r.ContainerDir(name), "Folder", r.containersDir())
	}
	if err := r.checkFolderUnused(name); err != nil {
		return err
	}
	return r.remove(name)
}

// hostLinkPrefix starts the name of the host end of every house's veth pair.
var hostLinkPrefix = network.HostLinkName("")

// removeOrphanLink deletes link when it is an rt-v- veth on this root's bridge
// that no address of the root names.
func (r *Runtime) removeOrphanLink(link string) error {
	notOurs := usererr.New(usererr.Failed, "ErrRecoverLinkNotOurs", "Link", link)
	if !strings.HasPrefix(link, hostLinkPrefix) {
		return notOurs
	}
	n, err := network.Load(r.root)
	if err != nil {
		return err
	}
	l, err := netlink.LinkByName(link)
	if linkGone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	bridge, err := netlink.LinkByName(n.Config().Bridge)
	if err != nil || l.Type() != "veth" || l.Attrs().MasterIndex != bridge.Attrs().Index {
		return notOurs
	}
	all, err := n.Allocations()
	if err != nil {
		return err
	}
	for _, a := range all {
		if a.HostLink() == link {
			return usererr.New(usererr.Failed, "ErrRecoverLinkInUse", "Link", link, "Name", a.Name)
		}
	}
	if err := netlink.LinkDel(l); err != nil && !linkGone(err) {
		return fmt.Errorf("delete link %s: %w", link, err)
	}
	return nil
}

// linkGone reports whether err says that a link does not exist: netlink's
// lookup error, or ENODEV from a change to a link that went away.
func linkGone(err error) bool {
	var missing netlink.LinkNotFoundError
	return errors.As(err, &missing) || errors.Is(err, unix.ENODEV)
}

// releaseAddress releases the address of name, which must have no folder, and
// so takes it out of the phone book.
func (r *Runtime) releaseAddress(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if _, err := os.Lstat(r.ContainerDir(name)); !errors.Is(err, os.ErrNotExist) {
		return usererr.New(usererr.Failed, "ErrRecoverHouseExists", "Name", name, "Path", r.ContainerDir(name))
	}
	return r.disconnect(name, true)
}
