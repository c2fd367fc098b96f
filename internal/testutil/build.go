package testutil

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BuildRTLab builds the rt-lab binary into a new folder and returns its path.
// The folder is removed when the test ends. With worldReadable the folder is
// made outside t.TempDir, whose parent only root may enter, so that a test can
// run the binary as nobody.
//
// The build is static (CGO_ENABLED=0), as make builds it: houses bind-mount the
// binary as their in-house tools and have no dynamic loader. When
// RT_LAB_TEST_BINARY names a binary, it is copied instead of built.
func BuildRTLab(t testing.TB, worldReadable bool) string {
	t.Helper()
	dir := t.TempDir()
	if worldReadable {
		var err error
		if dir, err = os.MkdirTemp("", "rt-lab-bin-"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "rt-lab")
	// The cgroup v2 VM of make test-vm has no go command; its init names a
	// binary built on the host.
	if prebuilt := os.Getenv("RT_LAB_TEST_BINARY"); prebuilt != "" {
		data, err := os.ReadFile(prebuilt)
		if err != nil {
			t.Fatalf("RT_LAB_TEST_BINARY: %v", err)
		}
		if err := os.WriteFile(bin, data, 0o755); err != nil {
			t.Fatal(err)
		}
		return bin
	}
	cmd := exec.Command("go", "build", "-o", bin, "github.com/rt-lab/rt-lab/cmd/rt-lab")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// ExitUnlessStatic ends a test binary run by root that is dynamically linked,
// with a message that names the fix. Such packages run the test binary itself
// inside houses (as the enter helper), and a house has no program interpreter
// for a dynamic binary: every such test would fail with "nsenter: can't
// execute". Call it from TestMain.
func ExitUnlessStatic() {
	if os.Geteuid() != 0 {
		return
	}
	f, err := elf.Open("/proc/self/exe")
	if err != nil {
		return
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			fmt.Fprintln(os.Stderr, "this test binary is dynamically linked (cgo on), so it cannot run inside a house: "+
				"run the tests with CGO_ENABLED=0, as 'make test' does")
			os.Exit(2)
		}
	}
}
