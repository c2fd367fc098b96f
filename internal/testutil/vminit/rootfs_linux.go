package vminit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/fsutil"
)

// newRoot is the mount point of the tmpfs that switchRoot makes "/".
const newRoot = "/.vmroot"

// switchRoot moves the whole initramfs into a tmpfs and makes that tmpfs "/".
// pivot_root(2) fails with EINVAL when the current root is the initial ramfs
// (rootfs), and container runtimes call pivot_root, so the tests need a root
// that is an ordinary mount. The files are moved, not copied, so they do not
// take memory twice.
func switchRoot() error {
	if err := os.Mkdir(newRoot, 0o755); err != nil {
		return err
	}
	if err := mount("tmpfs", newRoot, "tmpfs", 0, "mode=0755"); err != nil {
		return err
	}
	entries, err := os.ReadDir("/")
	if err != nil {
		return err
	}
	for _, entry := range entries {
		if "/"+entry.Name() == newRoot {
			continue
		}
		if err := moveTree("/"+entry.Name(), filepath.Join(newRoot, entry.Name())); err != nil {
			return err
		}
	}
	if err := os.Chdir(newRoot); err != nil {
		return err
	}
	if err := mount(newRoot, "/", "", unix.MS_MOVE, ""); err != nil {
		return err
	}
	if err := unix.Chroot("."); err != nil {
		return os.NewSyscallError("chroot", err)
	}
	return os.Chdir("/")
}

// moveTree copies src to dst, keeping modes, symbolic links and device nodes,
// and removes src.
func moveTree(src, dst string) error {
	info, err := os.Lstat(src)
	if err != nil {
		return err
	}
	mode := info.Mode()
	switch {
	case mode.IsDir():
		if err := os.Mkdir(dst, mode.Perm()); err != nil {
			return err
		}
		entries, err := os.ReadDir(src)
		if err != nil {
			return err
		}
		for _, entry := range entries {
			if err := moveTree(filepath.Join(src, entry.Name()), filepath.Join(dst, entry.Name())); err != nil {
				return err
			}
		}
		// Mkdir applied the umask, so set the mode bits again, sticky bit included.
		if err := unix.Chmod(dst, info.Sys().(*syscall.Stat_t).Mode&0o7777); err != nil {
			return &os.PathError{Op: "chmod", Path: dst, Err: err}
		}
	case mode&os.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		if err := os.Symlink(target, dst); err != nil {
			return err
		}
	case mode&os.ModeDevice != 0:
		stat := info.Sys().(*syscall.Stat_t)
		if err := unix.Mknod(dst, stat.Mode, int(stat.Rdev)); err != nil {
			return &os.PathError{Op: "mknod", Path: dst, Err: err}
		}
	case mode.IsRegular():
		if err := fsutil.CopyFile(src, dst, mode.Perm()); err != nil {
			return err
		}
	default:
		return fmt.Errorf("move %s: unsupported file type %v", src, mode.Type())
	}
	return os.Remove(src)
}

// hostMounts are the file systems of a usual systemd host, in mount order.
var hostMounts = []struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
}{
	{"proc", "/proc", "proc", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
	{"sysfs", "/sys", "sysfs", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
	{"devtmpfs", "/dev", "devtmpfs", unix.MS_NOSUID, "mode=0755"},
	{"devpts", "/dev/pts", "devpts", unix.MS_NOSUID | unix.MS_NOEXEC, "gid=5,mode=0620,ptmxmode=0666"},
	{"tmpfs", "/dev/shm", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=1777"},
	{"tmpfs", "/run", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=0755"},
	{"tmpfs", "/tmp", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=1777"},
	// The options that recent systemd versions mount cgroup2 with.
	{"cgroup2", cgroupRoot, "cgroup2", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC,
		"nsdelegate,memory_recursiveprot"},
}

// mountAll mounts proc, sysfs, devices, the tmpfs folders and cgroup2, then
// makes every mount shared, as systemd does. A runtime must therefore make its
// mounts private itself, as on a real host.
func mountAll() error {
	for _, m := range hostMounts {
		if err := os.MkdirAll(m.target, 0o755); err != nil {
			return err
		}
		if err := mount(m.source, m.target, m.fstype, m.flags, m.data); err != nil {
			return err
		}
	}
	return mount("", "/", "", unix.MS_REC|unix.MS_SHARED, "")
}

func mount(source, target, fstype string, flags uintptr, data string) error {
	err := unix.Mount(source, target, fstype, flags, data)
	if err != nil {
		return fmt.Errorf("mount %s on %s (%s, %q): %w", source, target, fstype, data, err)
	}
	return nil
}

// loadModules loads kernel module files with finit_module(2). A module that
// is already loaded is fine.
func loadModules(modules []Module) error {
	for _, module := range modules {
		if err := loadModule(module.Path, module.Params); err != nil {
			return err
		}
	}
	return nil
}

func loadModule(path, params string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	flags := 0
	switch filepath.Ext(path) {
	case ".xz", ".zst", ".gz":
		// NOTE: untested, since Debian 12's modules are not compressed. The
		// kernel decompresses only when built with CONFIG_MODULE_DECOMPRESS.
		flags = unix.MODULE_INIT_COMPRESSED_FILE
	}
	err = unix.FinitModule(int(f.Fd()), params, flags)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("load module %s: %w", path, os.NewSyscallError("finit_module", err))
	}
	return nil
}
