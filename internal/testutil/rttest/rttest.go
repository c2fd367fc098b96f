// Package rttest opens real rt-lab runtimes for tests and edits their records.
// It imports runtime, so the tests inside package runtime cannot use it.
package rttest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/rt-lab/rt-lab/runtime"
)

// NewRuntime opens the runtime of state folder root. When the test ends, even
// when it fails, it deletes every house in root and then removes root's bridge,
// and reports each cleanup failure as a test error. Call it after the
// t.TempDir that made root, so that the cleanup runs before the folder goes:
// a later one would make the root's lock file again.
func NewRuntime(t testing.TB, root string) *runtime.Runtime {
	t.Helper()
	r, err := runtime.New(runtime.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cs, _ := r.List()
		for _, c := range cs {
			if err := r.Delete(c.Name, true); err != nil {
				t.Errorf("cleanup: delete %s: %v", c.Name, err)
			}
		}
		if err := r.RemoveBridge(true); err != nil {
			t.Errorf("cleanup: remove bridge: %v", err)
		}
	})
	return r
}

// EditState sets fields of house name's state.json, such as "pid" and
// "pid_start", and puts the original file back when the test ends. Call it
// after NewRuntime, so that the file is back before the houses are deleted
// (cleanups run last first) and Delete never acts on a record the test made up.
func EditState(t testing.TB, r *runtime.Runtime, name string, fields map[string]any) {
	t.Helper()
	path := filepath.Join(r.ContainerDir(name), "state.json")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(path, orig, 0o644); err != nil {
			t.Errorf("restore %s: %v", path, err)
		}
	})
	var state map[string]any
	if err := json.Unmarshal(orig, &state); err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		state[k] = v
	}
	data, err := json.Marshal(state)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
