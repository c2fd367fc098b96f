package cli

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/internal/leftovers"
	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/internal/testutil/rttest"
	"github.com/rt-lab/rt-lab/network"
	"github.com/rt-lab/rt-lab/runtime"
)

// onlyLeftoversOf makes recover-state --leftovers see the objects of root
// alone until the test ends, so that it never removes another test's objects.
func onlyLeftoversOf(t *testing.T, root string) {
	t.Helper()
	t.Cleanup(func() { findLeftovers = leftovers.Find })
	findLeftovers = func(self string) ([]*leftovers.Set, error) {
		sets, err := leftovers.Find(self)
		var mine []*leftovers.Set
		for _, s := range sets {
			if s.Hash == leftovers.Hash(root) {
				mine = append(mine, s)
			}
		}
		return mine, err
	}
}

func TestRecoverLeftoversOfLostFolder(t *testing.T) {
	testutil.RequireRoot(t)
	tmp := t.TempDir()
	self, lost := filepath.Join(tmp, "self"), filepath.Join(tmp, "lost")
	r := rttest.NewRuntime(t, lost)
	if _, err := r.Create(runtime.CreateOptions{Name: "rumah-hilang"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start("rumah-hilang"); err != nil {
		t.Fatal(err)
	}
	onlyLeftoversOf(t, lost)
	env := map[string]string{"RT_LAB_ROOT": self, "RT_LAB_LANG": "en"}

	code, out, errOut := runCLI(t, env, "recover-state", "--leftovers", "--dry-run")
	if code != 0 || !strings.Contains(out, "No leftovers") {
		t.Fatalf("with the folder in place: status %d, output %q %q; want no leftovers", code, out, errOut)
	}

	moved := lost + "-moved"
	if err := os.Rename(lost, moved); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Rename(moved, lost) })
	bridge := network.BridgeName(lost)
	code, out, _ = runCLI(t, env, "recover-state", "--leftovers", "--dry-run")
	if code != 0 {
		t.Errorf("dry run: status %d", code)
	}
	for _, want := range []string{"would remove", bridge, lost + ", which is gone", "nothing was changed"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if _, err := net.InterfaceByName(bridge); err != nil {
		t.Fatalf("the dry run removed bridge %s", bridge)
	}

	code, out, errOut = runCLI(t, env, "recover-state", "--leftovers")
	if code != 0 {
		t.Fatalf("removal: status %d, output %q %q", code, out, errOut)
	}
	if !strings.Contains(out, "removed: bridge "+bridge) {
		t.Errorf("removal output lacks the bridge:\n%s", out)
	}
	if _, err := net.InterfaceByName(bridge); err == nil {
		t.Errorf("bridge %s is left", bridge)
	}
}

func TestRecoverLeftoversRejectsName(t *testing.T) {
	testutil.RequireRoot(t)
	env := map[string]string{"RT_LAB_ROOT": t.TempDir(), "RT_LAB_LANG": "en"}
	code, _, errOut := runCLI(t, env, "recover-state", "--leftovers", "rumah-x")
	if code != 2 {
		t.Errorf("status %d, want 2", code)
	}
	if !strings.Contains(errOut, "rumah-x") || !strings.Contains(errOut, "--leftovers") {
		t.Errorf("error %q does not name the house and the flag", errOut)
	}
}
