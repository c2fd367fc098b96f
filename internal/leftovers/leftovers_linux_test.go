package leftovers

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/internal/testutil/rttest"
	"github.com/rt-lab/rt-lab/network"
	"github.com/rt-lab/rt-lab/runtime"
)

func TestMain(m *testing.M) {
	runtime.MaybeInit()
	testutil.ExitUnlessStatic()
	os.Exit(m.Run())
}

// setOf returns the set of root's objects that Find reports from self, or nil.
func setOf(t *testing.T, self, root string) *Set {
	t.Helper()
	sets, err := Find(self)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sets {
		if s.Hash == Hash(root) {
			return s
		}
	}
	return nil
}

// startHouse starts house name in a new runtime on root.
func startHouse(t *testing.T, root, name string) (*runtime.Runtime, *runtime.Container) {
	t.Helper()
	r := rttest.NewRuntime(t, root)
	if _, err := r.Create(runtime.CreateOptions{Name: name}); err != nil {
		t.Fatal(err)
	}
	c, err := r.Start(name)
	if err != nil {
		t.Fatal(err)
	}
	return r, c
}

func TestLeftoversOfLostFolder(t *testing.T) {
	testutil.RequireRoot(t)
	tmp := t.TempDir()
	self, root := filepath.Join(tmp, "self"), filepath.Join(tmp, "lost")
	_, house := startHouse(t, root, "rumah-sisa")

	s := setOf(t, self, root)
	if s == nil {
		t.Fatalf("Find reports no objects of %s", root)
	}
	if s.Bridge != network.BridgeName(root) {
		t.Errorf("bridge %q, want %s", s.Bridge, network.BridgeName(root))
	}
	if s.Table != network.TableName(root) {
		t.Errorf("table %q, want %s", s.Table, network.TableName(root))
	}
	if len(s.Cgroups) == 0 {
		t.Error("no cgroup parent found")
	}
	if !slices.Contains(s.PIDs, house.PID) {
		t.Errorf("PIDs %v lack the house's init %d", s.PIDs, house.PID)
	}
	if !slices.Equal(s.Roots, []string{root}) {
		t.Errorf("roots %v, want [%s]", s.Roots, root)
	}
	if !s.InUse {
		t.Fatal("the objects of an existing folder with a running house are not in use")
	}
	if err := Remove(s); err == nil {
		t.Fatal("Remove of a set in use succeeded")
	}

	// The folder moves away while the house runs, as when a test's temporary
	// folder is removed. The overlay keeps naming the old path.
	moved := root + "-moved"
	if err := os.Rename(root, moved); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Rename(moved, root) })
	s = setOf(t, self, root)
	if s == nil || s.InUse {
		t.Fatalf("after the folder moved: set %+v, want one not in use", s)
	}
	if err := Remove(s); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(house.PID))); err == nil {
		t.Errorf("the house's init %d still runs", house.PID)
	}
	if _, err := net.InterfaceByName(network.BridgeName(root)); err == nil {
		t.Errorf("bridge %s is left", network.BridgeName(root))
	}
	for _, dir := range s.Cgroups {
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("cgroup %s is left", dir)
		}
	}
	if left := setOf(t, self, root); left != nil {
		t.Errorf("Find still reports %+v", left)
	}
}

func TestLeftoversOfStoppedHouses(t *testing.T) {
	testutil.RequireRoot(t)
	tmp := t.TempDir()
	self, root := filepath.Join(tmp, "self"), filepath.Join(tmp, "idle")
	r, _ := startHouse(t, root, "rumah-tidur")
	if err := r.Stop("rumah-tidur", 0); err != nil {
		t.Fatal(err)
	}
	s := setOf(t, self, root)
	if s == nil || s.Bridge == "" {
		t.Fatalf("set %+v, want the bridge of the stopped house's folder", s)
	}
	if len(s.PIDs) != 0 {
		t.Errorf("PIDs %v, want none after the stop", s.PIDs)
	}
	// The bridge's alias names the folder, which exists.
	if !s.InUse {
		t.Fatalf("set %+v of an existing folder is not in use", s)
	}

	moved := root + "-moved"
	if err := os.Rename(root, moved); err != nil {
		t.Fatal(err)
	}
	s = setOf(t, self, root)
	if s == nil || s.InUse {
		os.Rename(moved, root)
		t.Fatalf("after the folder moved: set %+v, want one not in use", s)
	}
	if !slices.Equal(s.Roots, []string{root}) {
		t.Errorf("roots %v, want [%s] from the bridge's alias", s.Roots, root)
	}
	err := Remove(s)
	if errBack := os.Rename(moved, root); errBack != nil {
		t.Fatal(errBack)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := net.InterfaceByName(network.BridgeName(root)); err == nil {
		t.Fatalf("bridge %s is left", network.BridgeName(root))
	}

	// Back in place, the folder gets its objects again at the next start.
	if _, err := r.Start("rumah-tidur"); err != nil {
		t.Fatalf("start after the removal: %v", err)
	}
	if _, err := net.InterfaceByName(network.BridgeName(root)); err != nil {
		t.Errorf("bridge %s not made again: %v", network.BridgeName(root), err)
	}
}

func TestLeftoversSkipsSelf(t *testing.T) {
	testutil.RequireRoot(t)
	root := filepath.Join(t.TempDir(), "self")
	startHouse(t, root, "rumah-sendiri")
	if s := setOf(t, root, root); s != nil {
		t.Errorf("Find reports the caller's own folder: %+v", s)
	}
}
