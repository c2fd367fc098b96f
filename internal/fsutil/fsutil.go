// Package fsutil has the file helpers that rt-lab's state needs: atomic writes
// and an exclusive lock file.
package fsutil

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// WriteFileAtomic replaces path with data so that a reader sees either the old
// content or the new, never a mix: it writes a temporary file in the same folder,
// fsyncs it, renames it over path and fsyncs the folder.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	if err := ReplaceFile(path, data, perm); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// ReplaceFile is WriteFileAtomic without the fsync of the folder. After a
// crash of the machine, path has either its old content or the new one, each
// complete, but the new one may be lost. It suits a file whose old content is
// as valid as the new after a reboot.
func ReplaceFile(path string, data []byte, perm os.FileMode) (retErr error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if retErr != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// WriteJSONAtomic encodes v as indented JSON and writes it with WriteFileAtomic.
func WriteJSONAtomic(path string, v any, perm os.FileMode) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return WriteFileAtomic(path, append(data, '\n'), perm)
}

// ReplaceJSON encodes v as indented JSON and writes it with ReplaceFile.
func ReplaceJSON(path string, v any, perm os.FileMode) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return ReplaceFile(path, append(data, '\n'), perm)
}

// SyncDir fsyncs a folder so a rename or create inside it survives a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Lock is an flock(2) lock held on an open file.
type Lock struct{ f *os.File }

// LockFile takes an flock on path, creating the file if needed. Exclusive locks
// are for changes, shared ones for readers that need a consistent view. The kernel
// drops the lock when the process dies, so a crash never leaves it stuck.
func LockFile(path string, exclusive bool) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	return &Lock{f: f}, nil
}

// Unlock releases the lock. It is safe to call on a nil lock.
func (l *Lock) Unlock() {
	if l == nil || l.f == nil {
		return
	}
	unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	l.f.Close()
	l.f = nil
}

// SameDir reports whether two paths name the same folder: equal after
// cleaning, or the same inode when both exist, as when one path goes through a
// symbolic link. An empty path matches nothing.
func SameDir(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// CopyFile copies the regular file src to dst, which must not exist yet, and
// gives dst the permission bits perm whatever the umask.
func CopyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, perm)
}
