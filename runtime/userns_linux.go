package runtime

import (
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/fsutil"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// User namespaces.
//
// A house with a user namespace (Container.UserNS, the default) maps uid and
// gid 0 to 65535 inside to IDBase to IDBase+65535 on the host. Root inside the
// house is then an unprivileged user on the host, and two houses of a root never
// share a host id. The maps are written by Go for the bootstrap child
// (SysProcAttr.UidMappings), and the bootstrap creates every other namespace in
// the same clone, so the house's user namespace owns them all: the network
// namespace that sysfs needs, the pid namespace that proc needs, the UTS
// namespace that sethostname needs.
//
// Rootfs ownership: the shared base belongs to host root, which is unmapped in
// the house (it shows as nobody), so root inside could not change /etc. The
// base is therefore given to the overlay as an idmapped mount: host root makes
// a detached copy of the base mount (open_tree with OPEN_TREE_CLONE), sets
// MOUNT_ATTR_IDMAP on it with the house's user namespace (mount_setattr), and
// attaches it at ContainerDir/lower in the house's own mount namespace (see
// mountForUserNS). overlayfs
// takes idmapped lower layers since Linux 5.19. Nothing is copied, so creating
// a house stays cheap. When the file system of the root folder cannot be
// idmapped (tmpfs before Linux 6.3, for example), the house gets a copy of the
// base owned by its range instead, made once at its first start. The upper and
// work folders are always owned by the range. Container.RootfsOwner records which
// way was taken, and the debug log says so.
const (
	idRangeFirst = 100000
	idRangeSize  = 65536
	// maxIDRanges keeps the last uid of the last range below 4294967295, which
	// is (uid_t)-1, "no uid".
	maxIDRanges = (math.MaxUint32 - idRangeFirst) / idRangeSize
)

// Ways the base is owned by a house's range; see Container.RootfsOwner.
const (
	rootfsIdmapped = "idmapped"
	rootfsChowned  = "chowned"
)

// checkUserNSSupport fails when the kernel offers no user namespaces to root:
// built without them, or with user.max_user_namespaces set to 0.
func checkUserNSSupport() error {
	if _, err := os.Stat("/proc/self/ns/user"); err != nil {
		return usererr.Wrap(err, usererr.Environment, "ErrUserNSUnsupported")
	}
	data, err := os.ReadFile("/proc/sys/user/max_user_namespaces")
	if err == nil && len(data) > 0 && data[0] == '0' && (len(data) == 1 || data[1] == '\n') {
		return usererr.New(usererr.Environment, "ErrUserNSDisabled")
	}
	return nil
}

// allocateIDRange returns the first host id of the smallest range no other
// house of the root has. A deleted house's range is free again. The caller holds
// the root's lock, so two creates never pick the same range. It reads the
// state files without looking for the houses' inits, which List would do.
// A house whose state file cannot be read counts as having no range.
//
// NOTE: the cost still grows with the number of houses, by one read of a
// small state file each.
func (r *Runtime) allocateIDRange() (uint32, error) {
	cs, err := r.listRecords()
	if err != nil {
		return 0, err
	}
	used := map[uint32]bool{}
	for _, c := range cs {
		if c.UserNS {
			used[c.IDBase] = true
		}
	}
	return firstFreeIDRange(used)
}

// firstFreeIDRange returns the first host id of the smallest range not in used,
// which holds the first ids of the ranges taken.
func firstFreeIDRange(used map[uint32]bool) (uint32, error) {
	for k := uint32(0); k < maxIDRanges; k++ {
		base := idRangeFirst + k*idRangeSize
		if !used[base] {
			return base, nil
		}
	}
	return 0, usererr.New(usererr.Environment, "ErrUserNSRangesFull", "Count", maxIDRanges)
}

// chownTree gives path and everything below it to host uid and gid base,
// without following symbolic links.
func chownTree(path string, base uint32) error {
	return filepath.WalkDir(path, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(base), int(base))
	})
}

// baseIDPath is the file that names the base of a house with a user namespace,
// whose overlay shows its own lower folder instead of the base's (recover-state
// reads it).
func (r *Runtime) baseIDPath(name string) string {
	return filepath.Join(r.ContainerDir(name), "base-id")
}

// userNSFromKernel reads what recover-state needs of house name with a user
// namespace from its init pid: the range from the init's uid_map, the base
// from baseIDPath, and how the base is owned from the lower folder.
func (r *Runtime) userNSFromKernel(name string, pid int) (*Container, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/uid_map", pid))
	if err != nil {
		return nil, err
	}
	var inside, outside, count uint64
	if _, err := fmt.Sscan(string(data), &inside, &outside, &count); err != nil || inside != 0 || outside == 0 {
		return nil, fmt.Errorf("uid_map of process %d is %q, not a house's range", pid, data)
	}
	id, err := os.ReadFile(r.baseIDPath(name))
	if err != nil {
		return nil, err
	}
	base := strings.TrimSpace(string(id))
	if _, err := os.Stat(r.BaseDir(base)); base == "" || filepath.Base(base) != base || err != nil {
		return nil, fmt.Errorf("%s names %q, not a base of this root", r.baseIDPath(name), base)
	}
	c := &Container{Base: base, IDBase: uint32(outside), RootfsOwner: rootfsIdmapped}
	if _, err := os.Lstat(filepath.Join(r.lowerDir(name), "bin", "busybox")); err == nil {
		c.RootfsOwner = rootfsChowned
	}
	return c, nil
}

// checkRangeOwnership rejects the start of a house whose upper folder is not
// owned by root of its range, as after a manual copy of the folder. Inside, the
// house would fail with permission errors that name no cause.
func (r *Runtime) checkRangeOwnership(c *Container) error {
	for _, dir := range []string{r.UpperDir(c.Name), r.workDir(c.Name)} {
		var st unix.Stat_t
		if err := unix.Lstat(dir, &st); err != nil {
			return &os.PathError{Op: "stat", Path: dir, Err: err}
		}
		if st.Uid != c.IDBase || st.Gid != c.IDBase {
			return usererr.New(usererr.Failed, "ErrUserNSOwnership", "Name", c.Name, "Path", dir,
				"UID", st.Uid, "GID", st.Gid, "Want", c.IDBase)
		}
	}
	return nil
}

// mountForUserNS mounts the root file system of c in the mount namespace of
// its bootstrap, process pid, and returns the rootfs folder opened there. The
// bootstrap then works from that folder (see bootstrap).
//
// Host root mounts, not the bootstrap: the house's folder sits below folders
// that only host root may search (a test's temporary folder is 0700, for
// example), and root of the house may create no device nodes. A locked thread
// joins the bootstrap's mount namespace, which host root may do because its
// capabilities reach every user namespace below the initial one. Go ends the
// thread afterwards instead of reusing it.
func (r *Runtime) mountForUserNS(c *Container, cfg *initConfig, pid int, warn io.Writer) (int, error) {
	mntns, err := os.Open(fmt.Sprintf("/proc/%d/ns/mnt", pid))
	if err != nil {
		return -1, err
	}
	defer mntns.Close()
	userns, err := os.Open(fmt.Sprintf("/proc/%d/ns/user", pid))
	if err != nil {
		return -1, err
	}
	defer userns.Close()
	type result struct {
		fd  int
		err error
	}
	done := make(chan result, 1)
	go func() {
		goruntime.LockOSThread() // never unlocked: Go ends the thread
		fd, err := r.mountInNamespace(c, cfg, int(mntns.Fd()), int(userns.Fd()), warn)
		done <- result{fd, err}
	}()
	res := <-done
	return res.fd, res.err
}

// mountInNamespace does mountForUserNS's work on its locked thread.
func (r *Runtime) mountInNamespace(c *Container, cfg *initConfig, mntns, userns int, warn io.Writer) (int, error) {
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return -1, os.NewSyscallError("unshare CLONE_FS", err)
	}
	if err := unix.Setns(mntns, unix.CLONE_NEWNS); err != nil {
		return -1, os.NewSyscallError("setns mnt", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return -1, os.NewSyscallError("make / private", err)
	}
	cfg.Lower = r.lowerDir(c.Name)
	if c.RootfsOwner != rootfsChowned {
		err := attachIdmappedBase(r.BaseDir(c.Base), cfg.Lower, userns)
		if err == nil {
			slog.Debug("house base is an idmapped mount", "name", c.Name, "uid", c.IDBase)
			c.RootfsOwner = rootfsIdmapped
		} else {
			slog.Debug("idmapped mount unavailable, the house gets a chowned copy of the base",
				"name", c.Name, "error", err)
		}
	}
	if c.RootfsOwner != rootfsIdmapped {
		if err := r.ensureChownedCopy(c); err != nil {
			return -1, err
		}
		c.RootfsOwner = rootfsChowned
	}
	if err := mountRootfs(cfg, c.IDBase, warn); err != nil {
		return -1, err
	}
	fd, err := unix.Open(cfg.Rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: cfg.Rootfs, Err: err}
	}
	return fd, nil
}

// attachIdmappedBase mounts the base folder base at target so that its files
// appear owned through the user namespace userns: host uid 0 becomes the
// house's root. It makes a detached copy of the base's mount (open_tree with
// OPEN_TREE_CLONE), sets MOUNT_ATTR_IDMAP on it (mount_setattr), which needs
// host root and a file system that supports idmapped mounts, and attaches it
// (move_mount).
func attachIdmappedBase(base, target string, userns int) error {
	fd, err := unix.OpenTree(unix.AT_FDCWD, base, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return os.NewSyscallError("open_tree", err)
	}
	defer unix.Close(fd)
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP | unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID |
		unix.MOUNT_ATTR_NODEV, Userns_fd: uint64(userns)}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, attr); err != nil {
		return os.NewSyscallError("mount_setattr", err)
	}
	if err := unix.MoveMount(fd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return &os.PathError{Op: "move_mount", Path: target, Err: err}
	}
	return nil
}

// ensureChownedCopy copies c's base to its lower folder, owned by its range,
// unless an earlier start did.
func (r *Runtime) ensureChownedCopy(c *Container) error {
	lower := r.lowerDir(c.Name)
	if _, err := os.Lstat(filepath.Join(lower, "bin", "busybox")); err == nil {
		return nil
	}
	tmp := lower + ".tmp"
	os.RemoveAll(tmp)
	if err := copyTree(r.BaseDir(c.Base), tmp); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("copy the base for house %s: %w", c.Name, err)
	}
	if err := chownTree(tmp, c.IDBase); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.RemoveAll(lower); err != nil {
		return err
	}
	return os.Rename(tmp, lower)
}

// copyTree copies folders, regular files and symbolic links from src to dst,
// keeping modes. The base holds nothing else.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case fi.IsDir():
			if err := os.Mkdir(target, 0o700); err != nil {
				return err
			}
			// Chmod after Mkdir: the umask does not apply, and sticky bits stay.
			return os.Chmod(target, fi.Mode()&(fs.ModePerm|fs.ModeSticky))
		case fi.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case fi.Mode().IsRegular():
			return fsutil.CopyFile(p, target, fi.Mode().Perm())
		default:
			return fmt.Errorf("%s: unexpected file type %s", p, fi.Mode().Type())
		}
	})
}

// asHouseRoot runs fn on a locked thread whose file system uid and gid are
// root of c's range, when c has a user namespace. Files fn creates in c's
// upper folder then belong to the house's root. It is needed for files written
// through /proc/PID/root of a running house: its overlay belongs to the house's
// user namespace, where host root is unmapped, so the kernel refuses to create a
// file as host root there (EOVERFLOW). setfsuid(2) changes only the calling
// thread, which is unlocked only after the ids are back.
func asHouseRoot(c *Container, fn func() error) error {
	if !c.UserNS {
		return fn()
	}
	done := make(chan error, 1)
	go func() {
		goruntime.LockOSThread()
		prevUID, _ := unix.SetfsuidRetUid(int(c.IDBase))
		prevGID, _ := unix.SetfsgidRetGid(int(c.IDBase))
		// A file system uid other than 0 clears the file system capabilities
		// from the effective set (capabilities(7)). They come back from the
		// permitted set, so that host root still reaches the house's folder,
		// whose parent only root may search.
		err := raiseEffective()
		if err == nil {
			err = fn()
		}
		unix.Setfsgid(prevGID)
		unix.Setfsuid(prevUID)
		// The thread is unlocked only when both ids are back to the host's.
		if currentFsuid() == prevUID && currentFsgid() == prevGID {
			goruntime.UnlockOSThread()
		}
		done <- err
	}()
	return <-done
}

// raiseEffective makes the calling thread's effective capabilities its
// permitted ones.
func raiseEffective() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return os.NewSyscallError("capget", err)
	}
	for i := range data {
		data[i].Effective = data[i].Permitted
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return os.NewSyscallError("capset", err)
	}
	return nil
}

// currentFsuid and currentFsgid read the thread's file system ids: setfsuid(-1)
// changes nothing and returns the current one.
func currentFsuid() int {
	id, _ := unix.SetfsuidRetUid(-1)
	return id
}

func currentFsgid() int {
	id, _ := unix.SetfsgidRetGid(-1)
	return id
}

// sendFD passes fd over the unix socket sock with SCM_RIGHTS.
func sendFD(sock *os.File, fd int) error {
	return unix.Sendmsg(int(sock.Fd()), []byte{'m'}, unix.UnixRights(fd), nil, 0)
}

// receiveFD receives one file descriptor that sendFD passed over sock.
func receiveFD(sock int) (int, error) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(sock, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return -1, os.NewSyscallError("recvmsg", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return -1, fmt.Errorf("receive the rootfs folder: %d control messages, %v", len(msgs), err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return -1, fmt.Errorf("receive the rootfs folder: %d descriptors, %v", len(fds), err)
	}
	return fds[0], nil
}

// idMaps returns the uid or gid map of a house whose range starts at base.
func idMaps(base uint32) []syscall.SysProcIDMap {
	return []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(base), Size: idRangeSize}}
}
