package runtime_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/network"
	"github.com/rt-lab/rt-lab/runtime"
)

// TestDeleteCrashNeverSharesAddress kills delete-container after each of its
// steps and creates a new house. Every house must then have its own address,
// the one the address table gives it, because a delete cut short must never
// free the address of a house that is still there.
func TestDeleteCrashNeverSharesAddress(t *testing.T) {
	testutil.RequireRoot(t)
	root := t.TempDir()
	r, err := runtime.New(runtime.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cs, _ := r.List()
		for _, c := range cs {
			r.Delete(c.Name, true)
		}
		r.RemoveBridge(true)
	})
	// The cgroup v2 VM has no Go toolchain, so make test-vm leaves this test
	// out (VM_SKIP in the Makefile); the host runs it.
	bin := filepath.Join(t.TempDir(), "rt-lab")
	build := exec.Command("go", "build", "-tags", "faultinject", "-o", bin, "github.com/rt-lab/rt-lab/cmd/rt-lab")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags faultinject: %v\n%s", err, out)
	}
	subnet, err := network.FreeSubnet(root)
	if err != nil {
		t.Fatal(err)
	}
	rtlab := func(fault string, args ...string) (string, int) {
		cmd := exec.Command(bin, append([]string{"--root", root, "--lang", "en"}, args...)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		if fault != "" {
			cmd.Env = append(cmd.Env, "RT_LAB_FAULT="+fault)
		}
		out, _ := cmd.CombinedOutput()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return string(out), -int(ws.Signal())
		}
		return string(out), cmd.ProcessState.ExitCode()
	}
	if out, code := rtlab("", "create-container", "tetangga", "--subnet", subnet.String()); code != 0 {
		t.Fatalf("create tetangga: exit %d\n%s", code, out)
	}

	for _, step := range runtime.FaultSteps["delete"] {
		if out, code := rtlab("", "create-container", "korban"); code != 0 {
			t.Fatalf("%s: create korban: exit %d\n%s", step, code, out)
		}
		out, code := rtlab("delete:"+step, "delete-container", "korban", "--yes")
		if code != -int(syscall.SIGKILL) {
			t.Fatalf("%s: delete ended with %d, not SIGKILL\n%s", step, code, out)
		}
		if out, code := rtlab("", "create-container", "baru"); code != 0 {
			t.Fatalf("%s: create baru: exit %d\n%s", step, code, out)
		}
		checkOwnAddresses(t, r, step)

		for _, name := range []string{"baru", "korban"} {
			if out, code := rtlab("", "delete-container", name, "--force", "--yes"); code != 0 && !strings.Contains(out, "does not exist") {
				t.Fatalf("%s: delete %s --force: exit %d\n%s", step, name, code, out)
			}
		}
		n, err := r.Network()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := n.Allocation("korban"); ok {
			t.Errorf("%s: delete-container korban --force kept its address", step)
		}
	}
}

// checkOwnAddresses fails when two houses record the same address, or when a
// house's recorded address is not the one the address table holds for it.
func checkOwnAddresses(t *testing.T, r *runtime.Runtime, step string) {
	t.Helper()
	n, err := r.Network()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := r.List()
	if err != nil {
		t.Fatal(err)
	}
	owner := map[string]string{}
	for _, c := range cs {
		if c.Status == runtime.StatusBroken {
			t.Errorf("%s: house %s is broken: %v", step, c.Name, c.Err)
			continue
		}
		if other, ok := owner[c.Address.String()]; ok {
			t.Errorf("%s: houses %s and %s both have address %s", step, other, c.Name, c.Address)
		}
		owner[c.Address.String()] = c.Name
		a, ok, err := n.Allocation(c.Name)
		if err != nil || !ok || a.Address != c.Address {
			t.Errorf("%s: house %s records %s, the table has %+v (%v, %v)", step, c.Name, c.Address, a, ok, err)
		}
	}
}
