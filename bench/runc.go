package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/housetools"
)

// runcSpec is the part of an OCI runtime configuration (config.json,
// runtime-spec 1.0) that the benchmark fills in.
type runcSpec struct {
	OCIVersion string      `json:"ociVersion"`
	Process    specProcess `json:"process"`
	Root       specRoot    `json:"root"`
	Hostname   string      `json:"hostname"`
	Mounts     []specMount `json:"mounts"`
	Linux      specLinux   `json:"linux"`
}

type specProcess struct {
	Terminal        bool                      `json:"terminal"`
	User            struct{ UID, GID uint32 } `json:"user"`
	Args            []string                  `json:"args"`
	Env             []string                  `json:"env"`
	Cwd             string                    `json:"cwd"`
	Capabilities    specCapabilities          `json:"capabilities"`
	NoNewPrivileges bool                      `json:"noNewPrivileges"`
}

type specCapabilities struct {
	Bounding  []string `json:"bounding"`
	Effective []string `json:"effective"`
	Permitted []string `json:"permitted"`
}

type specRoot struct {
	Path     string `json:"path"`
	Readonly bool   `json:"readonly"`
}

type specMount struct {
	Destination string   `json:"destination"`
	Type        string   `json:"type"`
	Source      string   `json:"source"`
	Options     []string `json:"options,omitempty"`
}

type specLinux struct {
	Namespaces    []specNamespace `json:"namespaces"`
	UIDMappings   []specIDMapping `json:"uidMappings,omitempty"`
	GIDMappings   []specIDMapping `json:"gidMappings,omitempty"`
	CgroupsPath   string          `json:"cgroupsPath"`
	Resources     specResources   `json:"resources"`
	MaskedPaths   []string        `json:"maskedPaths"`
	ReadonlyPaths []string        `json:"readonlyPaths"`
}

type specIDMapping struct {
	ContainerID uint32 `json:"containerID"`
	HostID      uint32 `json:"hostID"`
	Size        uint32 `json:"size"`
}

type specNamespace struct {
	Type string `json:"type"`
	Path string `json:"path,omitempty"`
}

type specResources struct {
	Memory *specMemory `json:"memory,omitempty"`
	CPU    *specCPU    `json:"cpu,omitempty"`
	Pids   *specPids   `json:"pids,omitempty"`
}

type specMemory struct {
	Limit int64  `json:"limit"`
	Swap  *int64 `json:"swap,omitempty"`
}

type specCPU struct {
	Quota  int64  `json:"quota"`
	Period uint64 `json:"period"`
}

type specPids struct {
	Limit int64 `json:"limit"`
}

// houseCapabilities are the capabilities rt-lab keeps for root in a house
// (Docker's default set without CAP_MKNOD, with CAP_NET_ADMIN), so that runc
// builds the same process.
var houseCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE", "CAP_NET_ADMIN",
}

// The paths rt-lab hides and makes read-only in every house, as Docker's
// default configuration does.
var (
	maskedPaths = []string{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/sched_debug", "/proc/scsi", "/proc/timer_list",
		"/proc/timer_stats", "/sys/firmware"}
	readonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

// specOptions vary between the runc containers of one benchmark.
type specOptions struct {
	Args        []string
	Hostname    string
	NetnsPath   string // empty: a new network namespace with only lo
	CgroupsPath string // "/PARENT/ID"
	Limits      cgroups.Limits
	Memsw       bool   // the kernel has memory.memsw.*: disable swap as rt-lab does
	ToolsBinary string // host file bind-mounted read-only like rt-lab's house tools
	// IDBase, when not 0, adds a user namespace that maps ids 0 to
	// userNSSize-1 inside to IDBase and up on the host, as rt-lab does for
	// every house unless it is created with --userns=false.
	IDBase uint32
}

// userNSSize is the number of uids and gids a user namespace maps, as in
// rt-lab's houses.
const userNSSize = 65536

// newSpec returns a configuration equivalent to an rt-lab house: new pid,
// mount, uts, ipc and network namespaces, a cgroup with the same memory, CPU
// and pids limits, the same capabilities, masked and read-only /proc paths,
// and the same kernel file systems. rt-lab's root is a writable overlay, so
// the runc root is writable too.
func newSpec(o specOptions) runcSpec {
	caps := specCapabilities{Bounding: houseCapabilities, Effective: houseCapabilities, Permitted: houseCapabilities}
	s := runcSpec{
		OCIVersion: "1.0.2",
		Process: specProcess{
			Args:            o.Args,
			Env:             []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"},
			Cwd:             "/",
			Capabilities:    caps,
			NoNewPrivileges: true,
		},
		Root:     specRoot{Path: "rootfs"},
		Hostname: o.Hostname,
		Mounts: []specMount{
			{"/proc", "proc", "proc", []string{"nosuid", "noexec", "nodev"}},
			{"/sys", "sysfs", "sysfs", []string{"nosuid", "noexec", "nodev", "ro"}},
			{"/tmp", "tmpfs", "tmpfs", []string{"nosuid", "nodev", "mode=1777"}},
			{"/dev", "tmpfs", "tmpfs", []string{"nosuid", "strictatime", "mode=755", "size=64k"}},
			{"/dev/pts", "devpts", "devpts", []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
			{"/dev/shm", "tmpfs", "shm", []string{"nosuid", "nodev", "mode=1777"}},
		},
		Linux: specLinux{
			Namespaces: []specNamespace{
				{Type: "pid"}, {Type: "network", Path: o.NetnsPath}, {Type: "ipc"}, {Type: "uts"}, {Type: "mount"},
			},
			CgroupsPath:   o.CgroupsPath,
			MaskedPaths:   maskedPaths,
			ReadonlyPaths: readonlyPaths,
		},
	}
	if o.IDBase != 0 {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specNamespace{Type: "user"})
		ids := []specIDMapping{{ContainerID: 0, HostID: o.IDBase, Size: userNSSize}}
		s.Linux.UIDMappings, s.Linux.GIDMappings = ids, ids
	}
	if o.ToolsBinary != "" {
		s.Mounts = append(s.Mounts, specMount{housetools.ToolsBinary, "bind", o.ToolsBinary,
			[]string{"bind", "ro", "nosuid", "nodev"}})
	}
	if l := o.Limits; l.MemoryBytes > 0 {
		s.Linux.Resources.Memory = &specMemory{Limit: l.MemoryBytes}
		if o.Memsw {
			s.Linux.Resources.Memory.Swap = &l.MemoryBytes
		}
	}
	if q := o.Limits.CPUQuota(); q > 0 {
		s.Linux.Resources.CPU = &specCPU{Quota: q, Period: cgroups.CPUPeriod}
	}
	if o.Limits.Pids > 0 {
		s.Linux.Resources.Pids = &specPids{Limit: o.Limits.Pids}
	}
	return s
}

// runcBench runs runc on a private state folder (--root), so it never touches
// the system's runc state, with every container's cgroup under one parent
// group of its own.
type runcBench struct {
	bin         string
	state       string // runc --root
	bundle      string // holds rootfs/ and config.json
	cgroup      string // parent group name
	memsw       bool
	toolsBinary string
	limits      cgroups.Limits
	idBase      uint32 // 0: no user namespace
	seq         int
}

// newRuncBench prepares a bundle in dir whose rootfs is a copy of rt-lab's
// busybox base folder, and registers the removal of every container and
// cgroup it will make. cgroup names the parent group, unique to this run.
// An idBase other than 0 gives every container a user namespace, and the
// copy then belongs to idBase, root inside the containers.
func newRuncBench(cl *cleanups, bin, dir, cgroup, base, toolsBinary string, limits cgroups.Limits,
	idBase uint32) (*runcBench, error) {
	rb := &runcBench{
		bin:         bin,
		state:       filepath.Join(dir, "state"),
		bundle:      filepath.Join(dir, "bundle"),
		cgroup:      cgroup,
		memsw:       fileExists(filepath.Join(cgroups.DefaultBase, "memory", "memory.memsw.limit_in_bytes")),
		toolsBinary: toolsBinary,
		limits:      limits,
		idBase:      idBase,
	}
	// Root in a user namespace is another user on the host, and must be able
	// to reach the rootfs through these folders.
	for _, d := range []string{rb.state, rb.bundle} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, err
		}
	}
	cl.push("remove runc containers and cgroups of "+dir, rb.cleanup)
	rootfs := filepath.Join(rb.bundle, "rootfs")
	if out, err := exec.Command("cp", "-a", base, rootfs).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("copy base %s to %s: %w\n%s", base, rootfs, err, out)
	}
	if idBase != 0 {
		owner := fmt.Sprintf("%d:%d", idBase, idBase)
		if out, err := exec.Command("chown", "-R", "--no-dereference", owner, rootfs).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("chown %s to %s: %w\n%s", rootfs, owner, err, out)
		}
	}
	return rb, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// nextID returns a container id that no earlier run of this bench used.
func (rb *runcBench) nextID(prefix string) string {
	rb.seq++
	return fmt.Sprintf("%s-%d", prefix, rb.seq)
}

// writeSpec writes the bundle's config.json for container id.
func (rb *runcBench) writeSpec(id string, args []string, netns string) error {
	s := newSpec(specOptions{
		Args: args, Hostname: id, NetnsPath: netns,
		CgroupsPath: "/" + rb.cgroup + "/" + id,
		Limits:      rb.limits, Memsw: rb.memsw, ToolsBinary: rb.toolsBinary, IDBase: rb.idBase,
	})
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(rb.bundle, "config.json"), data, 0o644)
}

// runc runs one runc command and returns its wall time.
func (rb *runcBench) runc(args ...string) (time.Duration, error) {
	full := append([]string{"--root", rb.state}, args...)
	cmd := exec.Command(rb.bin, full...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return wall, fmt.Errorf("runc %s: %w\n%s", strings.Join(args, " "), err, out.Bytes())
	}
	return wall, nil
}

// runTrue runs /bin/true in a new container with `runc run`, which creates,
// starts, waits for and deletes the container. netns "" gives the container
// a new network namespace with only lo.
func (rb *runcBench) runTrue(netns string) (time.Duration, error) {
	id := rb.nextID("true")
	if err := rb.writeSpec(id, []string{"/bin/true"}, netns); err != nil {
		return 0, err
	}
	return rb.runc("run", "--bundle", rb.bundle, id)
}

// startInit starts a detached container with busybox init as PID 1, like a
// running rt-lab house, and returns its id.
func (rb *runcBench) startInit() (string, error) {
	id := rb.nextID("init")
	if err := rb.writeSpec(id, []string{"/sbin/init"}, ""); err != nil {
		return "", err
	}
	// Detached, the container keeps runc's stdio. A file, unlike a pipe,
	// does not make the benchmark wait for the container to close it.
	logPath := filepath.Join(filepath.Dir(rb.state), id+".log")
	log, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	defer log.Close()
	cmd := exec.Command(rb.bin, "--root", rb.state, "run", "--detach", "--bundle", rb.bundle, id)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		out, _ := os.ReadFile(logPath)
		return "", fmt.Errorf("runc run --detach %s: %w\n%s", id, err, out)
	}
	return id, nil
}

// remove kills and deletes container id.
func (rb *runcBench) remove(id string) error {
	rb.runc("kill", id, "KILL")
	_, err := rb.runc("delete", "--force", id)
	return err
}

// cleanup kills and deletes every container in the private state folder, then
// removes the parent cgroup in every hierarchy.
func (rb *runcBench) cleanup() error {
	var errs []error
	cmd := exec.Command(rb.bin, "--root", rb.state, "list", "--quiet")
	out, err := cmd.Output()
	if err != nil {
		errs = append(errs, fmt.Errorf("runc list: %w", err))
	}
	for _, id := range strings.Fields(string(out)) {
		if err := rb.remove(id); err != nil {
			errs = append(errs, err)
		}
	}
	for _, dir := range cgroupDirs(rb.cgroup) {
		if err := removeCgroupTree(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeCgroupTree removes the cgroup folder dir and the groups below it,
// deepest first. rmdir(2) removes a group with its control files once no
// process is left in it.
func removeCgroupTree(dir string) error {
	var dirs []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.Reverse(dirs)
	for _, d := range dirs {
		if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}
