package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/fsutil"
	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/network"
)

// rebuildState writes a new state file for house name, whose file cannot be
// read or is missing, from its live init (see stateFromKernel). A house
// without a live init is not rebuilt: its memory, CPU and process limits
// lived only in the lost file, so a guess could silently drop them. Such a
// house is left for `delete-container --force`.
func (r *Runtime) rebuildState(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	_, err := r.load(name)
	if err == nil {
		return nil
	}
	pid, start, found, ferr := scanInit(r.UpperDir(name))
	if ferr != nil {
		return ferr
	}
	if !found {
		return usererr.Wrap(err, usererr.Failed, "ErrRecoverNoInit", "Name", name)
	}
	c, err := r.stateFromKernel(name, pid, start)
	if err != nil {
		return usererr.Wrap(err, usererr.Failed, "ErrRecoverRebuild", "Name", name)
	}
	return r.save(c)
}

// stateFromKernel builds the state of house name from its init pid: the
// shared base from the lowerdir of the overlay at the init's "/", the limits
// from the init's cgroup, the address from the root's network, the hostname
// from the house's etc/hostname and the creation time from its folder.
// Started is the time of the rebuild, not the init's start.
func (r *Runtime) stateFromKernel(name string, pid int, start uint64) (*Container, error) {
	root, err := procfs.RootMount(pid)
	if err != nil {
		return nil, err
	}
	lower, _ := root.Option("lowerdir")
	base := filepath.Base(lower)
	var userns *Container
	if fsutil.SameDir(lower, r.lowerDir(name)) {
		// A house with a user namespace: its overlay's lower layer is its own
		// folder, and the base it shows is recorded next to it.
		if userns, err = r.userNSFromKernel(name, pid); err != nil {
			return nil, err
		}
		base = userns.Base
	} else if filepath.Dir(lower) != filepath.Join(r.root, "base") {
		return nil, errors.New("the lowerdir " + lower + " of the house's overlay is not a base of this root")
	}
	fi, err := os.Stat(r.ContainerDir(name))
	if err != nil {
		return nil, err
	}
	c := &Container{
		Name:     name,
		Hostname: r.recordedHostname(name),
		Base:     base,
		Created:  fi.ModTime().UTC().Truncate(time.Second),
		PID:      pid,
		PIDStart: start,
		Started:  time.Now().UTC().Truncate(time.Second),
		Status:   StatusRunning,
	}
	if userns != nil {
		c.UserNS, c.IDBase, c.RootfsOwner = true, userns.IDBase, userns.RootfsOwner
	}
	// A group that cannot be read leaves the limits at their defaults: the
	// house is then recorded, and update-container can set them again.
	if m, err := cgroups.ForProcess(pid); err == nil {
		if st, err := m.Stats(); err == nil {
			c.MemoryBytes, c.Pids = st.MemoryLimit, st.PidsMax
			if st.CPUQuota > 0 && st.CPUPeriod > 0 {
				c.CPUPercent = int(st.CPUQuota * 100 / st.CPUPeriod)
			}
		}
	}
	if n, err := network.Load(r.root); err == nil {
		if a, ok, err := n.Allocation(name); err == nil && ok {
			c.Address = a.Address
		}
	}
	return c, nil
}

// recordedHostname returns the first line of house name's etc/hostname in its
// upper folder when it is a valid hostname, and the name otherwise.
func (r *Runtime) recordedHostname(name string) string {
	path := filepath.Join(r.UpperDir(name), "etc", "hostname")
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() || fi.Size() > 256 {
		return name
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return name
	}
	host, _, _ := strings.Cut(string(data), "\n")
	if ValidateHostname(host) != nil {
		return name
	}
	return host
}
