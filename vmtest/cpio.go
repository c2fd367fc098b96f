package main

import (
	"fmt"
	"io"
	"path"
	"strings"
)

// cpioWriter writes a cpio archive in the "newc" format, the one the Linux
// kernel unpacks as an initramfs (Documentation/driver-api/early-userspace/
// buffer-format.rst). Every entry belongs to root and has mtime 0. Parent
// folders are added as needed, with mode 0755.
type cpioWriter struct {
	w      io.Writer
	offset int64
	inode  int
	dirs   map[string]bool
	err    error
}

// File type bits of the mode field, as in stat(2).
const (
	cpioDir     = 0o040000
	cpioRegular = 0o100000
	cpioSymlink = 0o120000
	cpioCharDev = 0o020000
)

func newCPIOWriter(w io.Writer) *cpioWriter {
	return &cpioWriter{w: w, dirs: map[string]bool{".": true, "": true}}
}

// Dir adds the folder name with permission bits perm.
func (c *cpioWriter) Dir(name string, perm uint32) error {
	name = cleanName(name)
	if c.dirs[name] {
		return c.err
	}
	c.parents(name)
	c.dirs[name] = true
	c.header(name, cpioDir|perm, 2, 0, 0, 0)
	return c.err
}

// File adds a regular file of size bytes read from r.
func (c *cpioWriter) File(name string, perm uint32, size int64, r io.Reader) error {
	name = cleanName(name)
	c.parents(name)
	c.header(name, cpioRegular|perm, 1, size, 0, 0)
	if c.err != nil {
		return c.err
	}
	n, err := io.Copy(c.w, io.LimitReader(r, size))
	c.offset += n
	if err == nil && n != size {
		err = fmt.Errorf("cpio: %s: got %d bytes, want %d", name, n, size)
	}
	if err != nil {
		c.err = err
		return err
	}
	c.pad()
	return c.err
}

// Symlink adds a symbolic link name that points to target.
func (c *cpioWriter) Symlink(name, target string) error {
	name = cleanName(name)
	c.parents(name)
	c.header(name, cpioSymlink|0o777, 1, int64(len(target)), 0, 0)
	c.write([]byte(target))
	c.pad()
	return c.err
}

// CharDev adds a character device node with the given major and minor numbers.
func (c *cpioWriter) CharDev(name string, perm uint32, major, minor int) error {
	name = cleanName(name)
	c.parents(name)
	c.header(name, cpioCharDev|perm, 1, 0, major, minor)
	return c.err
}

// Close writes the trailer entry. It does not close the underlying writer.
func (c *cpioWriter) Close() error {
	c.header("TRAILER!!!", 0, 1, 0, 0, 0)
	return c.err
}

func cleanName(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

func (c *cpioWriter) parents(name string) {
	if dir := path.Dir(name); !c.dirs[dir] {
		c.Dir(dir, 0o755)
	}
}

// header writes one entry's header and name. The header is 110 bytes: the
// magic "070701" and 13 eight-digit hexadecimal fields.
func (c *cpioWriter) header(name string, mode uint32, nlink int, size int64, rdevMajor, rdevMinor int) {
	if c.err != nil {
		return
	}
	if size > 0xffffffff {
		c.err = fmt.Errorf("cpio: %s is larger than 4 GiB", name)
		return
	}
	c.inode++
	ino := c.inode
	if name == "TRAILER!!!" {
		ino = 0
	}
	h := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		ino, mode, 0, 0, nlink, 0, size, 0, 0, rdevMajor, rdevMinor, len(name)+1, 0)
	c.write([]byte(h))
	c.write([]byte(name + "\x00"))
	c.pad()
}

func (c *cpioWriter) write(b []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(b)
	c.offset += int64(n)
	c.err = err
}

// pad aligns the offset to 4 bytes, as newc requires after names and data.
func (c *cpioWriter) pad() {
	if rest := c.offset % 4; rest != 0 {
		c.write(make([]byte, 4-rest))
	}
}
