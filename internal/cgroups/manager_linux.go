package cgroups

import (
	"fmt"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

var (
	detectOnce    sync.Once
	detectVersion Version
	detectErr     error
)

// Detect returns the cgroup version of this host, found once per process.
func Detect() (Version, error) {
	detectOnce.Do(func() { detectVersion, detectErr = DetectAt(DefaultBase) })
	return detectVersion, detectErr
}

// DetectAt returns the cgroup version mounted at base, from the file system type
// that statfs(2) reports. cgroup2 means a pure v2 host. tmpfs means a v1 or
// hybrid host: its controllers sit in v1 hierarchies below base, even when a
// cgroup2 hierarchy is mounted too (often at base/unified).
func DetectAt(base string) (Version, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(base, &st); err != nil {
		return 0, usererr.Wrap(err, usererr.Environment, "ErrCgroupNotMounted", "Path", base)
	}
	switch st.Type {
	case unix.CGROUP2_SUPER_MAGIC:
		return V2, nil
	case unix.TMPFS_MAGIC:
		return V1, nil
	}
	return 0, usererr.New(usererr.Environment, "ErrCgroupNotMounted", "Path", base)
}

// New returns a Manager for group cfg.Parent/cfg.Name. It changes nothing until
// Create.
func New(cfg Config) (Manager, error) {
	if err := ValidateName(cfg.Parent); err != nil {
		return nil, err
	}
	if err := ValidateName(cfg.Name); err != nil {
		return nil, err
	}
	v, base, err := resolve(cfg.Version, cfg.Base)
	if err != nil {
		return nil, err
	}
	if v == V2 {
		return newV2(base, cfg.Parent, cfg.Name), nil
	}
	return newV1(base, cfg.Parent, cfg.Name), nil
}

// ForProcess returns a Manager for the group that process pid is in now, found
// from /proc/PID/cgroup rather than from any recorded name. Its Destroy removes
// only that group, not the parent.
func ForProcess(pid int) (Manager, error) {
	groups, err := ProcGroup(pid)
	if err != nil {
		return nil, err
	}
	return ForGroups(0, "", groups)
}

// ForGroups is ForProcess for groups already read, with version v (0: Detect)
// and cgroupfs mount folder base (empty: DefaultBase).
func ForGroups(v Version, base string, groups ProcGroups) (Manager, error) {
	v, base, err := resolve(v, base)
	if err != nil {
		return nil, err
	}
	if v == V2 {
		path, ok := groups[""]
		if !ok {
			return nil, fmt.Errorf("process has no cgroup v2 group")
		}
		return &v2{base: base, dir: filepath.Join(base, path), rmdir: unix.Rmdir, write: writeFile}, nil
	}
	m := &v1{base: base, dirs: map[string]string{}, rmdir: unix.Rmdir, write: writeFile}
	for _, c := range v1Controllers {
		path, ok := groups[c]
		if !ok {
			return nil, noController(c, filepath.Join(base, c))
		}
		m.dirs[c] = filepath.Join(base, c, path)
	}
	return m, nil
}

// CheckControllers fails with a message naming the kernel option when the host
// lacks a controller that rt-lab uses. Version 0 detects it, and an empty base
// means DefaultBase.
func CheckControllers(v Version, base string) error {
	v, base, err := resolve(v, base)
	if err != nil {
		return err
	}
	if v == V2 {
		return checkV2(base)
	}
	return checkV1(base)
}

func resolve(v Version, base string) (Version, string, error) {
	if base == "" {
		base = DefaultBase
	}
	var err error
	switch {
	case v == 0 && base == DefaultBase:
		v, err = Detect()
	case v == 0:
		v, err = DetectAt(base)
	}
	if err != nil {
		return 0, "", err
	}
	if v != V1 && v != V2 {
		return 0, "", fmt.Errorf("unknown cgroup version %d", v)
	}
	return v, base, nil
}
