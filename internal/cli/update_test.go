package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/runtime"
)

func TestUpdateBadInput(t *testing.T) {
	testutil.RequireRoot(t)
	root := t.TempDir()
	env := map[string]string{"RT_LAB_ROOT": root, "RT_LAB_LANG": "en"}
	if code, _, errOut := runCLI(t, env, "create-container", "rumah-ada", "--cpu", "25", "--pids", "64"); code != 0 {
		t.Fatalf("create rumah-ada: status %d: %s", code, errOut)
	}
	t.Cleanup(func() { runCLI(t, env, "delete-container", "rumah-ada", "--force", "--yes") })
	before, err := os.ReadFile(filepath.Join(root, "containers", "rumah-ada", "state.json"))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		want string // text the error must contain
	}{
		{"no flag", []string{"rumah-ada"}, "at least one"},
		{"cpu zero", []string{"rumah-ada", "--cpu", "0"}, "out of range"},
		{"cpu letters", []string{"rumah-ada", "--cpu", "abc"}, `"abc"`},
		{"pids too low", []string{"rumah-ada", "--pids", "3"}, "out of range"},
		{"pids too high", []string{"rumah-ada", "--pids", "99999999"}, "out of range"},
		{"pids negative", []string{"rumah-ada", "--pids=-5"}, `"-5"`},
		{"pids letters", []string{"rumah-ada", "--pids", "banyak"}, `"banyak"`},
		{"ram too small", []string{"rumah-ada", "--ram", "1"}, "too small"},
		{"ram and memory", []string{"rumah-ada", "--ram", "64", "--memory", "64M"}, "only one"},
		{"unknown house", []string{"rumah-hilang", "--cpu", "50"}, "rumah-hilang"},
		{"bad name", []string{"../x", "--cpu", "50"}, "../x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, env, append([]string{"update-container"}, tt.args...)...)
			if code != 2 {
				t.Errorf("exit status %d, want 2 (stderr %q)", code, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q does not contain %q", errOut, tt.want)
			}
		})
	}

	after, err := os.ReadFile(filepath.Join(root, "containers", "rumah-ada", "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Errorf("rejected updates changed the state:\nbefore %s\nafter  %s", before, after)
	}
}

func TestCreatePidsFlag(t *testing.T) {
	testutil.RequireRoot(t)
	env := map[string]string{"RT_LAB_ROOT": t.TempDir(), "RT_LAB_LANG": "en"}
	if code, _, errOut := runCLI(t, env, "create-container", "rumah-a", "--pids", "3"); code != 2 || !strings.Contains(errOut, "out of range") {
		t.Errorf("--pids 3: status %d, stderr %q; want 2 and out of range", code, errOut)
	}
	if code, _, errOut := runCLI(t, env, "create-container", "tasks"); code != 2 || !strings.Contains(errOut, "tasks") {
		t.Errorf("house named tasks: status %d, stderr %q; want 2 naming it", code, errOut)
	}
	if code, _, errOut := runCLI(t, env, "create-container", "rumah-b", "--pids", "64"); code != 0 {
		t.Fatalf("--pids 64: status %d: %s", code, errOut)
	}
	// The delete also removes the bridge that the create made.
	t.Cleanup(func() { runCLI(t, env, "delete-container", "rumah-b", "--yes") })
	r, err := runtime.New(runtime.Options{Root: env["RT_LAB_ROOT"]})
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.Get("rumah-b")
	if err != nil {
		t.Fatal(err)
	}
	if c.Pids != 64 {
		t.Errorf("recorded pids limit %d, want 64", c.Pids)
	}
}

// TestUpdateRunningHouseCommand changes a running house's limits, then requests
// a memory limit below what its /dev/shm contains.
func TestUpdateRunningHouseCommand(t *testing.T) {
	testutil.RequireRoot(t)
	root := t.TempDir()
	env := map[string]string{"RT_LAB_ROOT": root, "RT_LAB_LANG": "en"}
	if code, _, errOut := runCLI(t, env, "create-container", "rumah-ubah", "--ram", "64", "--cpu", "25"); code != 0 {
		t.Fatalf("create: status %d: %s", code, errOut)
	}
	t.Cleanup(func() { runCLI(t, env, "delete-container", "rumah-ubah", "--force", "--yes") })
	if code, _, errOut := runCLI(t, env, "run-container", "rumah-ubah", "--",
		"dd", "if=/dev/zero", "of=/dev/shm/isi", "bs=1M", "count=24"); code != 0 {
		t.Fatalf("fill /dev/shm: status %d: %s", code, errOut)
	}
	r, err := runtime.New(runtime.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	cg, err := r.Cgroup("rumah-ubah")
	if err != nil {
		t.Fatal(err)
	}

	code, _, errOut := runCLI(t, env, "update-container", "rumah-ubah", "--cpu", "50")
	if code != 0 || !strings.Contains(errOut, "in effect now") {
		t.Fatalf("update --cpu 50: status %d, stderr %q", code, errOut)
	}
	s, err := cg.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.CPUQuota != 50000 {
		t.Errorf("kernel quota after update = %d, want 50000", s.CPUQuota)
	}

	code, _, errOut = runCLI(t, env, "update-container", "rumah-ubah", "--ram", "8")
	if code != 2 {
		t.Errorf("update --ram 8 below usage: status %d, want 2 (stderr %q)", code, errOut)
	}
	if !strings.Contains(errOut, "rumah-ubah") || !strings.Contains(errOut, "processes use") {
		t.Errorf("stderr %q does not name the house and its usage", errOut)
	}
	if s, err = cg.Stats(); err != nil {
		t.Fatal(err)
	}
	if s.MemoryLimit != 64<<20 {
		t.Errorf("kernel memory limit after a rejected update = %d, want 64 MiB", s.MemoryLimit)
	}
	c, err := r.Get("rumah-ubah")
	if err != nil {
		t.Fatal(err)
	}
	if c.MemoryBytes != 64<<20 || c.CPUPercent != 50 {
		t.Errorf("recorded limits memory %d, CPU %d; want 64 MiB and 50", c.MemoryBytes, c.CPUPercent)
	}
}
