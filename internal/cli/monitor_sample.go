package cli

import (
	"time"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/runtime"
)

// reading is one reading of a container's cgroup counters, with the recorded
// state needed to tell whether two readings are of the same run.
type reading struct {
	At       time.Time // wall and monotonic time just after the counters were read
	Name     string
	State    runtime.Status
	PID      int    // host PID of the container's init while it runs
	PIDStart uint64 // start time of PID, so a restart between readings shows
	Started  time.Time

	// Recorded limits, shown while the house is stopped and has no cgroup.
	MemoryBytes int64
	CPUPercent  int
	Pids        int64

	Version cgroups.Version // 0 when the host has no usable cgroups
	Paths   []string        // group folders, one per hierarchy, without repeats
	Stats   *cgroups.Stats  // nil while the container is stopped
}

// running reports whether r holds counters of a running container.
func (r reading) running() bool { return r.State == runtime.StatusRunning && r.Stats != nil }

// cpuUse is the CPU time a container used between two readings.
type cpuUse struct {
	Percent float64       // percent of one CPU: 100 is one CPU busy all the time
	Over    time.Duration // wall time between the two readings
}

// cpuBetween returns the CPU use between prev and cur. It reports false when
// the use cannot be known: either reading is of a stopped container, the
// container restarted in between (a new cgroup starts at zero), or no time
// passed.
func cpuBetween(prev, cur reading) (cpuUse, bool) {
	if !prev.running() || !cur.running() || prev.PID != cur.PID || prev.PIDStart != cur.PIDStart {
		return cpuUse{}, false
	}
	wall := cur.At.Sub(prev.At)
	used := cur.Stats.CPUUsage - prev.Stats.CPUUsage
	if wall <= 0 || used < 0 {
		return cpuUse{}, false
	}
	return cpuUse{Percent: 100 * float64(used) / float64(wall), Over: wall}, true
}

// cpuSinceStart returns the average CPU use from the container's start to
// cur.At, from the cumulative usage alone. The cgroup is created at start, so
// its counter covers that time. It reports false when the start time is unknown
// or not before cur.At.
//
// NOTE: the runtime records the start time to the second, so for a house a
// few seconds old the average comes out up to one second's worth too low.
func cpuSinceStart(cur reading) (cpuUse, bool) {
	if !cur.running() || cur.Started.IsZero() {
		return cpuUse{}, false
	}
	wall := cur.At.Sub(cur.Started)
	if wall <= 0 {
		return cpuUse{}, false
	}
	return cpuUse{Percent: 100 * float64(cur.Stats.CPUUsage) / float64(wall), Over: wall}, true
}

// cpuLimitPercent returns the CPU limit of s in percent of one CPU, or 0 for
// no limit.
func cpuLimitPercent(s *cgroups.Stats) float64 {
	if s.CPUQuota < 0 || s.CPUPeriod <= 0 {
		return 0
	}
	return 100 * float64(s.CPUQuota) / float64(s.CPUPeriod)
}

// groupPaths returns the folders of m for the controllers rt-lab uses, in a
// fixed order and without repeats: one folder on v2, up to four on v1.
func groupPaths(m cgroups.Manager) []string {
	var paths []string
	seen := map[string]bool{}
	for _, c := range []string{cgroups.Memory, cgroups.CPU, cgroups.CPUAcct, cgroups.Pids} {
		p := m.Path(c)
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		paths = append(paths, p)
	}
	return paths
}

// readContainer reads the state and, while it runs, the cgroup counters of
// container name. An unknown name is the runtime's usage error.
func readContainer(r *runtime.Runtime, name string) (reading, error) {
	c, err := r.Get(name)
	if err != nil {
		return reading{}, err
	}
	sample := reading{Name: c.Name, State: c.Status, MemoryBytes: c.MemoryBytes, CPUPercent: c.CPUPercent, Pids: c.Pids}
	if sample.Pids == 0 {
		sample.Pids = runtime.DefaultPids
	}
	m, cgroupErr := r.Cgroup(name)
	if cgroupErr == nil {
		sample.Version, sample.Paths = m.Version(), groupPaths(m)
	}
	if c.Status != runtime.StatusRunning {
		// A stopped container has no cgroup, so a host without cgroups is no
		// reason to fail here.
		sample.At = time.Now()
		return sample, nil
	}
	if cgroupErr != nil {
		return reading{}, cgroupErr
	}
	sample.PID, sample.PIDStart, sample.Started = c.PID, c.PIDStart, c.Started

	st, err := m.Stats()
	sample.At = time.Now()
	if err == nil {
		sample.Stats = &st
		return sample, nil
	}
	// Stop removes the group, so a container that stopped after Get has no
	// counters to read and is simply stopped now.
	if again, getErr := r.Get(name); getErr == nil && again.Status != runtime.StatusRunning {
		sample.State, sample.PID, sample.PIDStart, sample.Started = again.Status, 0, 0, time.Time{}
		return sample, nil
	}
	if !m.Exists() {
		return reading{}, usererr.Wrap(err, usererr.Failed, "ErrMonitorNoCgroup", "Name", name, "Path", m.Path(cgroups.Memory))
	}
	return reading{}, usererr.Wrap(err, usererr.Failed, "ErrMonitorRead", "Name", name)
}
