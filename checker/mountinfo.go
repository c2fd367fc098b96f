package checker

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// mount is one line of /proc/PID/mountinfo (see proc_pid_mountinfo(5)).
type mount struct {
	MountPoint   string
	FSType       string
	Source       string
	SuperOptions []string // per-superblock options, unescaped, for example "upperdir=/x"
}

// option returns the value of key=value in the super options.
func (m mount) option(key string) (string, bool) {
	for _, opt := range m.SuperOptions {
		if v, ok := strings.CutPrefix(opt, key+"="); ok {
			return v, true
		}
	}
	return "", false
}

// parseMountinfo parses mountinfo lines: ID, parent ID, major:minor, root, mount
// point, mount options, optional fields ended by "-", then file system type, source
// and super options.
func parseMountinfo(r io.Reader) ([]mount, error) {
	var mounts []mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		fields := strings.Fields(sc.Text())
		sep := -1
		for i := 6; i < len(fields); i++ {
			if fields[i] == "-" {
				sep = i
				break
			}
		}
		if len(fields) < 7 || sep < 0 || sep+2 >= len(fields) {
			return nil, fmt.Errorf("parse mountinfo line %d: %q: missing fields", line, sc.Text())
		}
		m := mount{
			MountPoint: unescapeOctal(fields[4]),
			FSType:     fields[sep+1],
			Source:     unescapeOctal(fields[sep+2]),
		}
		if sep+3 < len(fields) {
			// The kernel escapes ',' inside option values (seq_show_option), so a
			// literal comma always separates two options.
			for _, opt := range strings.Split(fields[sep+3], ",") {
				m.SuperOptions = append(m.SuperOptions, unescapeOctal(opt))
			}
		}
		mounts = append(mounts, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	return mounts, nil
}

// unescapeOctal decodes the \ooo escapes the kernel writes for space, tab, newline,
// backslash and, in option values, comma and '='.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// rootMount returns the mount at "/". When several are stacked there, the last
// line is the one on top, which is the one the process sees.
func rootMount(mounts []mount) (mount, bool) {
	for i := len(mounts) - 1; i >= 0; i-- {
		if mounts[i].MountPoint == "/" {
			return mounts[i], true
		}
	}
	return mount{}, false
}

// readRootMount returns the "/" mount as process pid sees it.
func readRootMount(procRoot string, pid int) (mount, error) {
	path := fmt.Sprintf("%s/%d/mountinfo", procRoot, pid)
	f, err := os.Open(path)
	if err != nil {
		return mount{}, err
	}
	defer f.Close()
	mounts, err := parseMountinfo(f)
	if err != nil {
		return mount{}, fmt.Errorf("read %s: %w", path, err)
	}
	m, ok := rootMount(mounts)
	if !ok {
		return mount{}, fmt.Errorf("read %s: no mount at /", path)
	}
	return m, nil
}

// sameDir reports whether two paths name the same folder: equal after cleaning, or
// the same inode when both exist (a symlinked state folder shows its resolved path).
func sameDir(a, b string) bool {
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
