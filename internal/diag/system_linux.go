package diag

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/leftovers"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/runtime"
)

// SystemOptions choose what System inspects. Empty paths mean the real ones.
type SystemOptions struct {
	Root       string // rt-lab's state folder, for the disk and bridge checks
	Busybox    string // busybox given with --busybox; empty searches like the runtime
	Proc       string // procfs mount; default /proc
	CgroupBase string // cgroupfs folder; default cgroups.DefaultBase
	Modules    string // kernel modules folder; default /lib/modules
}

func (o *SystemOptions) fill() {
	if o.Proc == "" {
		o.Proc = "/proc"
	}
	if o.CgroupBase == "" {
		o.CgroupBase = cgroups.DefaultBase
	}
	if o.Modules == "" {
		o.Modules = "/lib/modules"
	}
}

// System checks every facility rt-lab needs and returns one Check per
// facility. It changes nothing on the host: the veth and bridge probe runs in a
// network namespace of its own that disappears with the probe. It fails only
// when the host cannot be inspected at all, such as without a mounted /proc.
func System(opts SystemOptions) (*SystemReport, error) {
	opts.fill()
	if _, err := os.Stat(filepath.Join(opts.Proc, "self", "stat")); err != nil {
		return nil, usererr.Wrap(err, usererr.Environment, "ErrDebugNoProc", "Path", opts.Proc)
	}
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return nil, os.NewSyscallError("uname", err)
	}
	release := unix.ByteSliceToString(uts.Release[:])
	cg := detectCgroups(opts.CgroupBase)

	rep := &SystemReport{Root: opts.Root}
	add := func(c ...Check) { rep.Checks = append(rep.Checks, c...) }
	add(checkRoot(os.Geteuid()))
	add(checkKernel(release, cg.Version, hasPidfd()))
	add(checkCgroupVersion(opts.CgroupBase, cg))
	if cg.Err == nil {
		add(checkControllers(opts.Proc, opts.CgroupBase, cg.Version)...)
	}
	add(checkNamespaces(opts.Proc), checkUserNS(opts.Proc), checkOverlay(opts.Proc, opts.Modules, release))
	add(checkLinkSupport(probeLinks())...)
	busybox, err := runtime.FindBusybox(opts.Busybox)
	add(checkBusybox(busybox, err))
	if err == nil {
		add(checkApplets(listApplets(busybox)))
	}
	add(checkHostTools(exec.LookPath))
	add(checkDisk(opts.Root, statDisk(opts.Root)))
	add(checkMemory(opts.Proc), checkCPUs(runtime.HostCPUs()))
	add(checkBridge(opts.Root, netlinkView{}))
	add(checkLeftovers(leftovers.Find(opts.Root)))
	return rep, nil
}

// detectCgroups finds the cgroup version as the runtime does (statfs of base)
// and, on v1, whether a cgroup2 hierarchy is mounted at base/unified too.
func detectCgroups(base string) cgroupHost {
	v, err := cgroups.DetectAt(base)
	if err != nil {
		return cgroupHost{Err: err}
	}
	h := cgroupHost{Version: v}
	unified := filepath.Join(base, "unified")
	var st unix.Statfs_t
	if v == cgroups.V1 && unix.Statfs(unified, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		h.Hybrid, h.Unified = true, unified
	}
	return h
}

// hasPidfd calls pidfd_open(2) on this process. Only ENOSYS means the kernel
// lacks it.
func hasPidfd() bool {
	fd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err == nil {
		unix.Close(fd)
	}
	return !errors.Is(err, unix.ENOSYS)
}

// Names of the links that probeLinks creates. They live only in the probe's own
// network namespace, so they cannot collide with any link of the host.
const (
	probeVeth   = "rtdiag0"
	probePeer   = "rtdiag1"
	probeBridge = "rtdiagbr"
)

// probeLinks creates a veth pair and a bridge, and attaches one veth end to the
// bridge, as starting a container does. It works in a new network namespace that
// only one locked thread enters: the goroutine ends without unlocking the
// thread, so Go ends the thread, and the kernel then frees the namespace with
// every link in it. The host's namespace is never touched. Creating a veth or a
// bridge may make the kernel load the veth or bridge module.
func probeLinks() linkProbe {
	if os.Geteuid() != 0 {
		return linkProbe{Skipped: true}
	}
	done := make(chan linkProbe, 1)
	go func() {
		goruntime.LockOSThread()
		done <- probeLinksHere()
	}()
	return <-done
}

// probeLinksHere runs on a locked thread that is never reused.
func probeLinksHere() linkProbe {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		err = os.NewSyscallError("unshare CLONE_NEWNET", err)
		return linkProbe{Veth: err, Bridge: err}
	}
	// A netlink socket belongs to the network namespace of the thread that
	// opens it: the new one.
	h, err := netlink.NewHandle()
	if err != nil {
		return linkProbe{Veth: err, Bridge: err}
	}
	defer h.Close()
	var p linkProbe
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: probeVeth}, PeerName: probePeer}
	if err := h.LinkAdd(veth); err != nil {
		p.Veth = fmt.Errorf("create veth pair %s and %s: %w", probeVeth, probePeer, err)
	}
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: probeBridge}}
	if err := h.LinkAdd(br); err != nil {
		p.Bridge = fmt.Errorf("create bridge %s: %w", probeBridge, err)
		return p
	}
	if p.Veth == nil {
		if err := h.LinkSetMaster(veth, br); err != nil {
			p.Bridge = fmt.Errorf("attach %s to bridge %s: %w", probeVeth, probeBridge, err)
		}
		h.LinkDel(veth)
	}
	h.LinkDel(br)
	return p
}

// listApplets runs `busybox --list`, which prints one applet name a line.
func listApplets(busybox string) ([]string, error) {
	var out bytes.Buffer
	cmd := exec.Command(busybox, "--list")
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("run %s --list: %w", busybox, err)
	}
	return strings.Fields(out.String()), nil
}

// statDisk measures the file system of root, or of its nearest existing parent
// when root does not exist yet.
func statDisk(root string) diskSpace {
	path := filepath.Clean(root)
	for {
		if _, err := os.Stat(path); err == nil || path == filepath.Dir(path) {
			break
		}
		path = filepath.Dir(path)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return diskSpace{Path: path, Err: &os.PathError{Op: "statfs", Path: path, Err: err}}
	}
	return diskSpace{
		Path:     path,
		Free:     st.Bavail * uint64(st.Bsize),
		ReadOnly: st.Flags&unix.ST_RDONLY != 0,
	}
}
