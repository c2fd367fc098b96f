package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/rt-lab/rt-lab/internal/fsutil"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// Get loads container name and computes its status. An unknown container is a
// usage error that names it, and so is a folder that a create cut short left
// without a state file. A state file that cannot be read is ErrContainerBroken;
// the command line prints its fix (recover-state, then delete --force).
func (r *Runtime) Get(name string) (*Container, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	c, err := r.load(name)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, usererr.New(usererr.Usage, "ErrContainerNotFound", "Name", name)
	case err != nil:
		return nil, brokenError(name, r.statePath(name), err)
	}
	return c, nil
}

func brokenError(name, path string, err error) error {
	return usererr.Wrap(err, usererr.Failed, "ErrContainerBroken", "Name", name, "Path", path)
}

// load reads the state file of container name. Its status is running only
// when the kernel confirms the recorded PID (see verifyInit). The PID fields
// keep the recorded values either way, so callers can report what the file
// claimed.
func (r *Runtime) load(name string) (*Container, error) {
	c, err := r.loadRecord(name)
	if err != nil {
		return nil, err
	}
	if c.PID > 0 && verifyInit(c.PID, c.PIDStart, r.UpperDir(name)) == nil {
		c.Status = StatusRunning
	}
	return c, nil
}

// loadRecord is load without asking the kernel: the status is always
// stopped. It suits callers that need only recorded fields.
func (r *Runtime) loadRecord(name string) (*Container, error) {
	data, err := os.ReadFile(r.statePath(name))
	if err != nil {
		return nil, err
	}
	var c Container
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, usererr.Wrap(err, usererr.Failed, "ErrStateCorrupt", "Path", r.statePath(name))
	}
	if c.Version > StateVersion {
		return nil, usererr.New(usererr.Failed, "ErrStateVersion", "Path", r.statePath(name), "Version", c.Version)
	}
	if c.Name != name {
		return nil, usererr.Wrap(fmt.Errorf("name field is %q", c.Name), usererr.Failed, "ErrStateCorrupt", "Path", r.statePath(name))
	}
	c.Status = StatusStopped
	return &c, nil
}

func (r *Runtime) save(c *Container) error {
	c.Version = StateVersion
	return fsutil.WriteJSONAtomic(r.statePath(c.Name), c, 0o644)
}

// saveInit saves c after a change of its init fields (PID, PIDStart, Started)
// alone, as start and stop make. It skips the fsync of the house's folder
// that save makes, because after a crash of the machine no init runs, and
// the old file then names either no init or one that verifyInit rejects. So
// the old file is as valid as the new. The file itself is still fsynced
// before the rename, so that it is never found empty or cut short.
func (r *Runtime) saveInit(c *Container) error {
	c.Version = StateVersion
	return fsutil.ReplaceJSON(r.statePath(c.Name), c, 0o644)
}

// Incomplete reports whether container name has a folder but no state file:
// the remains of a create that was cut short, which was never a container.
// Create cleans such a folder up and Delete with force removes it.
func (r *Runtime) Incomplete(name string) bool {
	if ValidateName(name) != nil {
		return false
	}
	if _, err := os.Stat(r.statePath(name)); !errors.Is(err, os.ErrNotExist) {
		return false
	}
	fi, err := os.Stat(r.ContainerDir(name))
	return err == nil && fi.IsDir()
}

// List returns every recorded container sorted by name. A container whose
// state file cannot be read is listed with StatusBroken and the reason in Err,
// so it stays visible until it is deleted. A folder without a state file (a
// create cut short) is skipped.
func (r *Runtime) List() ([]*Container, error) {
	return r.list(r.load)
}

// listRecords is List without asking the kernel whether each house's init
// runs, so every readable house has status stopped (see loadRecord).
func (r *Runtime) listRecords() ([]*Container, error) {
	return r.list(r.loadRecord)
}

func (r *Runtime) list(load func(name string) (*Container, error)) ([]*Container, error) {
	entries, err := os.ReadDir(r.containersDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Container
	for _, e := range entries {
		if !e.IsDir() || ValidateName(e.Name()) != nil {
			continue
		}
		c, err := load(e.Name())
		switch {
		case errors.Is(err, os.ErrNotExist):
			continue
		case err != nil:
			c = &Container{Name: e.Name(), Status: StatusBroken, Err: err}
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
