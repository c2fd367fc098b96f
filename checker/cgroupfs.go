package checker

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/rt-lab/rt-lab/internal/procfs"
)

// cgroupView is where a process's cgroups are on the host, found from the kernel
// alone: /proc/PID/cgroup names the group of each hierarchy, and the checker's
// own mountinfo names where each hierarchy is mounted. It does not read the runtime's state.
type cgroupView struct {
	// Dirs maps a controller (memory, cpu, pids) to the host folder of the group
	// that controls the process.
	Dirs map[string]string
	// V2 maps a controller to true when its folder is on the cgroup2 hierarchy.
	V2 map[string]bool
}

// cgroupLine is one line of /proc/PID/cgroup: "ID:CONTROLLERS:PATH".
type cgroupLine struct {
	ID          string
	Controllers []string // empty on the cgroup2 line ("0::/path")
	Path        string
}

func parseProcCgroup(data string) ([]cgroupLine, error) {
	var out []cgroupLine
	for n, line := range strings.Split(strings.TrimSpace(data), "\n") {
		if line == "" {
			continue
		}
		id, rest, ok1 := strings.Cut(line, ":")
		ctrl, path, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 || !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("invalid line %d in /proc/PID/cgroup: %q", n+1, line)
		}
		l := cgroupLine{ID: id, Path: path}
		if ctrl != "" {
			l.Controllers = strings.Split(ctrl, ",")
		}
		out = append(out, l)
	}
	return out, nil
}

// resolveCgroups maps each controller in want to a host folder, given the lines
// of /proc/PID/cgroup and the checker's mounts. A v1 hierarchy that lists the
// controller wins; otherwise the cgroup2 hierarchy serves it when its
// cgroup.controllers file lists it (read through readFile, for tests).
func resolveCgroups(lines []cgroupLine, mounts []procfs.Mount, want []string,
	readFile func(string) ([]byte, error)) cgroupView {
	v := cgroupView{Dirs: map[string]string{}, V2: map[string]bool{}}
	var unified string
	for _, m := range mounts {
		if m.FSType == "cgroup2" && unified == "" {
			unified = m.MountPoint
		}
	}
	for _, ctrl := range want {
		for _, l := range lines {
			if !slices.Contains(l.Controllers, ctrl) {
				continue
			}
			for _, m := range mounts {
				if m.FSType == "cgroup" && slices.Contains(m.SuperOptions, ctrl) {
					v.Dirs[ctrl] = filepath.Join(m.MountPoint, l.Path)
					break
				}
			}
		}
		if _, ok := v.Dirs[ctrl]; ok || unified == "" {
			continue
		}
		for _, l := range lines {
			if l.ID != "0" || len(l.Controllers) != 0 {
				continue
			}
			dir := filepath.Join(unified, l.Path)
			data, err := readFile(filepath.Join(dir, "cgroup.controllers"))
			if err == nil && slices.Contains(strings.Fields(string(data)), ctrl) {
				v.Dirs[ctrl], v.V2[ctrl] = dir, true
			}
		}
	}
	return v
}

// readCgroupView finds the memory, cpu and pids groups of pid.
func readCgroupView(pid int) (cgroupView, error) {
	data, err := os.ReadFile(fmt.Sprintf("%s/%d/cgroup", procfs.Root, pid))
	if err != nil {
		return cgroupView{}, err
	}
	lines, err := parseProcCgroup(string(data))
	if err != nil {
		return cgroupView{}, err
	}
	mounts, err := procfs.Mounts(os.Getpid())
	if err != nil {
		return cgroupView{}, err
	}
	return resolveCgroups(lines, mounts, []string{"memory", "cpu", "pids"}, os.ReadFile), nil
}

// cgroupValue is one value read from a cgroup file, with where it came from.
type cgroupValue struct {
	File      string // full path, shown as evidence
	Raw       string // the file's text, trimmed
	Unlimited bool   // "max" or -1
	N         int64
}

// readCgroupInt reads a file holding one number, "max" (v2) or -1 (v1 cpu quota).
func readCgroupInt(path string) (cgroupValue, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return cgroupValue{}, err
	}
	v := cgroupValue{File: path, Raw: strings.TrimSpace(string(data))}
	if v.Raw == "max" || v.Raw == "-1" {
		v.Unlimited = true
		return v, nil
	}
	v.N, err = strconv.ParseInt(v.Raw, 10, 64)
	if err != nil {
		return cgroupValue{}, fmt.Errorf("invalid value %q in %s: not a number", v.Raw, path)
	}
	return v, nil
}

// readKeyed reads one "key value" line from a flat-keyed file such as cpu.stat,
// memory.events or v1's memory.oom_control.
func readKeyed(path, key string) (cgroupValue, error) {
	f, err := os.Open(path)
	if err != nil {
		return cgroupValue{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || k != key {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
		if err != nil {
			return cgroupValue{}, fmt.Errorf("invalid %s value %q in %s: not a number", key, val, path)
		}
		return cgroupValue{File: path, Raw: sc.Text(), N: n}, nil
	}
	if err := sc.Err(); err != nil {
		return cgroupValue{}, err
	}
	return cgroupValue{}, fmt.Errorf("missing %s line in %s", key, path)
}

// memoryLimit reads the memory limit of the group in dir.
func memoryLimit(dir string, v2 bool) (cgroupValue, error) {
	if v2 {
		return readCgroupInt(filepath.Join(dir, "memory.max"))
	}
	v, err := readCgroupInt(filepath.Join(dir, "memory.limit_in_bytes"))
	// v1 shows "no limit" as the largest multiple of the page size.
	if err == nil && v.N >= 1<<62 {
		v.Unlimited = true
	}
	return v, err
}

// cpuQuota reads the CPU quota and period, in microseconds, of the group in dir.
func cpuQuota(dir string, v2 bool) (quota, period cgroupValue, err error) {
	if v2 {
		path := filepath.Join(dir, "cpu.max")
		data, err := os.ReadFile(path)
		if err != nil {
			return quota, period, err
		}
		raw := strings.TrimSpace(string(data))
		q, p, ok := strings.Cut(raw, " ")
		quota = cgroupValue{File: path, Raw: raw, Unlimited: q == "max"}
		period = cgroupValue{File: path, Raw: raw}
		if !ok {
			return quota, period, fmt.Errorf("invalid value %q in %s", raw, path)
		}
		if !quota.Unlimited {
			if quota.N, err = strconv.ParseInt(q, 10, 64); err != nil {
				return quota, period, fmt.Errorf("invalid value %q in %s", raw, path)
			}
		}
		if period.N, err = strconv.ParseInt(p, 10, 64); err != nil {
			return quota, period, fmt.Errorf("invalid value %q in %s", raw, path)
		}
		return quota, period, nil
	}
	if quota, err = readCgroupInt(filepath.Join(dir, "cpu.cfs_quota_us")); err != nil {
		return quota, period, err
	}
	period, err = readCgroupInt(filepath.Join(dir, "cpu.cfs_period_us"))
	return quota, period, err
}

// oomKills reads how many processes of the group in dir the OOM killer ended.
// v1 has the counter in memory.oom_control since Linux 4.13.
func oomKills(dir string, v2 bool) (cgroupValue, error) {
	if v2 {
		return readKeyed(filepath.Join(dir, "memory.events"), "oom_kill")
	}
	return readKeyed(filepath.Join(dir, "memory.oom_control"), "oom_kill")
}
