package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// CreateOptions describe a new container.
type CreateOptions struct {
	Name        string
	Hostname    string // empty: the name
	MemoryBytes int64  // 0: no limit
	CPUPercent  int    // 0: no limit
	Pids        int64  // 0: DefaultPids
}

// Create records a new container and builds its root file system: an overlay
// upper folder holding the house's own /etc/hostname and /etc/hosts on top of the
// shared busybox base. It leaves nothing behind when it fails.
func (r *Runtime) Create(opts CreateOptions) (_ *Container, retErr error) {
	if err := ValidateName(opts.Name); err != nil {
		return nil, err
	}
	if opts.Hostname == "" {
		opts.Hostname = opts.Name
	}
	if err := ValidateHostname(opts.Hostname); err != nil {
		return nil, err
	}
	// The name becomes a cgroup folder, which must not collide with a v1
	// control file such as "tasks".
	if err := cgroups.ValidateName(opts.Name); err != nil {
		return nil, err
	}
	if err := checkLimits(opts.MemoryBytes, opts.CPUPercent, opts.Pids); err != nil {
		return nil, err
	}
	if opts.Pids == 0 {
		opts.Pids = DefaultPids
	}
	// Every house runs in a cgroup, so a host without a needed controller is
	// reported now rather than at the first start.
	if err := cgroups.CheckControllers(0, ""); err != nil {
		return nil, err
	}
	if err := r.checkRootPath(); err != nil {
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

	dir := r.ContainerDir(opts.Name)
	if _, err := os.Stat(r.statePath(opts.Name)); err == nil {
		return nil, usererr.New(usererr.Usage, "ErrContainerExists", "Name", opts.Name)
	}
	// A folder without state.json is a create that was cut short: it was never a
	// container, so it is removed and built again.
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}

	base, err := r.ensureBase(busybox)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(r.containersDir(), 0o755); err != nil {
		return nil, err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			os.RemoveAll(dir)
		}
	}()
	for _, d := range []string{filepath.Join(r.UpperDir(opts.Name), "etc"), r.workDir(opts.Name), r.rootfsDir(opts.Name)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	files := map[string]string{
		"etc/hostname": opts.Hostname + "\n",
		"etc/hosts":    hostsFile(opts.Hostname),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(r.UpperDir(opts.Name), name), []byte(content), 0o644); err != nil {
			return nil, err
		}
	}

	c := &Container{
		Name:        opts.Name,
		Hostname:    opts.Hostname,
		MemoryBytes: opts.MemoryBytes,
		CPUPercent:  opts.CPUPercent,
		Pids:        opts.Pids,
		Base:        base,
		Created:     time.Now().UTC().Truncate(time.Second),
		Status:      StatusStopped,
	}
	// The state file is written last: its presence marks a complete container.
	if err := r.save(c); err != nil {
		return nil, err
	}
	return c, nil
}

func hostsFile(hostname string) string {
	return fmt.Sprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t%s\n", hostname)
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
