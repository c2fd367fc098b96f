package runtime

import (
	"errors"
	"os"
	"slices"

	"golang.org/x/sys/unix"
)

// houseCapabilities are the capabilities that root keeps inside a house; every
// other capability leaves the bounding set (capabilities(7)).
//
// The list starts from Docker's default set and changes it in two places:
//   - CAP_MKNOD is dropped. Docker keeps it because its device cgroup denies
//     every device but null, zero, full, random, urandom, tty and ptmx. rt-lab
//     has no device cgroup, so with CAP_MKNOD root in a house could make a
//     node for the host's disk and open it.
//   - CAP_NET_ADMIN is added. It acts only on the house's own network namespace,
//     and the lessons run `ip link set lo up` inside houses.
//
// CAP_SYS_ADMIN stays out: with it root in a house could mount, remount the
// read-only rt-lab binary read-write, unmount the /proc masks and set the
// hostname. rt-lab sets the hostname itself in the bootstrap, before the drop.
var houseCapabilities = []int{
	unix.CAP_CHOWN,
	unix.CAP_DAC_OVERRIDE,
	unix.CAP_FSETID,
	unix.CAP_FOWNER,
	unix.CAP_NET_RAW,
	unix.CAP_SETGID,
	unix.CAP_SETUID,
	unix.CAP_SETFCAP,
	unix.CAP_SETPCAP,
	unix.CAP_NET_BIND_SERVICE,
	unix.CAP_SYS_CHROOT,
	unix.CAP_KILL,
	unix.CAP_AUDIT_WRITE,
	unix.CAP_NET_ADMIN,
}

// confineThread reduces the calling thread's capabilities to houseCapabilities
// and sets no_new_privs. Both belong to a thread, not to the whole process, and
// a child forked from the thread or a program it executes inherits them. So the
// caller must be on a locked OS thread that forks or executes next and never
// runs other goroutines again.
//
// The bounding set is what limits root: execve(2) by uid 0 gives the new program
// every capability in the bounding set, whatever the permitted set was before.
// The inheritable and ambient sets are emptied, as runc does since
// CVE-2022-24769, so no capability passes to a program by file capabilities.
func confineThread() error {
	var keep [2]uint32
	for _, c := range houseCapabilities {
		keep[c/32] |= 1 << (c % 32)
	}
	// PR_CAPBSET_READ fails with EINVAL past the last capability of the running
	// kernel, which may be newer than unix.CAP_LAST_CAP.
	for c := 0; ; c++ {
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
		if errors.Is(err, unix.EINVAL) {
			break
		}
		if err != nil {
			return os.NewSyscallError("prctl PR_CAPBSET_READ", err)
		}
		if in == 1 && !slices.Contains(houseCapabilities, c) {
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
				return os.NewSyscallError("prctl PR_CAPBSET_DROP", err)
			}
		}
	}

	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	for i := range data {
		data[i].Effective, data[i].Permitted = keep[i], keep[i]
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return os.NewSyscallError("capset", err)
	}
	// Kernels before 4.3 have no ambient set and reject the call with EINVAL.
	err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
	if err != nil && !errors.Is(err, unix.EINVAL) {
		return os.NewSyscallError("prctl PR_CAP_AMBIENT_CLEAR_ALL", err)
	}
	// no_new_privs makes execve(2) ignore set-user-ID bits and file capabilities.
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl PR_SET_NO_NEW_PRIVS", err)
	}
	return nil
}

// maskedPaths are hidden inside every house, as Docker's default configuration
// for runc does: they show kernel memory, the host's keys, timers and hardware.
// A file gets /dev/null mounted over it, a folder an empty read-only tmpfs.
var maskedPaths = []string{
	"/proc/acpi",
	"/proc/asound",
	"/proc/kcore",
	"/proc/keys",
	"/proc/latency_stats",
	"/proc/sched_debug",
	"/proc/scsi",
	"/proc/timer_list",
	"/proc/timer_stats",
	"/sys/firmware",
}

// readonlyPaths are made read-only inside every house, as in Docker's default
// configuration: writing to them changes the whole kernel, not just the house
// (for example /proc/sysrq-trigger can reboot the host).
var readonlyPaths = []string{
	"/proc/bus",
	"/proc/fs",
	"/proc/irq",
	"/proc/sys",
	"/proc/sysrq-trigger",
}

// maskKernelFiles applies maskedPaths and readonlyPaths. It runs in the
// bootstrap after pivot_root, so paths and /dev/null are the house's own. Paths
// the running kernel does not have are skipped. Without CAP_SYS_ADMIN, root in
// the house cannot unmount or remount these mounts.
func maskKernelFiles() error {
	for _, path := range maskedPaths {
		if err := maskPath(path); err != nil {
			return err
		}
	}
	for _, path := range readonlyPaths {
		if err := bindReadOnly(path); err != nil {
			return err
		}
	}
	return nil
}

func maskPath(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		err = unix.Mount("tmpfs", path, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=0")
		if err != nil {
			return &os.PathError{Op: "mask with tmpfs", Path: path, Err: err}
		}
		return nil
	}
	if err := unix.Mount("/dev/null", path, "", unix.MS_BIND, ""); err != nil {
		return &os.PathError{Op: "mask with /dev/null", Path: path, Err: err}
	}
	return nil
}

// bindReadOnly bind-mounts path onto itself and remounts the bind read-only.
// MS_BIND ignores MS_RDONLY on the first call (mount(2)), hence the remount,
// which keeps the nosuid, nodev, noexec and access-time flags path had.
func bindReadOnly(path string) error {
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := unix.Mount(path, path, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return &os.PathError{Op: "bind mount", Path: path, Err: err}
	}
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return &os.PathError{Op: "statfs", Path: path, Err: err}
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY)
	for _, f := range statfsMountFlags {
		if st.Flags&f.statfs != 0 {
			flags |= f.mount
		}
	}
	if err := unix.Mount("", path, "", flags, ""); err != nil {
		return &os.PathError{Op: "remount read-only", Path: path, Err: err}
	}
	return nil
}

// statfsMountFlags maps the per-mount flags statfs(2) reports to mount(2) flags.
var statfsMountFlags = []struct {
	statfs int64
	mount  uintptr
}{
	{unix.ST_NOSUID, unix.MS_NOSUID},
	{unix.ST_NODEV, unix.MS_NODEV},
	{unix.ST_NOEXEC, unix.MS_NOEXEC},
	{unix.ST_NOATIME, unix.MS_NOATIME},
	{unix.ST_NODIRATIME, unix.MS_NODIRATIME},
	{unix.ST_RELATIME, unix.MS_RELATIME},
}
