package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/housetools"
)

// mountHouseTools bind-mounts the running rt-lab binary read-only at
// housetools.ToolsBinary inside rootfs, where the base's links in /usr/bin point,
// so eat-memory, ipcmk and the other tools run inside the house. It runs in the
// bootstrap, in the house's new mount namespace, before pivot_root.
//
// The source is the path of the running executable: the bootstrap is a re-exec
// of the rt-lab binary. /proc/self/exe itself cannot be the source, because the
// kernel resolves it to a mount of the host's mount namespace, and mount(2)
// rejects a bind from another namespace with EINVAL.
//
// NOTE: the binary must be statically linked (CGO_ENABLED=0, as `make build`
// does). A dynamically linked one mounts fine but fails inside the house with
// "not found", because the house has no program interpreter.
//
// A missing mount point is reported to warn, the house's init.log.
func mountHouseTools(rootfs string, warn io.Writer) error {
	target := filepath.Join(rootfs, housetools.ToolsBinary)
	fi, err := os.Lstat(target)
	if errors.Is(err, os.ErrNotExist) {
		// A house on a base built by an older rt-lab has no mount point: it runs
		// without the tools instead of failing to start.
		fmt.Fprintf(warn, "rt-lab: %s is missing, so this house has no house tools\n", housetools.ToolsBinary)
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("mount point %s of the house tools is not a regular file", housetools.ToolsBinary)
	}

	source, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the rt-lab binary: %w", err)
	}
	if err := unix.Mount(source, target, "", unix.MS_BIND, ""); err != nil {
		return &os.PathError{Op: "bind mount rt-lab binary " + source + " at", Path: target, Err: err}
	}

	// MS_BIND ignores MS_RDONLY and the other flags on the first call, so they
	// take effect in a remount of the new bind mount (mount(2)). Without
	// read-only, root in the house could overwrite the host's rt-lab binary, and
	// nosuid keeps set-user-ID bits of the host file from counting in the house.
	// The remount keeps the source mount's noexec and access-time flags, because
	// in a user namespace the kernel rejects a remount that clears them.
	// NOTE: root in a house that keeps CAP_SYS_ADMIN and has no user namespace
	// can still remount this bind mount read-write; only dropping that capability
	// or a user namespace locks the read-only flag.
	var st unix.Statfs_t
	if err := unix.Statfs(target, &st); err != nil {
		return &os.PathError{Op: "statfs", Path: target, Err: err}
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV)
	for _, f := range keptMountFlags {
		if st.Flags&f.statfs != 0 {
			flags |= f.mount
		}
	}
	if err := unix.Mount("", target, "", flags, ""); err != nil {
		return &os.PathError{Op: "remount rt-lab binary read-only", Path: target, Err: err}
	}
	return nil
}

// keptMountFlags maps the statfs(2) flags that a bind remount keeps to their
// mount(2) flags; the two sets of values differ for the access-time flags.
var keptMountFlags = []struct {
	statfs int64
	mount  uintptr
}{
	{unix.ST_NOEXEC, unix.MS_NOEXEC},
	{unix.ST_NOATIME, unix.MS_NOATIME},
	{unix.ST_NODIRATIME, unix.MS_NODIRATIME},
	{unix.ST_RELATIME, unix.MS_RELATIME},
}
