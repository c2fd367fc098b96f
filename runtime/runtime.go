// Package runtime is rt-lab's container runtime: it builds a busybox root file
// system on an overlay, starts busybox init as PID 1 in new PID, mount, UTS, IPC
// and network namespaces, enters running containers, stops and deletes them. State
// lives under one root folder and every change happens under one exclusive lock.
package runtime

import (
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/rt-lab/rt-lab/internal/fsutil"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// Version is rt-lab's version, set at build time with -ldflags -X.
var Version = "0.1.0-dev"

// Options configure a Runtime.
type Options struct {
	Root    string // absolute state folder
	Busybox string // busybox binary to use; empty searches the system
}

// Runtime manages the containers of one root folder.
type Runtime struct {
	root    string
	busybox string
}

// New returns a runtime for opts.Root. It creates nothing until a change is made.
func New(opts Options) (*Runtime, error) {
	if !filepath.IsAbs(opts.Root) {
		return nil, usererr.New(usererr.Usage, "ErrRootInvalid", "Path", opts.Root)
	}
	return &Runtime{root: filepath.Clean(opts.Root), busybox: opts.Busybox}, nil
}

// Root returns the state folder.
func (r *Runtime) Root() string { return r.root }

// Status is a container's run state, computed from the kernel, never stored.
type Status string

// Container states.
const (
	StatusRunning Status = "running"
	StatusStopped Status = "stopped"
	// StatusBroken is a container whose state file cannot be read. Only List
	// returns it, with the reason in Container.Err.
	StatusBroken Status = "broken"
)

// StateVersion is the version of state.json; a newer file is rejected.
const StateVersion = 1

// Container is a container's recorded state (containers/NAME/state.json) plus its
// status.
type Container struct {
	Version     int       `json:"version"`
	Name        string    `json:"name"`
	Hostname    string    `json:"hostname"`
	MemoryBytes int64     `json:"memory_bytes,omitempty"`
	CPUPercent  int       `json:"cpu_percent,omitempty"`
	Pids        int64     `json:"pids,omitempty"`
	Base        string    `json:"base"` // id of the shared busybox base under base/
	Created     time.Time `json:"created"`
	// Address is the container's IPv4 address on its root's bridge, reserved
	// at create and released at delete. Containers created before rt-lab had a
	// network get one at their next start.
	Address netip.Addr `json:"address,omitzero"`
	// UserNS is set for a house with a user namespace of its own: uid and gid
	// 0 to 65535 inside are IDBase to IDBase+65535 on the host. IDBase is
	// 100000 + 65536*k, with k the smallest free one of the root's houses,
	// chosen at create under the root's lock (see allocateIDRange).
	UserNS bool   `json:"userns,omitempty"`
	IDBase uint32 `json:"id_base,omitempty"`
	// RootfsOwner says how the shared base appears owned by the house's root:
	// "idmapped" (an idmapped mount of the base as the overlay's lower layer) or
	// "chowned" (a per-house copy of the base owned by the range). Set at the
	// first start of a house with UserNS.
	RootfsOwner string `json:"rootfs_owner,omitempty"`
	// PID is the host PID of the container's init while it runs, and PIDStart its
	// start time (field 22 of /proc/PID/stat), so a reused PID is never mistaken for
	// the container.
	PID      int       `json:"pid,omitempty"`
	PIDStart uint64    `json:"pid_start,omitempty"`
	Started  time.Time `json:"started,omitzero"`

	Status Status `json:"-"`
	Err    error  `json:"-"` // the reason the state file cannot be read, with StatusBroken
}

// Paths under the root folder.
func (r *Runtime) containersDir() string { return filepath.Join(r.root, "containers") }
func (r *Runtime) lockPath() string      { return filepath.Join(r.root, "lock") }

// ContainerDir returns the folder of container name.
func (r *Runtime) ContainerDir(name string) string { return filepath.Join(r.containersDir(), name) }

// UpperDir returns the overlay upper folder of container name: the files the
// container changed. Its path appears in the container's /proc/PID/mountinfo.
func (r *Runtime) UpperDir(name string) string { return filepath.Join(r.ContainerDir(name), "upper") }

func (r *Runtime) workDir(name string) string   { return filepath.Join(r.ContainerDir(name), "work") }
func (r *Runtime) lowerDir(name string) string  { return filepath.Join(r.ContainerDir(name), "lower") }
func (r *Runtime) rootfsDir(name string) string { return filepath.Join(r.ContainerDir(name), "rootfs") }
func (r *Runtime) statePath(name string) string {
	return filepath.Join(r.ContainerDir(name), "state.json")
}
func (r *Runtime) logPath(name string) string { return filepath.Join(r.ContainerDir(name), "init.log") }

// BaseDir returns the folder of the shared read-only base with id.
func (r *Runtime) BaseDir(id string) string { return filepath.Join(r.root, "base", id) }

// lock takes the root's exclusive lock, creating the root folder if needed.
func (r *Runtime) lock() (*fsutil.Lock, error) {
	if err := os.MkdirAll(r.root, 0o755); err != nil {
		return nil, usererr.Wrap(err, usererr.Failed, "ErrRootCreate", "Path", r.root)
	}
	return fsutil.LockFile(r.lockPath(), true)
}
