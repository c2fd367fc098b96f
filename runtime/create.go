package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/network"
)

// CreateOptions describe a new container.
type CreateOptions struct {
	Name        string
	Hostname    string // empty: the name
	MemoryBytes int64  // 0: no limit
	CPUPercent  int    // 0: no limit
	Pids        int64  // 0: DefaultPids
	// Subnet is the root's subnet in CIDR form. It applies only while no
	// container of the root has an address; later a different value is a usage
	// error. Empty keeps the current subnet, or picks one (see openNetwork).
	Subnet string
	// NoUserNS makes a house that shares the host's user namespace, so root
	// inside is root on the host (create-container --userns=false). By default
	// every house gets a user namespace of its own; see userns_linux.go.
	NoUserNS bool
}

// Create records a new container and builds its root file system: an overlay
// upper folder holding the house's own /etc/hostname, and /etc/hosts as a link
// to the root's phone book, on top of the shared busybox base. It reserves the
// house's address on the root's bridge, creating the bridge at first use,
// which adds the house to the phone book. It leaves nothing behind when it
// fails.
func (r *Runtime) Create(opts CreateOptions) (_ *Container, retErr error) {
	if err := r.checkCreateOptions(&opts); err != nil {
		return nil, err
	}
	busybox, err := FindBusybox(r.busybox)
	if err != nil {
		return nil, err
	}

	l, err := r.lock()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	step(opCreate, "locked")

	if err := r.checkNameFree(opts.Name); err != nil {
		return nil, err
	}
	// The network comes first, so a subnet that is taken or in use rejects the
	// create before anything is built.
	sl, err := lockSubnets()
	if err != nil {
		return nil, err
	}
	defer sl.Unlock()
	n, err := r.openNetwork(opts.Subnet)
	if err != nil {
		return nil, err
	}
	if other, err := n.NameConflict(opts.Name, opts.Hostname); err != nil {
		return nil, err
	} else if other != "" {
		return nil, usererr.New(usererr.Usage, "ErrNameInPhoneBook", "Name", opts.Name,
			"Hostname", opts.Hostname, "Other", other)
	}
	step(opCreate, "network-opened")
	base, err := r.ensureBase(busybox)
	if err != nil {
		return nil, err
	}
	step(opCreate, "base-ready")
	dir := r.ContainerDir(opts.Name)
	if err := os.MkdirAll(r.containersDir(), 0o755); err != nil {
		return nil, err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	step(opCreate, "folder-made")
	defer func() {
		if retErr != nil {
			os.RemoveAll(dir)
		}
	}()
	var idBase uint32
	if !opts.NoUserNS {
		if idBase, err = r.allocateIDRange(); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{filepath.Join(r.UpperDir(opts.Name), "etc"), r.workDir(opts.Name), r.rootfsDir(opts.Name),
		r.lowerDir(opts.Name)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	hostname := filepath.Join(r.UpperDir(opts.Name), "etc", "hostname")
	if err := os.WriteFile(hostname, []byte(opts.Hostname+"\n"), 0o644); err != nil {
		return nil, err
	}
	if !opts.NoUserNS {
		// Root of the house's range owns its upper and work folders, so it can
		// change the house's files; the base gets the same owner by an idmapped
		// mount at start (see userns_linux.go).
		for _, d := range []string{r.UpperDir(opts.Name), r.workDir(opts.Name)} {
			if err := chownTree(d, idBase); err != nil {
				return nil, err
			}
		}
		if err := os.WriteFile(r.baseIDPath(opts.Name), []byte(base+"\n"), 0o644); err != nil {
			return nil, err
		}
	}
	step(opCreate, "files-written")

	c := &Container{
		Name:        opts.Name,
		Hostname:    opts.Hostname,
		MemoryBytes: opts.MemoryBytes,
		CPUPercent:  opts.CPUPercent,
		Pids:        opts.Pids,
		Base:        base,
		UserNS:      !opts.NoUserNS,
		IDBase:      idBase,
		Created:     time.Now().UTC().Truncate(time.Second),
		Status:      StatusStopped,
	}
	a, err := allocate(n, opts.Name, opts.Hostname)
	if err != nil {
		return nil, err
	}
	step(opCreate, "address-reserved")
	defer func() {
		if retErr != nil {
			r.disconnect(opts.Name, true)
		}
	}()
	c.Address = a.Address
	if err := r.linkHosts(c); err != nil {
		return nil, err
	}
	step(opCreate, "hosts-linked")
	// The state file is written last: its presence marks a complete container.
	if err := r.save(c); err != nil {
		return nil, err
	}
	step(opCreate, "state-saved")
	return c, nil
}

// checkCreateOptions validates opts and fills in the defaults, before anything
// is written.
func (r *Runtime) checkCreateOptions(opts *CreateOptions) error {
	if err := ValidateName(opts.Name); err != nil {
		return err
	}
	if opts.Hostname == "" {
		opts.Hostname = opts.Name
	}
	if err := ValidateHostname(opts.Hostname); err != nil {
		return err
	}
	// The name becomes a cgroup folder, which must not collide with a v1
	// control file such as "tasks".
	if err := cgroups.ValidateName(opts.Name); err != nil {
		return err
	}
	if err := checkLimits(opts.MemoryBytes, opts.CPUPercent, opts.Pids); err != nil {
		return err
	}
	if opts.Pids == 0 {
		opts.Pids = DefaultPids
	}
	if opts.Subnet != "" {
		if _, err := network.ParseSubnet(opts.Subnet); err != nil {
			return err
		}
	}
	// Every house runs in a cgroup, so a host without a needed controller is
	// reported now rather than at the first start.
	if err := cgroups.CheckControllers(0, ""); err != nil {
		return err
	}
	if !opts.NoUserNS {
		if err := checkUserNSSupport(); err != nil {
			return err
		}
	}
	return r.checkRootPath()
}

// checkNameFree rejects a name that a container, readable or broken, already
// has. A folder without state.json is a create that was cut short: it was
// never a container, so it is removed unless something is still mounted from
// it. The caller holds the lock.
func (r *Runtime) checkNameFree(name string) error {
	_, err := r.load(name)
	switch {
	case err == nil:
		return usererr.New(usererr.Usage, "ErrContainerExists", "Name", name)
	case !errors.Is(err, os.ErrNotExist):
		return usererr.Wrap(err, usererr.Usage, "ErrContainerExistsBroken", "Name", name, "Path", r.statePath(name))
	}
	if _, err := os.Lstat(r.ContainerDir(name)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := r.checkFolderUnused(name); err != nil {
		return err
	}
	return os.RemoveAll(r.ContainerDir(name))
}

// checkRootPath rejects a root folder whose path would break the overlay mount
// options, where ',' separates options and ':' separates lower folders.
func (r *Runtime) checkRootPath() error {
	if strings.ContainsAny(r.root, ",:\n\\") {
		return usererr.New(usererr.Usage, "ErrRootChars", "Path", r.root)
	}
	return nil
}

var errNotRunning = errors.New("container is not running")
