package housetools_test

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/internal/housetools"
	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/internal/testutil/rttest"
	"github.com/rt-lab/rt-lab/runtime"
)

// TestMain lets this test binary act as the container bootstrap and, inside a
// house, as the house tools, as the rt-lab binary does.
func TestMain(m *testing.M) {
	runtime.MaybeInit()
	if code, ok := housetools.Main(os.Args[0], os.Args[1:]); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// newHouse starts a house on a fresh root folder and deletes it when the test
// ends, even when it fails. The runtime mounts this test binary into the house
// as the tools binary, so it must be statically linked.
func newHouse(t *testing.T, name string) *runtime.Runtime {
	t.Helper()
	testutil.RequireRoot(t)
	requireStaticBinary(t)
	r := rttest.NewRuntime(t, t.TempDir())
	if _, err := r.Create(runtime.CreateOptions{Name: name, Hostname: name}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start(name); err != nil {
		t.Fatal(err)
	}
	return r
}

// requireStaticBinary fails unless this test binary is statically linked,
// because a house has no program interpreter to run a dynamic one.
func requireStaticBinary(t *testing.T) {
	t.Helper()
	f, err := elf.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			t.Fatal("the test binary is dynamically linked and cannot run inside a house: " +
				"run the tests with CGO_ENABLED=0, as 'make test' does")
		}
	}
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs args in house name with messages in lang ("" leaves the language
// to the default).
func run(t *testing.T, r *runtime.Runtime, name, lang string, args ...string) result {
	t.Helper()
	var env []string
	if lang != "" {
		env = []string{"RT_LAB_LANG=" + lang}
	}
	var stdout, stderr bytes.Buffer
	code, err := r.Exec(name, runtime.Process{Args: args, Env: env, Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		t.Fatalf("exec %q in %s: %v", args, name, err)
	}
	return result{code, stdout.String(), stderr.String()}
}

func TestEatMemoryInHouse(t *testing.T) {
	r := newHouse(t, "rumah-makan")
	res := run(t, r, "rumah-makan", "en", "eat-memory", "8", "--hold", "1")
	if res.code != 0 || res.stderr != "" {
		t.Fatalf("eat-memory 8: status %d, stderr %q", res.code, res.stderr)
	}
	for _, want := range []string{
		"allocating 8 MiB",
		"allocated and touched 8 MiB of 8 MiB",
		"holding 8 MiB for 1s",
		"done: released 8 MiB",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("eat-memory output lacks %q:\n%s", want, res.stdout)
		}
	}
}

// TestEatMemoryAllocationFails limits the address space with ulimit -v, so mmap
// fails partway; the progress so far and the error must show. The Go runtime
// alone reserves about 1.3 GB of address space at start-up (Go 1.26, amd64),
// so the limit is 2 GB (in KiB) and the request larger.
func TestEatMemoryAllocationFails(t *testing.T) {
	r := newHouse(t, "rumah-batas")
	res := run(t, r, "rumah-batas", "en", "sh", "-c", "ulimit -v 2000000 && exec eat-memory 2g --hold 0")
	if res.code != 1 {
		t.Errorf("status %d, want 1\nstdout:\n%s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "allocated and touched 16 MiB of 2048 MiB") {
		t.Errorf("no progress before the failure:\n%s", res.stdout)
	}
	if !regexp.MustCompile(`^eat-memory: could not allocate more memory after \d+ MiB of 2048 MiB: mmap: cannot allocate memory\n$`).MatchString(res.stderr) {
		t.Errorf("stderr = %q, want the allocation error", res.stderr)
	}
}

func TestBurnCPUInHouse(t *testing.T) {
	r := newHouse(t, "rumah-bakar")
	res := run(t, r, "rumah-bakar", "en", "burn-cpu", "1")
	if res.code != 0 || res.stderr != "" {
		t.Fatalf("burn-cpu 1: status %d, stderr %q", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, "1 busy thread(s) for 1s") {
		t.Errorf("output lacks the start line:\n%s", res.stdout)
	}
	m := regexp.MustCompile(`1 thread\(s\), ([0-9.]+)s wall-clock time, ([0-9.]+m?s) CPU time: (\d+)% of one CPU`).FindStringSubmatch(res.stdout)
	if m == nil {
		t.Fatalf("output lacks the summary:\n%s", res.stdout)
	}
	// Other tests may share the CPUs, so the share is only checked to be
	// measured and possible for one thread.
	var percent int
	fmt.Sscan(m[3], &percent)
	if percent < 1 || percent > 110 {
		t.Errorf("burn-cpu reports %d%% of one CPU for one thread, want 1 to 110:\n%s", percent, res.stdout)
	}
}

var queueID = regexp.MustCompile(`^Message queue id: (\d+)\n$`)

func TestMessageQueuesInHouse(t *testing.T) {
	r := newHouse(t, "rumah-papan")
	res := run(t, r, "rumah-papan", "en", "ipcmk", "-Q")
	m := queueID.FindStringSubmatch(res.stdout)
	if res.code != 0 || m == nil {
		t.Fatalf("ipcmk -Q: status %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	id := m[1]

	res = run(t, r, "rumah-papan", "en", "ipcs", "-q")
	if res.code != 0 {
		t.Fatalf("ipcs -q: status %d, stderr %q", res.code, res.stderr)
	}
	lines := strings.Split(res.stdout, "\n")
	if len(lines) != 6 || lines[1] != "------ Message Queues --------" ||
		lines[2] != "key        msqid      owner      perms      used-bytes   messages" {
		t.Fatalf("ipcs -q layout:\n%s", res.stdout)
	}
	row := regexp.MustCompile(`^0x([0-9a-f]{8}) +` + id + ` +root +644 +0 +0$`)
	rm := row.FindStringSubmatch(lines[3])
	if rm == nil {
		t.Fatalf("ipcs -q row %q, want key, msqid %s, root, 644, 0, 0", lines[3], id)
	}

	// The queue lives in the house's IPC namespace only.
	host, err := os.ReadFile("/proc/sysvipc/msg")
	if err != nil {
		t.Fatal(err)
	}
	var key uint32
	fmt.Sscanf(rm[1], "%x", &key)
	for _, line := range strings.Split(string(host), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 0 && f[0] == fmt.Sprint(int32(key)) {
			t.Errorf("host IPC namespace shows the house's queue: %s", line)
		}
	}

	res = run(t, r, "rumah-papan", "en", "ipcrm", "-q", id)
	if res.code != 0 || res.stderr != "" {
		t.Fatalf("ipcrm -q %s: status %d, stderr %q", id, res.code, res.stderr)
	}
	if res = run(t, r, "rumah-papan", "en", "ipcs"); strings.Count(res.stdout, "\n") != 4 {
		t.Errorf("ipcs after ipcrm still lists a queue:\n%s", res.stdout)
	}
	res = run(t, r, "rumah-papan", "en", "ipcrm", "-q", id)
	if res.code != 1 || !strings.Contains(res.stderr, "no message queue with id "+id+" in this house") {
		t.Errorf("second ipcrm -q %s: status %d, stderr %q; want 1 and not found", id, res.code, res.stderr)
	}
}

func TestHouseToolsSpeakIndonesianByDefault(t *testing.T) {
	r := newHouse(t, "rumah-bahasa")
	res := run(t, r, "rumah-bahasa", "", "ipcmk", "-Q", "-p", "600")
	if res.code != 0 || !regexp.MustCompile(`^Id message queue: \d+\n$`).MatchString(res.stdout) {
		t.Errorf("ipcmk -Q: status %d, stdout %q, stderr %q; want the Indonesian line", res.code, res.stdout, res.stderr)
	}
	res = run(t, r, "rumah-bahasa", "", "ipcs", "-q")
	if !strings.Contains(res.stdout, "kunci      msqid      pemilik    izin") || !strings.Contains(res.stdout, " 600 ") {
		t.Errorf("ipcs -q in Indonesian:\n%s", res.stdout)
	}
	res = run(t, r, "rumah-bahasa", "", "eat-memory", "banyak")
	if res.code != 2 || !strings.HasPrefix(res.stderr, `eat-memory: UKURAN "banyak" tidak sah`) {
		t.Errorf("eat-memory banyak: status %d, stderr %q; want 2 and the Indonesian error", res.code, res.stderr)
	}
}
