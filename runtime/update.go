package runtime

import (
	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// UpdateOptions are the limits to change. A nil field keeps its value.
type UpdateOptions struct {
	MemoryBytes *int64
	CPUPercent  *int
	Pids        *int64
}

// Update changes the recorded limits of container name and, while it runs, the
// kernel limits of its cgroup. When the kernel rejects a limit, such as a memory
// limit below current usage, the earlier limits are written back and the state
// is not changed.
func (r *Runtime) Update(name string, opts UpdateOptions) (*Container, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	l, err := r.lock()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	c, err := r.Get(name)
	if err != nil {
		return nil, err
	}

	updated := *c
	if opts.MemoryBytes != nil {
		updated.MemoryBytes = *opts.MemoryBytes
	}
	if opts.CPUPercent != nil {
		updated.CPUPercent = *opts.CPUPercent
	}
	if opts.Pids != nil {
		updated.Pids = *opts.Pids
	}
	if err := checkLimits(updated.MemoryBytes, updated.CPUPercent, updated.Pids); err != nil {
		return nil, err
	}
	if updated.Pids == 0 {
		updated.Pids = DefaultPids
	}

	if c.Status != StatusRunning {
		if err := r.save(&updated); err != nil {
			return nil, err
		}
		return &updated, nil
	}
	cg, err := r.Cgroup(name)
	if err != nil {
		return nil, err
	}
	if !cg.Exists() {
		return nil, usererr.New(usererr.Failed, "ErrCgroupMissing", "Name", name, "Path", cg.Path(cgroups.Memory))
	}
	if err := cg.Set(limitsOf(&updated)); err != nil {
		// Set writes memory, then CPU, then pids, so a later failure can leave
		// an earlier limit changed. The old limits were in force until now, so
		// writing them back is expected to work; the first error is the one
		// reported.
		cg.Set(limitsOf(c))
		return nil, usererr.Wrap(err, kindOf(err), "ErrUpdateFailed", "Name", name)
	}
	if err := r.save(&updated); err != nil {
		cg.Set(limitsOf(c))
		return nil, err
	}
	return &updated, nil
}
