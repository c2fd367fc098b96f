package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	goruntime "runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/cgroups"
)

// machine describes where the benchmark ran, for the benchmark page.
type machine struct {
	Date       string `json:"date"`
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	Kernel     string `json:"kernel"`
	Cgroup     string `json:"cgroup"`
	MemoryMiB  int64  `json:"memory_mib"`
	LoadStart  string `json:"load_start"`
	LoadEnd    string `json:"load_end,omitempty"`
	RTLab      string `json:"rt_lab"`
	Runc       string `json:"runc"`
	Go         string `json:"go"`
	StateFS    string `json:"state_fs"`
	StateMount string `json:"state_mount"`
}

func describeMachine(rtlabBin, runcBin, stateDir string) machine {
	m := machine{
		Date:      time.Now().UTC().Format("2006-01-02 15:04 MST"),
		CPU:       cpuModel(),
		Cores:     goruntime.NumCPU(),
		Kernel:    kernelRelease(),
		Cgroup:    cgroupVersion(),
		MemoryMiB: meminfo()["MemTotal"] / 1024,
		LoadStart: loadAverage(),
		RTLab:     firstLine(rtlabBin, "--version"),
		Runc:      firstLine(runcBin, "--version"),
		Go:        goruntime.Version(),
	}
	m.StateFS, m.StateMount = fileSystemOf(stateDir)
	return m
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// cgroupVersion names the hierarchy rt-lab uses. A v1 host with an empty
// cgroup2 mount at /sys/fs/cgroup/unified is "hybrid".
func cgroupVersion() string {
	v, err := cgroups.Detect()
	if err != nil {
		return "none (" + err.Error() + ")"
	}
	if v == cgroups.V1 && fileExists("/sys/fs/cgroup/unified/cgroup.controllers") {
		return "v1 (hybrid)"
	}
	return v.String()
}

// meminfo returns the fields of /proc/meminfo in KiB.
func meminfo() map[string]int64 {
	out := map[string]int64{}
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err == nil {
			out[k] = n
		}
	}
	return out
}

// loadAverage returns the 1, 5 and 15 minute load averages.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// load1 returns the one-minute load average, or -1.
func load1() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

func firstLine(bin string, args ...string) string {
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// fileSystemOf returns the file system type and mount point that holds path,
// from the longest matching mount point in /proc/self/mountinfo.
func fileSystemOf(path string) (string, string) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "unknown", ""
	}
	best, fsType := "", "unknown"
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+1 >= len(fields) || len(fields) < 5 {
			continue
		}
		mp := fields[4]
		under := path == mp || strings.HasPrefix(path, strings.TrimSuffix(mp, "/")+"/")
		if under && len(mp) > len(best) {
			best, fsType = mp, fields[sep+1]
		}
	}
	return fsType, best
}

func (m machine) String() string {
	return fmt.Sprintf("%s, %d cores, %d MiB, kernel %s, cgroup %s", m.CPU, m.Cores, m.MemoryMiB, m.Kernel, m.Cgroup)
}
