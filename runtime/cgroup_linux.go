package runtime

import (
	"errors"
	"strconv"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// Cgroup returns the cgroup manager of container name: group NAME under the
// parent group named for the root folder. The group exists only while the
// container runs.
func (r *Runtime) Cgroup(name string) (cgroups.Manager, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	return cgroups.New(cgroups.Config{Parent: cgroups.ParentName(r.root), Name: name})
}

// createCgroup creates c's group with its recorded limits. A leftover group
// without processes, from a crash, is reused.
func (r *Runtime) createCgroup(c *Container) (cgroups.Manager, error) {
	m, err := r.Cgroup(c.Name)
	if err != nil {
		return nil, err
	}
	if err := m.Create(limitsOf(c)); err != nil {
		return nil, usererr.Wrap(err, kindOf(err), "ErrCgroupSetup", "Name", c.Name)
	}
	return m, nil
}

// kindOf returns the kind of the user error in err's chain, or Failed, so that
// wrapping a usage or environment error keeps its exit status.
func kindOf(err error) usererr.Kind {
	var ue *usererr.Error
	if errors.As(err, &ue) {
		return ue.Kind
	}
	return usererr.Failed
}

// limitsOf returns the cgroup limits recorded for c. A state file written
// before the pids limit existed gets DefaultPids.
func limitsOf(c *Container) cgroups.Limits {
	pids := c.Pids
	if pids == 0 {
		pids = DefaultPids
	}
	return cgroups.Limits{MemoryBytes: c.MemoryBytes, CPUPercent: c.CPUPercent, Pids: pids}
}

// checkLimits rejects limits outside the ranges that ParseRAM, ParseCPU and
// ParsePids accept, for callers that build options without those parsers. Zero
// memory or CPU means no limit, and zero pids means DefaultPids.
func checkLimits(memory int64, cpu int, pids int64) error {
	if memory != 0 {
		host, err := HostMemory()
		if err != nil {
			return err
		}
		if _, err := checkMemory(strconv.FormatInt(memory, 10), memory, host); err != nil {
			return err
		}
	}
	if cpu != 0 {
		if _, err := ParseCPU(strconv.Itoa(cpu), HostCPUs()); err != nil {
			return err
		}
	}
	if pids != 0 {
		if _, err := ParsePids(strconv.FormatInt(pids, 10)); err != nil {
			return err
		}
	}
	return nil
}

// removeCgroup removes container name's group and, when no other container of
// this root runs, the parent group. A missing group is not an error, and neither
// is a host without cgroups, where no group can exist.
func (r *Runtime) removeCgroup(name string) error {
	if _, err := cgroups.Detect(); err != nil {
		return nil
	}
	m, err := r.Cgroup(name)
	if err != nil {
		return err
	}
	if err := m.Destroy(); err != nil {
		return usererr.Wrap(err, usererr.Failed, "ErrCgroupRemove", "Name", name)
	}
	return nil
}
