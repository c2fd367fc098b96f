package runtime

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/network"
)

// mountPhoneBook bind-mounts the root's phone book folder source read-only at
// network.PhoneBookMount inside rootfs, where the house's /etc/hosts link
// points. It runs before pivot_root, as mountHouseTools does. An empty source
// mounts nothing.
//
// In a house with a user namespace the folder and file belong to host root,
// which the house sees as nobody, and stay readable through their mode 0755
// and 0644. Root in such a house cannot write them, because it has no
// capability over files of an unmapped owner.
func mountPhoneBook(source, rootfs string) error {
	if source == "" {
		return nil
	}
	target := rootfs + network.PhoneBookMount
	// prepareNetwork makes the mount point in the upper folder before the
	// start mounts anything. This also covers a house whose /etc/rt-lab was
	// removed since then.
	if err := os.MkdirAll(target, 0o755); err != nil {
		return err
	}

	if err := unix.Mount(source, target, "", unix.MS_BIND, ""); err != nil {
		return &os.PathError{Op: "bind mount phone book " + source + " at", Path: target, Err: err}
	}
	// MS_BIND ignores the other flags on the first call (mount(2)), so
	// read-only takes effect in a remount. See mountHouseTools for the kept
	// flags and for the limit of read-only in a house without a user namespace.
	var st unix.Statfs_t
	if err := unix.Statfs(target, &st); err != nil {
		return &os.PathError{Op: "statfs", Path: target, Err: err}
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	for _, f := range keptMountFlags {
		if st.Flags&f.statfs != 0 {
			flags |= f.mount
		}
	}
	if err := unix.Mount("", target, "", flags, ""); err != nil {
		return &os.PathError{Op: "remount phone book read-only", Path: target, Err: err}
	}
	return nil
}

// phoneBookDir returns the host folder of the root's phone book.
func (r *Runtime) phoneBookDir() string { return network.PhoneBookDir(r.root) }
