package housetools_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/runtime"
)

// memoryCgroup makes a memory cgroup limited to limit bytes, named after a fresh
// temporary folder so two test runs never share one. It is removed, after its
// processes are killed, when the test ends.
func memoryCgroup(t *testing.T, limit int64) (procsFile string) {
	t.Helper()
	sum := sha256.Sum256([]byte(t.TempDir()))
	name := "rt-lab-housetools-test-" + hex.EncodeToString(sum[:6])
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		t.Fatal(err)
	}
	// cgroups(7): a cgroup2 file system at /sys/fs/cgroup is the unified
	// hierarchy, anything else (tmpfs) holds the v1 controllers.
	dir := filepath.Join("/sys/fs/cgroup/memory", name)
	files := [][2]string{{"memory.limit_in_bytes", ""}, {"memory.memsw.limit_in_bytes", ""}}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		dir = filepath.Join("/sys/fs/cgroup", name)
		files = [][2]string{{"memory.max", ""}, {"memory.swap.max", "0"}}
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeCgroup(t, dir) })
	for _, f := range files {
		value := f[1]
		if value == "" {
			value = strconv.FormatInt(limit, 10)
		}
		err := os.WriteFile(filepath.Join(dir, f[0]), []byte(value), 0)
		// Without swap accounting the kernel has no memsw or swap file; with no
		// swap to use, the memory limit alone decides.
		if errors.Is(err, os.ErrNotExist) && f[0] != "memory.limit_in_bytes" && f[0] != "memory.max" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "cgroup.procs")
}

func removeCgroup(t *testing.T, dir string) {
	for range 50 {
		data, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		for _, field := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(field); err == nil {
				unix.Kill(pid, unix.SIGKILL)
			}
		}
		err := unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("cleanup: could not remove cgroup %s", dir)
}

// findProcess returns the host PID of the process whose command line contains
// marker.
func findProcess(t *testing.T, marker string) int {
	t.Helper()
	for range 500 {
		pids, err := procfs.PIDs()
		if err != nil {
			t.Fatal(err)
		}
		for _, pid := range pids {
			args, err := procfs.Cmdline(pid)
			if err == nil && pid != os.Getpid() && strings.Contains(strings.Join(args, " "), marker) {
				return pid
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no process with %q in its command line", marker)
	return 0
}

// TestEatMemoryOOMKilledInHouse runs eat-memory in a 64 MiB memory cgroup: the
// kernel's OOM killer must end it with SIGKILL after it printed its progress,
// and the house's init must survive.
func TestEatMemoryOOMKilledInHouse(t *testing.T) {
	r := newHouse(t, "rumah-hemat")
	procs := memoryCgroup(t, 64*1024*1024)
	c, err := r.Get("rumah-hemat")
	if err != nil {
		t.Fatal(err)
	}

	// The shell waits for a line on stdin until the test has moved it into the
	// cgroup, then becomes eat-memory, which inherits the cgroup.
	const marker = "eat-memory-oom-test-marker"
	stdinR, stdinW := io.Pipe()
	defer stdinW.Close()
	var stdout, stderr bytes.Buffer
	var code int
	var execErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		code, execErr = r.Exec("rumah-hemat", runtime.Process{
			Args:   []string{"sh", "-c", "read go; exec eat-memory 200 --hold 0", marker},
			Env:    []string{"RT_LAB_LANG=en"},
			Stdin:  stdinR,
			Stdout: &stdout,
			Stderr: &stderr,
		})
	})
	pid := findProcess(t, marker)
	if err := os.WriteFile(procs, []byte(strconv.Itoa(pid)), 0); err != nil {
		t.Fatal(err)
	}
	// Closing stdin matters: exec.Cmd.Wait waits until it has copied all of it.
	io.WriteString(stdinW, "go\n")
	stdinW.Close()
	wg.Wait()

	if execErr != nil {
		t.Fatal(execErr)
	}
	if code != 128+int(unix.SIGKILL) {
		t.Errorf("status %d, want %d (SIGKILL from the OOM killer)\nstdout:\n%s\nstderr: %s", code, 128+int(unix.SIGKILL), stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "allocated and touched 32 MiB of 200 MiB") {
		t.Errorf("no progress before the OOM kill:\n%s", stdout.String())
	}
	if strings.Contains(stdout.String(), "done") || strings.Contains(stdout.String(), "64 MiB of 200") {
		t.Errorf("eat-memory got past the 64 MiB limit:\n%s", stdout.String())
	}
	if !procfs.Alive(c.PID, c.PIDStart) {
		t.Errorf("the house's init (PID %d) died with eat-memory", c.PID)
	}
}
