package diag

import (
	"os"

	"golang.org/x/sys/unix"
)

// nsInode returns the inode of a /proc/PID/ns/KIND file. On the real procfs
// stat(2) follows the link to the namespace's nsfs inode, so two processes
// share a namespace exactly when the inodes are equal.
func nsInode(path string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return st.Ino, nil
}
