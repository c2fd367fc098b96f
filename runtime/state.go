package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/rt-lab/rt-lab/internal/fsutil"
	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// Get loads container name and computes its status. An unknown container is a
// usage error that names it.
func (r *Runtime) Get(name string) (*Container, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	c, err := r.load(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, usererr.New(usererr.Usage, "ErrContainerNotFound", "Name", name)
	}
	return c, err
}

func (r *Runtime) load(name string) (*Container, error) {
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
	if procfs.Alive(c.PID, c.PIDStart) {
		c.Status = StatusRunning
	}
	return &c, nil
}

func (r *Runtime) save(c *Container) error {
	c.Version = StateVersion
	return fsutil.WriteJSONAtomic(r.statePath(c.Name), c, 0o644)
}

// List returns every recorded container sorted by name. A folder without a
// readable state file (a create cut short) is skipped.
func (r *Runtime) List() ([]*Container, error) {
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
		c, err := r.load(e.Name())
		if err != nil {
			continue
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
