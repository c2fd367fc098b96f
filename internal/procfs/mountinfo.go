package procfs

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// Mount is one line of /proc/PID/mountinfo (see proc_pid_mountinfo(5)).
type Mount struct {
	MountPoint   string
	FSType       string
	Source       string
	SuperOptions []string // per-superblock options, unescaped, for example "upperdir=/x"
}

// Option returns the value of key=value in the super options.
func (m Mount) Option(key string) (string, bool) {
	for _, opt := range m.SuperOptions {
		if v, ok := strings.CutPrefix(opt, key+"="); ok {
			return v, true
		}
	}
	return "", false
}

// Mounts returns the mounts that process pid sees, in the order of its
// mountinfo file: a mount stacked on another comes after it.
func Mounts(pid int) ([]Mount, error) {
	path := fmt.Sprintf("%s/%d/mountinfo", Root, pid)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	mounts, err := ParseMountinfo(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return mounts, nil
}

// RootMount returns the mount at "/" as process pid sees it: the top one when
// several are stacked there.
func RootMount(pid int) (Mount, error) {
	mounts, err := Mounts(pid)
	if err != nil {
		return Mount{}, err
	}
	if m, ok := TopMount(mounts, "/"); ok {
		return m, nil
	}
	return Mount{}, fmt.Errorf("read %s/%d/mountinfo: no mount at /", Root, pid)
}

// TopMount returns the mount at point from mounts in mountinfo order. When
// several are stacked there, the last line is the one on top, which is the one
// a process sees.
func TopMount(mounts []Mount, point string) (Mount, bool) {
	for i := len(mounts) - 1; i >= 0; i-- {
		if mounts[i].MountPoint == point {
			return mounts[i], true
		}
	}
	return Mount{}, false
}

// ParseMountinfo parses mountinfo lines: ID, parent ID, major:minor, root,
// mount point, mount options, optional fields ended by "-", then file system
// type, source and super options.
func ParseMountinfo(r io.Reader) ([]Mount, error) {
	var mounts []Mount
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
		m := Mount{
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

// unescapeOctal decodes the \ooo escapes the kernel writes for space, tab,
// newline, backslash and, in option values, comma and '='.
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
