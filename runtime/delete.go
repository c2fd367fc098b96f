package runtime

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// Delete removes every trace of container name: its state, root file system,
// log, cgroup, veth pair and address, and the root's bridge when no other
// container has an address. It also takes the container out of its
// neighbours' /etc/hosts. A running container needs force, which stops it
// first. The house's mounts live only in its own mount namespace, which the
// kernel frees when its last process exits, so no unmount is needed on the
// host.
//
// A container whose state file cannot be read (ErrContainerBroken) is removed
// only with force, and so is a folder that a create cut short left without a
// state file. With force, a name that has no folder but still holds an
// address (see OrphanAddress) has the address released. Delete then removes as much as it can. It stops the init found
// by its overlay and unmounts whatever is mounted under the folder on the host.
func (r *Runtime) Delete(name string, force bool) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	l, err := r.lock()
	if err != nil {
		return err
	}
	defer l.Unlock()
	step(opDelete, "locked")

	c, err := r.load(name)
	switch {
	case err == nil:
		if err := r.stopForDelete(c, force); err != nil {
			return err
		}
	case errors.Is(err, os.ErrNotExist):
		if _, orphan := r.OrphanAddress(name); orphan && force {
			return r.releaseNetwork(name)
		}
		if !r.Incomplete(name) {
			return usererr.New(usererr.Usage, "ErrContainerNotFound", "Name", name)
		}
		if !force {
			return usererr.New(usererr.Usage, "ErrContainerIncomplete", "Name", name, "Path", r.ContainerDir(name))
		}
		if err := r.stopUnrecorded(name); err != nil {
			return err
		}
	default:
		if !force {
			return brokenError(name, r.statePath(name), err)
		}
		if err := r.stopUnrecorded(name); err != nil {
			return err
		}
	}
	step(opDelete, "stopped")
	return r.remove(name)
}

// stopForDelete stops c when it runs and force allows it.
func (r *Runtime) stopForDelete(c *Container, force bool) error {
	pid, start, running, err := r.runningInit(c)
	if err != nil {
		return err
	}
	if running && !force {
		return usererr.New(usererr.Usage, "ErrDeleteRunning", "Name", c.Name)
	}
	return r.stopInit(c, pid, start, running, DefaultStopTimeout)
}

// stopUnrecorded stops the init of container name, which has no readable
// state file, when one runs on its overlay.
func (r *Runtime) stopUnrecorded(name string) error {
	pid, start, found, err := scanInit(r.UpperDir(name))
	if err != nil || !found {
		return err
	}
	if err := terminate(pid, start, DefaultStopTimeout, procfs.PIDs); err != nil {
		return usererr.Wrap(err, usererr.Failed, "ErrStopFailed", "Name", name)
	}
	return nil
}

// remove deletes what is left of stopped container name. The caller holds the
// lock.
//
// The folder goes before the address. A crash between the two leaves an
// address without a house, which blocks nothing (see houseExists), and which
// delete-container --force or recover-state releases. The other order would
// leave a house whose address a new house could get too.
func (r *Runtime) remove(name string) error {
	// A stopped house has no cgroup or veth pair unless a crash left them
	// behind.
	if err := r.removeCgroup(name); err != nil {
		return err
	}
	step(opDelete, "cgroup-removed")
	if err := r.disconnect(name, false); err != nil {
		return err
	}
	if err := r.unmountUnder(r.ContainerDir(name)); err != nil {
		return usererr.Wrap(err, usererr.Failed, "ErrDeleteFailed", "Name", name)
	}
	step(opDelete, "unmounted")
	// Remove the state file first, so a crash during the removal leaves a folder
	// without state, which the next create or delete --force cleans up.
	if err := os.Remove(r.statePath(name)); err != nil && !os.IsNotExist(err) {
		return err
	}
	step(opDelete, "state-removed")
	if err := os.RemoveAll(r.ContainerDir(name)); err != nil {
		return usererr.Wrap(err, usererr.Failed, "ErrDeleteFailed", "Name", name)
	}
	step(opDelete, "folder-removed")
	return r.releaseNetwork(name)
}

// releaseNetwork frees container name's address, which takes name out of the
// phone book, and removes the bridge when no house has one left. The
// caller holds the lock and has removed name's folder.
func (r *Runtime) releaseNetwork(name string) error {
	if err := r.disconnect(name, true); err != nil {
		return err
	}
	step(opDelete, "address-released")
	return nil
}

// OrphanAddress returns the address that name holds although it has no
// folder: the remains of a delete cut short, or of an older rt-lab whose
// rejected create kept the address. delete-container --force releases it.
func (r *Runtime) OrphanAddress(name string) (netip.Addr, bool) {
	if ValidateName(name) != nil || r.houseExists(name) {
		return netip.Addr{}, false
	}
	n, err := r.loadNetwork()
	if err != nil {
		return netip.Addr{}, false
	}
	a, ok, err := n.Allocation(name)
	if err != nil || !ok {
		return netip.Addr{}, false
	}
	return a.Address, true
}

// hostMountsUnder lists the mount points in rt-lab's mount namespace at or
// below dir, deepest first.
func hostMountsUnder(dir string) ([]string, error) {
	mounts, err := procfs.Mounts(os.Getpid())
	if err != nil {
		return nil, err
	}
	dir = filepath.Clean(dir)
	var under []string
	for _, m := range mounts {
		if m.MountPoint == dir || strings.HasPrefix(m.MountPoint, dir+"/") {
			under = append(under, m.MountPoint)
		}
	}
	slices.Reverse(under) // mountinfo lists a mount after the one it sits on
	return under, nil
}

// unmountUnder unmounts every mount at or below dir in rt-lab's mount
// namespace. rt-lab mounts nothing there itself, but a crash of another tool,
// or a user, may have.
func (r *Runtime) unmountUnder(dir string) error {
	mounts, err := hostMountsUnder(dir)
	if err != nil {
		return err
	}
	for _, m := range mounts {
		if err := unix.Unmount(m, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return &os.PathError{Op: "umount", Path: m, Err: err}
		}
	}
	return nil
}

// checkFolderUnused rejects the removal of container name's folder while
// something is mounted under it on the host or a running init uses its
// overlay.
func (r *Runtime) checkFolderUnused(name string) error {
	dir := r.ContainerDir(name)
	mounts, err := hostMountsUnder(dir)
	if err != nil {
		return err
	}
	if len(mounts) > 0 {
		return usererr.New(usererr.Usage, "ErrContainerFolderMounted", "Name", name, "Path", dir,
			"Mount", mounts[len(mounts)-1])
	}
	pid, _, found, err := scanInit(r.UpperDir(name))
	if err != nil {
		return err
	}
	if found {
		return usererr.New(usererr.Usage, "ErrContainerFolderInUse", "Name", name, "Path", dir, "PID", pid)
	}
	return nil
}
