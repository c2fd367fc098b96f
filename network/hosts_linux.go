package network

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// WriteHosts replaces etc/hosts under root with content, atomically: it writes
// a temporary file in etc, fsyncs it and renames it over hosts.
//
// root is a container's file system as the caller reaches it: /proc/PID/root
// while the container runs, its overlay upper folder while it is stopped. Never
// pass the upper folder of a running container. Overlayfs does not expect its
// layers to change under a mount (see the kernel's overlayfs documentation), and
// on Linux 6.x the container keeps reading the old file while later renames
// through the mount fail with ESTALE.
//
// Paths are resolved with openat2(2) RESOLVE_IN_ROOT, so a symbolic link that
// the container placed at /etc resolves inside root and cannot send the write to
// the host's files.
func WriteHosts(root string, content []byte) error {
	rootFD, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(rootFD)

	etcFD, err := openInRoot(rootFD, "etc")
	if errors.Is(err, unix.ENOENT) {
		// mkdirat does not follow a final symbolic link, so "etc" cannot escape.
		if err := unix.Mkdirat(rootFD, "etc", 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
			return &os.PathError{Op: "mkdirat", Path: root + "/etc", Err: err}
		}
		etcFD, err = openInRoot(rootFD, "etc")
	}
	if err != nil {
		return &os.PathError{Op: "openat2", Path: root + "/etc", Err: err}
	}
	defer unix.Close(etcFD)

	return replaceAt(etcFD, "hosts", content, root+"/etc")
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

// replaceAt writes content to a new file in the folder dirFD and renames it
// over name. dir names the folder in errors.
func replaceAt(dirFD int, name string, content []byte, dir string) (retErr error) {
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		return err
	}
	tmp := "." + name + ".rt-lab-" + hex.EncodeToString(suffix)
	fd, err := unix.Openat(dirFD, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return &os.PathError{Op: "openat", Path: dir + "/" + tmp, Err: err}
	}
	f := os.NewFile(uintptr(fd), dir+"/"+tmp)

	defer func() {
		f.Close()
		if retErr != nil {
			unix.Unlinkat(dirFD, tmp, 0)
		}
	}()
	if _, err := f.Write(content); err != nil {
		return err
	}
	// The umask may have cut the mode given to openat.
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}

	if err := unix.Renameat(dirFD, tmp, dirFD, name); err != nil {
		return &os.PathError{Op: "renameat", Path: dir + "/" + name, Err: err}
	}
	if err := unix.Fsync(dirFD); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}
