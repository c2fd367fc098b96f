package network

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path"

	"golang.org/x/sys/unix"
)

// LinkHosts makes etc/hosts under root a symbolic link to PhoneBookHosts,
// the phone book that the house's start mounts, and makes the mount point
// etc/rt-lab. A regular /etc/hosts that an older rt-lab wrote is replaced.
// A link that is already in place is left alone.
//
// root is a stopped container's overlay upper folder, never a running
// container's: overlayfs does not expect its layers to change under a mount
// (see the kernel's overlayfs documentation). Paths are resolved with
// openat2(2) RESOLVE_IN_ROOT, so a symbolic link that the container placed at
// /etc resolves inside root and cannot send the change to the host's files.
// There is no fsync: every start calls LinkHosts again, so a link
// that a crash lost is made again before the house runs.
func LinkHosts(root string) error {
	rootFD, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(rootFD)

	etcFD, err := openInRoot(rootFD, "etc")
	if errors.Is(err, unix.ENOENT) {
		if err := unix.Mkdirat(rootFD, "etc", 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
			return &os.PathError{Op: "mkdirat", Path: root + "/etc", Err: err}
		}
		etcFD, err = openInRoot(rootFD, "etc")
	}
	if err != nil {
		return &os.PathError{Op: "openat2", Path: root + "/etc", Err: err}
	}
	defer unix.Close(etcFD)

	mountPoint := path.Base(PhoneBookMount)
	if err := unix.Mkdirat(etcFD, mountPoint, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return &os.PathError{Op: "mkdirat", Path: root + "/etc/" + mountPoint, Err: err}
	}

	buf := make([]byte, len(PhoneBookHosts)+1)
	if n, err := unix.Readlinkat(etcFD, "hosts", buf); err == nil && string(buf[:n]) == PhoneBookHosts {
		return nil
	}
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		return err
	}
	// NOTE: recover-state removes only regular temporary files, so a link
	// that a crash leaves here stays. It is a few bytes and nothing reads it.
	tmp := ".hosts.rt-lab-" + hex.EncodeToString(suffix)
	if err := unix.Symlinkat(PhoneBookHosts, etcFD, tmp); err != nil {
		return &os.PathError{Op: "symlinkat", Path: root + "/etc/" + tmp, Err: err}
	}
	if err := unix.Renameat(etcFD, tmp, etcFD, "hosts"); err != nil {
		unix.Unlinkat(etcFD, tmp, 0)
		return &os.PathError{Op: "renameat", Path: root + "/etc/hosts", Err: err}
	}
	return nil
}

func openInRoot(rootFD int, path string) (int, error) {
	how := &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	for {
		fd, err := unix.Openat2(rootFD, path, how)
		if err != unix.EINTR && err != unix.EAGAIN {
			return fd, err
		}
	}
}
