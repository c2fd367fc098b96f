// Package rttest opens real rt-lab runtimes for tests. It imports runtime, so
// the tests inside package runtime cannot use it.
package rttest

import (
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
