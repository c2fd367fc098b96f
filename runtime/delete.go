package runtime

import (
	"os"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// Delete removes every trace of container name: its state, root file system and
// log. A running container needs force, which stops it first. The house's mounts
// live only in its own mount namespace, which the kernel frees when its last
// process exits, so no unmount is needed on the host.
func (r *Runtime) Delete(name string, force bool) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	l, err := r.lock()
	if err != nil {
		return err
	}
	defer l.Unlock()
	c, err := r.Get(name)
	if err != nil {
		return err
	}
	if c.Status == StatusRunning {
		if !force {
			return usererr.New(usererr.Usage, "ErrDeleteRunning", "Name", name)
		}
		if err := r.stop(c, DefaultStopTimeout); err != nil {
			return err
		}
	}
	// A stopped house has no cgroup unless a crash left one behind.
	if err := r.removeCgroup(name); err != nil {
		return err
	}
	// Remove the state file first, so a crash during the removal leaves a folder
	// without state, which the next create or a recovery pass cleans up.
	if err := os.Remove(r.statePath(name)); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.RemoveAll(r.ContainerDir(name)); err != nil {
		return usererr.Wrap(err, usererr.Failed, "ErrDeleteFailed", "Name", name)
	}
	return nil
}
