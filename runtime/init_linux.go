package runtime

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// initArg0 is argv[0] of the bootstrap process: rt-lab re-executes itself under
// this name in the new namespaces, sets up the house, then executes busybox init.
const initArg0 = "rt-lab:init"

// The bootstrap's inherited pipes (exec.Cmd.ExtraFiles start at fd 3).
const (
	initConfigFD = 3 // parent -> child: config line, then "g" to go on
	initStatusFD = 4 // child -> parent: "r" when set up, or an error line
	initMountFD  = 5 // parent -> child, user namespace only: the mounted rootfs folder
)

// initConfig is the configuration the parent sends to the bootstrap.
type initConfig struct {
	Rootfs   string `json:"rootfs"`
	Lower    string `json:"lower"`
	Upper    string `json:"upper"`
	Work     string `json:"work"`
	Hostname string `json:"hostname"`
	// PhoneBook is the host folder of the root's phone book, mounted at
	// network.PhoneBookMount (see mountPhoneBook).
	PhoneBook string `json:"phonebook,omitempty"`
	// UserNS: the bootstrap runs as root of a new user namespace, and the
	// parent has mounted the root file system already; it passes the rootfs
	// folder on initMountFD (see mountForUserNS).
	UserNS bool `json:"userns,omitempty"`
}

// MaybeInit runs the container bootstrap and never returns when the process was
// started as one; otherwise it returns at once. Call it first in main and in
// TestMain of test binaries that start containers.
func MaybeInit() {
	if isEnterHelper() {
		enterHelper()
	}
	if len(os.Args) == 0 || os.Args[0] != initArg0 {
		return
	}
	// The thread stays locked until exec: confineThread changes only this
	// thread's capabilities, and execve(2) keeps the calling thread's.
	goruntime.LockOSThread()
	status := os.NewFile(initStatusFD, "status")
	err := bootstrap()
	// Only failures get here: success ends in exec.
	fmt.Fprintf(status, "e%s\n", err)
	os.Exit(1)
}

func bootstrap() error {
	config := os.NewFile(initConfigFD, "config")
	status := os.NewFile(initStatusFD, "status")
	in := bufio.NewReader(config)
	line, err := in.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	var cfg initConfig
	if err := json.Unmarshal(line, &cfg); err != nil {
		return fmt.Errorf("decode config: %w", err)
	}
	if cfg.UserNS {
		// The parent mounted the rootfs in this mount namespace. Root of the
		// house may not even reach its folder, whose parents only host root
		// may search, so the bootstrap works from the folder it was passed.
		fd, err := receiveFD(initMountFD)
		if err != nil {
			return err
		}
		err = unix.Fchdir(fd)
		unix.Close(fd)
		if err != nil {
			return os.NewSyscallError("fchdir rootfs", err)
		}
		if err := mountKernelFS("."); err != nil {
			return err
		}
	} else {
		if err := setupRootfs(&cfg); err != nil {
			return err
		}
		if err := mountKernelFS(cfg.Rootfs); err != nil {
			return err
		}
		if err := unix.Chdir(cfg.Rootfs); err != nil {
			return &os.PathError{Op: "chdir", Path: cfg.Rootfs, Err: err}
		}
	}
	if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
		return os.NewSyscallError("sethostname", err)
	}
	if err := loopbackUp(); err != nil {
		return err
	}
	if err := pivotRoot(); err != nil {
		return err
	}
	if err := maskKernelFiles(); err != nil {
		return err
	}
	// The last step that needs all of root's capabilities is done: from here on
	// this thread, and busybox init after exec, keep only houseCapabilities.
	if err := confineThread(); err != nil {
		return err
	}
	if _, err := status.Write([]byte("r\n")); err != nil {
		return err
	}
	// Wait until the parent has recorded this process. EOF means the parent died
	// before any state recorded this house, so it must not run.
	if b, err := in.ReadByte(); err != nil || b != 'g' {
		os.Exit(1)
	}
	config.Close()
	unix.CloseOnExec(initStatusFD)
	env := []string{"PATH=" + containerPath, "HOME=/root", "container=rt-lab"}
	// busybox init keeps argv[0] "init", which is what `ps` shows as PID 1.
	err = unix.Exec("/sbin/init", []string{"init"}, env)
	return os.NewSyscallError("exec /sbin/init", err)
}

// containerPath is PATH inside every house.
const containerPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

type mountSpec struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
}

// setupRootfs mounts the overlay and the file systems inside it, all but the
// kernel's (see mountKernelFS). Mount propagation is made private first, so
// none of these mounts appear on the host (mount_namespaces(7)). For a house
// with a user namespace the parent does the same in the house's mount
// namespace (see mountForUserNS).
func setupRootfs(cfg *initConfig) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return os.NewSyscallError("make / private", err)
	}
	return mountRootfs(cfg, 0, os.Stderr)
}

// mountKernelFS mounts proc and a read-only sysfs in the rootfs folder root.
// The bootstrap mounts them itself, before pivot_root: proc shows the pid
// namespace of the process that mounts it, sysfs its network namespace, and in
// a user namespace the kernel allows both only while the host's proc and sysfs
// are still visible in the mount namespace.
func mountKernelFS(root string) error {
	const nsd = unix.MS_NOSUID | unix.MS_NODEV
	mounts := []mountSpec{
		{"proc", root + "/proc", "proc", nsd | unix.MS_NOEXEC, ""},
		{"sysfs", root + "/sys", "sysfs", nsd | unix.MS_NOEXEC | unix.MS_RDONLY, ""},
	}
	for _, m := range mounts {
		if err := unix.Mount(m.source, m.target, m.fstype, m.flags, m.data); err != nil {
			return &os.PathError{Op: "mount " + m.fstype, Path: m.target, Err: err}
		}
	}
	return nil
}

// mountRootfs mounts the overlay at cfg.Rootfs, then /tmp, /dev, the house
// tools and the phone book in it. owner is the host uid and gid of root in the house, which
// owns the folders and device nodes made here. Warnings go to warn, the
// house's init.log.
func mountRootfs(cfg *initConfig, owner uint32, warn io.Writer) error {
	root := cfg.Rootfs
	ids := ""
	if owner != 0 {
		ids = fmt.Sprintf(",uid=%d,gid=%d", owner, owner)
	}
	overlay := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", cfg.Lower, cfg.Upper, cfg.Work)
	const nsd = unix.MS_NOSUID | unix.MS_NODEV
	mounts := []mountSpec{
		{"overlay", root, "overlay", 0, overlay},
		{"tmpfs", root + "/tmp", "tmpfs", nsd, "mode=1777" + ids},
		{"tmpfs", root + "/dev", "tmpfs", unix.MS_NOSUID | unix.MS_STRICTATIME, "mode=755,size=64k" + ids},
	}
	for _, m := range mounts {
		if err := unix.Mount(m.source, m.target, m.fstype, m.flags, m.data); err != nil {
			return &os.PathError{Op: "mount " + m.fstype, Path: m.target, Err: err}
		}
	}
	if err := mountHouseTools(root, warn); err != nil {
		return err
	}
	if err := mountPhoneBook(cfg.PhoneBook, root); err != nil {
		return err
	}
	return setupDev(root+"/dev", owner)
}

// devices are the character devices of a minimal /dev (major, minor from
// Documentation/admin-guide/devices.txt).
var devices = []struct {
	name         string
	major, minor uint32
}{
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
}

// setupDev fills the house's /dev. It runs as host root: in the bootstrap, or
// for a house with a user namespace in the parent, since root of a user
// namespace may not make device nodes (CAP_MKNOD counts only in the initial
// user namespace). owner is the host uid and gid of root in the house; group tty,
// gid 5 in the house, owns its terminals.
func setupDev(dev string, owner uint32) error {
	old := unix.Umask(0)
	defer unix.Umask(old)
	for _, d := range devices {
		path := filepath.Join(dev, d.name)
		if err := unix.Mknod(path, unix.S_IFCHR|0o666, int(unix.Mkdev(d.major, d.minor))); err != nil {
			return &os.PathError{Op: "mknod", Path: path, Err: err}
		}
	}
	for _, d := range []string{"pts", "shm"} {
		if err := os.Mkdir(filepath.Join(dev, d), 0o755); err != nil {
			return err
		}
	}
	// A private devpts instance: the house sees only its own terminals.
	if err := unix.Mount("devpts", dev+"/pts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC,
		fmt.Sprintf("newinstance,ptmxmode=0666,mode=0620,gid=%d", owner+5)); err != nil {
		return &os.PathError{Op: "mount devpts", Path: dev + "/pts", Err: err}
	}
	shm := "mode=1777"
	if owner != 0 {
		shm += fmt.Sprintf(",uid=%d,gid=%d", owner, owner)
	}
	if err := unix.Mount("shm", dev+"/shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, shm); err != nil {
		return &os.PathError{Op: "mount tmpfs", Path: dev + "/shm", Err: err}
	}
	links := [][2]string{{"pts/ptmx", "ptmx"}, {"/proc/self/fd", "fd"},
		{"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}}
	for _, l := range links {
		if err := os.Symlink(l[0], filepath.Join(dev, l[1])); err != nil {
			return err
		}
	}
	if owner != 0 {
		// The mount points pts and shm are covered; their mounts have owners.
		entries, err := os.ReadDir(dev)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.Name() == "pts" || e.Name() == "shm" {
				continue
			}
			if err := os.Lchown(filepath.Join(dev, e.Name()), int(owner), int(owner)); err != nil {
				return err
			}
		}
	}
	return nil
}

func loopbackUp() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	return nil
}

// pivotRoot makes the working folder, the rootfs, the file system root with
// pivot_root(2), not chroot, which a root process can escape. pivot_root(".",
// ".") stacks the old root on top of the new one, so a lazy unmount of "."
// removes it without needing a folder for it.
func pivotRoot() error {
	if err := unix.PivotRoot(".", "."); err != nil {
		return os.NewSyscallError("pivot_root", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return os.NewSyscallError("unmount old root", err)
	}
	return unix.Chdir("/")
}
