package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// kernelGroup finds the cgroup of process pid from /proc/PID/cgroup alone, not
// from the runtime's names.
func kernelGroup(t *testing.T, pid int) cgroups.Manager {
	t.Helper()
	groups, err := cgroups.ProcGroup(pid)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cgroups.ForGroups(0, "", groups)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func readKernelFile(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// kernelLimits returns the memory limit, CPU quota and period, and pids limit
// in the kernel files of group m, as the files spell them.
func kernelLimits(t *testing.T, m cgroups.Manager) (memory, quota, period, pids string) {
	t.Helper()
	if m.Version() == cgroups.V1 {
		return readKernelFile(t, m.Path(cgroups.Memory), "memory.limit_in_bytes"),
			readKernelFile(t, m.Path(cgroups.CPU), "cpu.cfs_quota_us"),
			readKernelFile(t, m.Path(cgroups.CPU), "cpu.cfs_period_us"),
			readKernelFile(t, m.Path(cgroups.Pids), "pids.max")
	}
	quota, period, _ = strings.Cut(readKernelFile(t, m.Path(cgroups.CPU), "cpu.max"), " ")
	return readKernelFile(t, m.Path(cgroups.Memory), "memory.max"), quota, period,
		readKernelFile(t, m.Path(cgroups.Pids), "pids.max")
}

// groupFolders lists the group folders of container name and their parents.
func groupFolders(t *testing.T, r *Runtime, name string) []string {
	t.Helper()
	m, err := r.Cgroup(name)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, c := range []string{cgroups.Memory, cgroups.CPU, cgroups.CPUAcct, cgroups.Pids} {
		dirs = append(dirs, m.Path(c), filepath.Dir(m.Path(c)))
	}
	return dirs
}

func checkNoGroup(t *testing.T, r *Runtime, name, when string) {
	t.Helper()
	for _, dir := range groupFolders(t, r, name) {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: cgroup folder %s exists (%v)", when, dir, err)
		}
	}
}

func startLimitedHouse(t *testing.T, r *Runtime, opts CreateOptions) *Container {
	t.Helper()
	if _, err := r.Create(opts); err != nil {
		t.Fatal(err)
	}
	c, err := r.Start(opts.Name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHouseLimitsInKernel(t *testing.T) {
	r := newTestRuntime(t)
	c := startLimitedHouse(t, r, CreateOptions{Name: "rumah-hemat", MemoryBytes: 64 * MiB, CPUPercent: 25})

	m := kernelGroup(t, c.PID)
	memory, quota, period, pids := kernelLimits(t, m)
	if memory != "67108864" {
		t.Errorf("memory limit of PID 1's group = %s, want 67108864", memory)
	}
	if quota != "25000" || period != "100000" {
		t.Errorf("CPU quota of PID 1's group = %s/%s, want 25000/100000", quota, period)
	}
	if pids != "512" {
		t.Errorf("pids limit of PID 1's group = %s, want the default 512", pids)
	}

	named, err := r.Cgroup("rumah-hemat")
	if err != nil {
		t.Fatal(err)
	}
	for _, ctrl := range []string{cgroups.Memory, cgroups.CPU, cgroups.Pids} {
		if m.Path(ctrl) != named.Path(ctrl) {
			t.Errorf("PID 1's %s group is %s, want %s", ctrl, m.Path(ctrl), named.Path(ctrl))
		}
	}
}

// TestExecJoinsHouseGroup checks that a process started by Exec is in PID 1's
// group when it starts: cat reports its own /proc/self/cgroup.
func TestExecJoinsHouseGroup(t *testing.T) {
	r := newTestRuntime(t)
	c := startLimitedHouse(t, r, CreateOptions{Name: "rumah-ikut", CPUPercent: 50})
	init := kernelGroup(t, c.PID)

	out, code := execOutput(t, r, "rumah-ikut", "cat", "/proc/self/cgroup")
	if code != 0 {
		t.Fatalf("cat /proc/self/cgroup exited %d", code)
	}
	groups, err := cgroups.ParseProcGroup(out)
	if err != nil {
		t.Fatal(err)
	}
	exec, err := cgroups.ForGroups(0, "", groups)
	if err != nil {
		t.Fatal(err)
	}
	for _, ctrl := range []string{cgroups.Memory, cgroups.CPU, cgroups.Pids} {
		if exec.Path(ctrl) != init.Path(ctrl) {
			t.Errorf("exec'd process's %s group is %s, want PID 1's %s", ctrl, exec.Path(ctrl), init.Path(ctrl))
		}
	}

	// Only the house's processes stay in the group: rt-lab's thread that forked
	// cat leaves it when it ends, which happens just after Exec returns.
	for try := 0; ; try++ {
		procs, err := init.Procs()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(procs, os.Getpid()) {
			break
		}
		if try == 200 {
			t.Fatalf("the test process %d stayed in the house's group", os.Getpid())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStopAndDeleteRemoveGroup(t *testing.T) {
	r := newTestRuntime(t)
	startLimitedHouse(t, r, CreateOptions{Name: "rumah-bersih", MemoryBytes: 32 * MiB})
	for _, dir := range groupFolders(t, r, "rumah-bersih") {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("running house: %v", err)
		}
	}

	if err := r.Stop("rumah-bersih", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	checkNoGroup(t, r, "rumah-bersih", "after stop")

	if _, err := r.Start("rumah-bersih"); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete("rumah-bersih", true); err != nil {
		t.Fatal(err)
	}
	checkNoGroup(t, r, "rumah-bersih", "after delete")
}

func TestFailedStartRemovesGroup(t *testing.T) {
	r := newTestRuntime(t)
	c, err := r.Create(CreateOptions{Name: "rumah-gagal"})
	if err != nil {
		t.Fatal(err)
	}
	// sethostname(2) rejects a name longer than 64 bytes, so the bootstrap
	// fails after it joined the group.
	c.Hostname = strings.Repeat("a", 65)
	if err := r.save(c); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start("rumah-gagal"); err == nil {
		t.Fatal("start with an invalid hostname succeeded")
	}
	checkNoGroup(t, r, "rumah-gagal", "after a failed start")
}

func TestPidsLimitStopsForks(t *testing.T) {
	r := newTestRuntime(t)
	c := startLimitedHouse(t, r, CreateOptions{Name: "rumah-kecil", Pids: MinPids})

	// Forking past the limit fails inside the house; busybox sh gives up at
	// the first failed fork.
	out, _ := execOutput(t, r, "rumah-kecil", "sh", "-c", "for i in $(seq 40); do sleep 1 & done 2>&1")
	if !strings.Contains(out, "can't fork") {
		t.Errorf("shell output %q, want a failed fork", out)
	}
	group := kernelGroup(t, c.PID)
	s, err := group.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.PidsCurrent > MinPids {
		t.Errorf("pids.current = %d, above the limit %d", s.PidsCurrent, MinPids)
	}

	// When the sleeps end, PID 1 reaps them and the house works again.
	for i := 0; i < 100 && s.PidsCurrent > 1; i++ {
		time.Sleep(50 * time.Millisecond)
		if s, err = group.Stats(); err != nil {
			t.Fatal(err)
		}
	}
	if out, _ := execOutput(t, r, "rumah-kecil", "echo", "alive"); strings.TrimSpace(out) != "alive" {
		t.Errorf("house after the fork storm: %q, want alive", out)
	}
}

func TestUpdateRunningHouse(t *testing.T) {
	r := newTestRuntime(t)
	c := startLimitedHouse(t, r, CreateOptions{Name: "rumah-ubah", MemoryBytes: 64 * MiB, CPUPercent: 25})

	memory, cpu, pids := int64(128*MiB), 50, int64(100)
	got, err := r.Update("rumah-ubah", UpdateOptions{MemoryBytes: &memory, CPUPercent: &cpu, Pids: &pids})
	if err != nil {
		t.Fatal(err)
	}
	if got.MemoryBytes != memory || got.CPUPercent != cpu || got.Pids != pids {
		t.Errorf("updated state %d/%d/%d, want %d/%d/%d", got.MemoryBytes, got.CPUPercent, got.Pids, memory, cpu, pids)
	}
	kMemory, kQuota, _, kPids := kernelLimits(t, kernelGroup(t, c.PID))
	if kMemory != "134217728" || kQuota != "50000" || kPids != "100" {
		t.Errorf("kernel limits after update: memory %s, quota %s, pids %s; want 134217728, 50000, 100",
			kMemory, kQuota, kPids)
	}
	saved, err := r.Get("rumah-ubah")
	if err != nil {
		t.Fatal(err)
	}
	if saved.MemoryBytes != memory || saved.CPUPercent != cpu || saved.Pids != pids {
		t.Errorf("saved state %d/%d/%d, want %d/%d/%d", saved.MemoryBytes, saved.CPUPercent, saved.Pids, memory, cpu, pids)
	}
}

// TestUpdateBelowUsageChangesNothing fills the house's /dev/shm, a tmpfs whose
// pages cannot be reclaimed without swap, then asks for a limit below that.
func TestUpdateBelowUsageChangesNothing(t *testing.T) {
	r := newTestRuntime(t)
	c := startLimitedHouse(t, r, CreateOptions{Name: "rumah-penuh", MemoryBytes: 64 * MiB, CPUPercent: 25})
	if _, code := execOutput(t, r, "rumah-penuh", "dd", "if=/dev/zero", "of=/dev/shm/isi", "bs=1M", "count=24"); code != 0 {
		t.Fatalf("dd into /dev/shm exited %d", code)
	}

	memory, cpu := int64(8*MiB), 50
	_, err := r.Update("rumah-penuh", UpdateOptions{MemoryBytes: &memory, CPUPercent: &cpu})
	if !usererr.Is(err, "ErrUpdateFailed") {
		t.Fatalf("update below usage: %v, want ErrUpdateFailed", err)
	}
	if usererr.ExitCode(err) != usererr.ExitUsage {
		t.Errorf("exit status %d, want %d", usererr.ExitCode(err), usererr.ExitUsage)
	}
	var busy *usererr.Error
	if !errors.As(errors.Unwrap(err), &busy) || busy.ID != "ErrCgroupMemoryBusy" {
		t.Fatalf("cause %v, want ErrCgroupMemoryBusy", errors.Unwrap(err))
	}
	if usage, _ := busy.Data["Usage"].(int64); usage < 24*MiB {
		t.Errorf("reported usage %d bytes, want at least the 24 MiB in /dev/shm", usage)
	}

	kMemory, kQuota, _, _ := kernelLimits(t, kernelGroup(t, c.PID))
	if kMemory != "67108864" || kQuota != "25000" {
		t.Errorf("kernel limits after a rejected update: memory %s, quota %s; want 67108864, 25000", kMemory, kQuota)
	}
	saved, err := r.Get("rumah-penuh")
	if err != nil {
		t.Fatal(err)
	}
	if saved.MemoryBytes != 64*MiB || saved.CPUPercent != 25 {
		t.Errorf("saved state after a rejected update: memory %d, CPU %d; want 64 MiB, 25", saved.MemoryBytes, saved.CPUPercent)
	}
}

func TestUpdateStoppedHouse(t *testing.T) {
	r := newTestRuntime(t)
	if _, err := r.Create(CreateOptions{Name: "rumah-diam", CPUPercent: 25}); err != nil {
		t.Fatal(err)
	}
	cpu := 75
	if _, err := r.Update("rumah-diam", UpdateOptions{CPUPercent: &cpu}); err != nil {
		t.Fatal(err)
	}
	checkNoGroup(t, r, "rumah-diam", "after updating a stopped house")

	c, err := r.Start("rumah-diam")
	if err != nil {
		t.Fatal(err)
	}
	if _, quota, _, _ := kernelLimits(t, kernelGroup(t, c.PID)); quota != "75000" {
		t.Errorf("quota after start = %s, want the updated 75000", quota)
	}
}

func TestCreateRejectsBadLimits(t *testing.T) {
	r := newTestRuntime(t)
	tests := []struct {
		opts    CreateOptions
		wantErr string
	}{
		{CreateOptions{Name: "tasks"}, "ErrCgroupName"},
		{CreateOptions{Name: "r1", MemoryBytes: MiB}, "ErrMemoryTooSmall"},
		{CreateOptions{Name: "r1", CPUPercent: 100*HostCPUs() + 1}, "ErrCPURange"},
		{CreateOptions{Name: "r1", CPUPercent: -1}, "ErrCPUInvalid"},
		{CreateOptions{Name: "r1", Pids: MinPids - 1}, "ErrPidsRange"},
		{CreateOptions{Name: "r1", Pids: MaxPids + 1}, "ErrPidsRange"},
	}
	for _, tt := range tests {
		_, err := r.Create(tt.opts)
		if !usererr.Is(err, tt.wantErr) {
			t.Errorf("create %+v: %v, want %s", tt.opts, err, tt.wantErr)
		}
		if usererr.ExitCode(err) != usererr.ExitUsage {
			t.Errorf("create %+v: exit status %d, want %d", tt.opts, usererr.ExitCode(err), usererr.ExitUsage)
		}
	}
	if cs, _ := r.List(); len(cs) != 0 {
		t.Errorf("rejected creates left %d houses", len(cs))
	}
}

// TestMinMemoryHouseRuns checks the documented minimum: on v2 the bootstrap's
// Go runtime is charged to the group from its first page, on v1 only what it
// allocates after it joined.
func TestMinMemoryHouseRuns(t *testing.T) {
	r := newTestRuntime(t)
	startLimitedHouse(t, r, CreateOptions{Name: "rumah-mungil", MemoryBytes: MinMemory})
	if out, code := execOutput(t, r, "rumah-mungil", "sh", "-c", "echo hidup"); code != 0 || strings.TrimSpace(out) != "hidup" {
		t.Errorf("shell in a %d MiB house: status %d, output %q", MinMemory/MiB, code, out)
	}
}

// TestStartGroupHasOnlyInit checks that start places init in the house's group
// in every hierarchy and takes back rt-lab's thread that forked it on v1.
func TestStartGroupHasOnlyInit(t *testing.T) {
	r := newTestRuntime(t)
	c := startLimitedHouse(t, r, CreateOptions{Name: "rumah-sendiri"})
	cg, err := r.Cgroup(c.Name)
	if err != nil {
		t.Fatal(err)
	}
	init := kernelGroup(t, c.PID)
	for _, ctrl := range []string{cgroups.Memory, cgroups.CPU, cgroups.CPUAcct, cgroups.Pids} {
		if init.Path(ctrl) != cg.Path(ctrl) {
			t.Errorf("init's %s group is %s, want the house's %s", ctrl, init.Path(ctrl), cg.Path(ctrl))
		}
	}
	procs, err := cg.Procs()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(procs, []int{c.PID}) {
		t.Errorf("the house's group lists %v right after start, want only init %d", procs, c.PID)
	}
}
