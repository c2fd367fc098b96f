package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// A fake cgroupfs is a t.TempDir with the folders and control files that the
// kernel would show. The kernel makes control files on mkdir; a fake cannot, so
// the test lays out the group folders in advance and Create reuses them.

const v1NoLimit = "9223372036854771712"

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readTree(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// fakeV1 lays out a v1 host with group parent/name and returns its base.
func fakeV1(t *testing.T, parent, name string) string {
	base := t.TempDir()
	files := map[string]string{}
	for _, c := range v1Controllers {
		files[c+"/cgroup.procs"] = "1\n"
		files[filepath.Join(c, parent, name, "cgroup.procs")] = ""
		files[filepath.Join(c, parent, name, "tasks")] = ""
	}
	group := func(c string) string { return filepath.Join(c, parent, name) + "/" }
	files[group(Memory)+"memory.limit_in_bytes"] = v1NoLimit
	files[group(Memory)+"memory.memsw.limit_in_bytes"] = v1NoLimit
	files[group(Memory)+"memory.usage_in_bytes"] = "12345678"
	files[group(Memory)+"memory.max_usage_in_bytes"] = "23456789"
	files[group(Memory)+"memory.oom_control"] = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"
	files[group(CPU)+"cpu.cfs_period_us"] = "100000"
	files[group(CPU)+"cpu.cfs_quota_us"] = "-1"
	files[group(CPU)+"cpu.stat"] = "nr_periods 40\nnr_throttled 7\nthrottled_time 1500000\n"
	files[group(CPUAcct)+"cpuacct.usage"] = "987654321"
	files[group(Pids)+"pids.max"] = "max"
	files[group(Pids)+"pids.current"] = "2"
	writeTree(t, base, files)
	return base
}

// fakeV2 lays out a pure v2 host with group parent/name and returns its base.
func fakeV2(t *testing.T, parent, name string) string {
	base := t.TempDir()
	g := filepath.Join(parent, name) + "/"
	writeTree(t, base, map[string]string{
		"cgroup.controllers":               "cpuset cpu io memory hugetlb pids rdma misc",
		"cgroup.subtree_control":           "",
		"cgroup.procs":                     "1\n",
		parent + "/cgroup.subtree_control": "",
		parent + "/cgroup.procs":           "",
		g + "cgroup.procs":                 "",
		g + "memory.max":                   "max",
		g + "memory.high":                  "max",
		g + "memory.swap.max":              "max",
		g + "memory.current":               "12345678",
		g + "memory.peak":                  "23456789",
		g + "memory.events":                "low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\noom_group_kill 0\n",
		g + "cpu.max":                      "max 100000",
		g + "cpu.stat":                     "usage_usec 987654\nuser_usec 500000\nsystem_usec 487654\nnr_periods 40\nnr_throttled 7\nthrottled_usec 1500\n",
		g + "pids.max":                     "max",
		g + "pids.current":                 "2",
	})
	return base
}

// fakeRmdir removes the control files of a fake group folder, then the folder,
// failing with ENOTEMPTY while groups remain below it, as rmdir(2) would.
func fakeRmdir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	err = unix.Rmdir(dir)
	if err != nil {
		return &os.PathError{Op: "rmdir", Path: dir, Err: err}
	}
	return nil
}

// recordWrites makes m's writes go through to the fake files and appends each
// "name=value" to *log.
func recordWrites(log *[]string) func(dir, name, value string) error {
	return func(dir, name, value string) error {
		*log = append(*log, name+"="+value)
		return writeFile(dir, name, value)
	}
}

func TestV1CreateWritesLimits(t *testing.T) {
	base := fakeV1(t, "rt-lab-test", "rumah")
	m, err := New(Config{Version: V1, Base: base, Parent: "rt-lab-test", Name: "rumah"})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Create(Limits{MemoryBytes: 64 << 20, CPUPercent: 25, Pids: 100}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"memory/rt-lab-test/rumah/memory.limit_in_bytes":       "67108864",
		"memory/rt-lab-test/rumah/memory.memsw.limit_in_bytes": "67108864",
		"cpu/rt-lab-test/rumah/cpu.cfs_period_us":              "100000",
		"cpu/rt-lab-test/rumah/cpu.cfs_quota_us":               "25000",
		"pids/rt-lab-test/rumah/pids.max":                      "100",
	}
	for file, value := range want {
		if got := readTree(t, filepath.Join(base, file)); got != value {
			t.Errorf("%s = %q, want %q", file, got, value)
		}
	}
	if got := m.Path(Memory); got != filepath.Join(base, "memory/rt-lab-test/rumah") {
		t.Errorf("memory path = %s", got)
	}
}

func TestV1NoLimitWritesMinusOne(t *testing.T) {
	base := fakeV1(t, "p", "g")
	m, _ := New(Config{Version: V1, Base: base, Parent: "p", Name: "g"})
	if err := m.Create(Limits{MemoryBytes: 64 << 20, CPUPercent: 50, Pids: 10}); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(Limits{}); err != nil {
		t.Fatal(err)
	}
	for file, value := range map[string]string{
		"memory/p/g/memory.limit_in_bytes":       "-1",
		"memory/p/g/memory.memsw.limit_in_bytes": "-1",
		"cpu/p/g/cpu.cfs_quota_us":               "-1",
		"pids/p/g/pids.max":                      "max",
	} {
		if got := readTree(t, filepath.Join(base, file)); got != value {
			t.Errorf("%s = %q, want %q", file, got, value)
		}
	}
}

// TestV1MemswOrder checks that memory.memsw.limit_in_bytes is never below
// memory.limit_in_bytes between two writes, which the kernel rejects.
func TestV1MemswOrder(t *testing.T) {
	base := fakeV1(t, "p", "g")
	m, _ := New(Config{Version: V1, Base: base, Parent: "p", Name: "g"})
	drv := m.(*v1)
	var log []string
	drv.write = func(dir, name, value string) error {
		log = append(log, name+"="+value)
		if err := writeFile(dir, name, value); err != nil {
			return err
		}
		if name == "memory.limit_in_bytes" || name == "memory.memsw.limit_in_bytes" {
			limit := readTree(t, filepath.Join(dir, "memory.limit_in_bytes"))
			memsw := readTree(t, filepath.Join(dir, "memory.memsw.limit_in_bytes"))
			l, _ := strconv.ParseInt(limit, 10, 64)
			s, _ := strconv.ParseInt(memsw, 10, 64)
			if l == -1 {
				l = 1 << 62
			}
			if s == -1 {
				s = 1 << 62
			}
			if s < l {
				t.Errorf("after %s=%s: memsw %s below limit %s", name, value, memsw, limit)
			}
		}
		return nil
	}
	steps := []int64{64 << 20, 128 << 20, 32 << 20, 0, 16 << 20}
	for _, bytes := range steps {
		if err := m.Set(Limits{MemoryBytes: bytes}); err != nil {
			t.Fatalf("set memory %d: %v", bytes, err)
		}
	}
	if t.Failed() {
		t.Logf("writes: %v", log)
	}
}

func TestV1MemoryBusyNamesUsage(t *testing.T) {
	base := fakeV1(t, "p", "g")
	m, _ := New(Config{Version: V1, Base: base, Parent: "p", Name: "g"})
	drv := m.(*v1)
	drv.write = func(dir, name, value string) error {
		if name == "memory.limit_in_bytes" && value != "-1" {
			return &os.PathError{Op: "write", Path: filepath.Join(dir, name), Err: unix.EBUSY}
		}
		return writeFile(dir, name, value)
	}
	err := m.Set(Limits{MemoryBytes: 8 << 20})
	if !usererr.Is(err, "ErrCgroupMemoryBusy") {
		t.Fatalf("error %v, want ErrCgroupMemoryBusy", err)
	}
	if usererr.ExitCode(err) != usererr.ExitUsage {
		t.Errorf("exit status %d, want %d", usererr.ExitCode(err), usererr.ExitUsage)
	}
	if !strings.Contains(err.Error(), "12345678 bytes") {
		t.Errorf("message %q does not name the usage 12345678 bytes", err)
	}
}

func TestV1Stats(t *testing.T) {
	base := fakeV1(t, "p", "g")
	m, _ := New(Config{Version: V1, Base: base, Parent: "p", Name: "g"})
	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{MemoryUsage: 12345678, MemoryMaxUsage: 23456789, MemoryLimit: 0,
		CPUUsage: 987654321, CPUQuota: -1, CPUPeriod: 100000, NrPeriods: 40, NrThrottled: 7,
		ThrottledTime: 1500000, PidsCurrent: 2, PidsMax: 0, OOMKills: 3}
	if s != want {
		t.Errorf("stats\n got %+v\nwant %+v", s, want)
	}
}

func TestV1MissingController(t *testing.T) {
	base := fakeV1(t, "p", "g")
	if err := os.RemoveAll(filepath.Join(base, "pids")); err != nil {
		t.Fatal(err)
	}
	m, _ := New(Config{Version: V1, Base: base, Parent: "p", Name: "g"})
	err := m.Create(Limits{})
	if !usererr.Is(err, "ErrCgroupNoController") || !strings.Contains(err.Error(), "CONFIG_CGROUP_PIDS") {
		t.Errorf("error %v, want ErrCgroupNoController naming CONFIG_CGROUP_PIDS", err)
	}
	if usererr.ExitCode(err) != usererr.ExitEnvironment {
		t.Errorf("exit status %d, want %d", usererr.ExitCode(err), usererr.ExitEnvironment)
	}
	if err := CheckControllers(V1, base); !usererr.Is(err, "ErrCgroupNoController") {
		t.Errorf("CheckControllers: %v, want ErrCgroupNoController", err)
	}
}

func TestV1AddProcAndThread(t *testing.T) {
	base := fakeV1(t, "p", "g")
	m, _ := New(Config{Version: V1, Base: base, Parent: "p", Name: "g"})
	if err := m.AddProc(4242); err != nil {
		t.Fatal(err)
	}
	if err := m.AddThread(4343); err != nil {
		t.Fatal(err)
	}
	for _, c := range v1Controllers {
		if got := readTree(t, filepath.Join(base, c, "p/g/cgroup.procs")); got != "4242" {
			t.Errorf("%s cgroup.procs = %q, want 4242", c, got)
		}
		if got := readTree(t, filepath.Join(base, c, "p/g/tasks")); got != "4343" {
			t.Errorf("%s tasks = %q, want 4343", c, got)
		}
	}
	if _, err := m.OpenDir(); !errors.Is(err, ErrCloneInto) {
		t.Errorf("OpenDir on v1: %v, want ErrCloneInto", err)
	}
}

func TestV1DestroyKeepsSiblings(t *testing.T) {
	base := fakeV1(t, "p", "g")
	writeTree(t, base, map[string]string{"memory/p/other/cgroup.procs": ""})
	m, _ := New(Config{Version: V1, Base: base, Parent: "p", Name: "g"})
	m.(*v1).rmdir = fakeRmdir
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	for _, c := range v1Controllers {
		if _, err := os.Stat(filepath.Join(base, c, "p/g")); !os.IsNotExist(err) {
			t.Errorf("%s group left after Destroy: %v", c, err)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "memory/p/other")); err != nil {
		t.Errorf("sibling group removed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(base, "cpu/p")); !os.IsNotExist(err) {
		t.Errorf("empty cpu parent left after Destroy: %v", err)
	}
	if err := m.Destroy(); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
}

func TestDestroyRejectsProcesses(t *testing.T) {
	defer func(n int) { destroyRetries = n }(destroyRetries)
	destroyRetries = 0
	base := fakeV2(t, "p", "g")
	writeTree(t, base, map[string]string{"p/g/cgroup.procs": "77\n78\n"})
	m, _ := New(Config{Version: V2, Base: base, Parent: "p", Name: "g"})
	m.(*v2).rmdir = fakeRmdir
	err := m.Destroy()
	if !usererr.Is(err, "ErrCgroupNotEmpty") || !strings.Contains(err.Error(), "77 78") {
		t.Errorf("error %v, want ErrCgroupNotEmpty naming 77 78", err)
	}
	if _, err := os.Stat(filepath.Join(base, "p/g")); err != nil {
		t.Errorf("group with processes was removed: %v", err)
	}
	if err := m.Create(Limits{}); !usererr.Is(err, "ErrCgroupNotEmpty") {
		t.Errorf("Create over a group with processes: %v, want ErrCgroupNotEmpty", err)
	}
}

func TestV2CreateEnablesControllers(t *testing.T) {
	base := fakeV2(t, "rt-lab-test", "rumah")
	m, err := New(Config{Version: V2, Base: base, Parent: "rt-lab-test", Name: "rumah"})
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	m.(*v2).write = recordWrites(&log)
	if err := m.Create(Limits{MemoryBytes: 64 << 20, CPUPercent: 25, Pids: 100}); err != nil {
		t.Fatal(err)
	}
	wantLog := []string{
		"cgroup.subtree_control=+memory", "cgroup.subtree_control=+cpu", "cgroup.subtree_control=+pids",
		"cgroup.subtree_control=+memory", "cgroup.subtree_control=+cpu", "cgroup.subtree_control=+pids",
		"memory.max=67108864", "memory.swap.max=0", "cpu.max=25000 100000", "pids.max=100",
	}
	if strings.Join(log, "\n") != strings.Join(wantLog, "\n") {
		t.Errorf("writes\n got %q\nwant %q", log, wantLog)
	}
	if got := m.Path(CPU); got != filepath.Join(base, "rt-lab-test/rumah") {
		t.Errorf("cpu path = %s", got)
	}
}

func TestV2SkipsEnabledControllers(t *testing.T) {
	base := fakeV2(t, "p", "g")
	writeTree(t, base, map[string]string{
		"cgroup.subtree_control":   "cpu memory pids",
		"p/cgroup.subtree_control": "cpu memory pids",
	})
	m, _ := New(Config{Version: V2, Base: base, Parent: "p", Name: "g"})
	var log []string
	m.(*v2).write = recordWrites(&log)
	if err := m.Create(Limits{}); err != nil {
		t.Fatal(err)
	}
	for _, w := range log {
		if strings.HasPrefix(w, "cgroup.subtree_control") {
			t.Errorf("enabled an enabled controller again: %s", w)
		}
	}
	for file, value := range map[string]string{"memory.max": "max", "memory.swap.max": "max",
		"cpu.max": "max 100000", "pids.max": "max"} {
		if got := readTree(t, filepath.Join(base, "p/g", file)); got != value {
			t.Errorf("%s = %q, want %q", file, got, value)
		}
	}
}

func TestV2MissingController(t *testing.T) {
	base := fakeV2(t, "p", "g")
	writeTree(t, base, map[string]string{"cgroup.controllers": "cpu io pids"})
	m, _ := New(Config{Version: V2, Base: base, Parent: "p", Name: "g"})
	err := m.Create(Limits{})
	if !usererr.Is(err, "ErrCgroupNoController") || !strings.Contains(err.Error(), "CONFIG_MEMCG") {
		t.Errorf("error %v, want ErrCgroupNoController naming CONFIG_MEMCG", err)
	}
	if err := CheckControllers(V2, base); !usererr.Is(err, "ErrCgroupNoController") {
		t.Errorf("CheckControllers: %v, want ErrCgroupNoController", err)
	}
}

// TestV2MemoryBelowUsage checks that a limit below usage is rejected instead of
// written to memory.max, where the kernel would OOM-kill to meet it.
func TestV2MemoryBelowUsage(t *testing.T) {
	base := fakeV2(t, "p", "g")
	m, _ := New(Config{Version: V2, Base: base, Parent: "p", Name: "g"})
	var log []string
	m.(*v2).write = recordWrites(&log)
	err := m.Set(Limits{MemoryBytes: 8 << 20})
	if !usererr.Is(err, "ErrCgroupMemoryBusy") || !strings.Contains(err.Error(), "12345678 bytes") {
		t.Fatalf("error %v, want ErrCgroupMemoryBusy naming 12345678 bytes", err)
	}
	if got := readTree(t, filepath.Join(base, "p/g/memory.max")); got != "max" {
		t.Errorf("memory.max = %q after a rejected limit, want max", got)
	}
	if got := readTree(t, filepath.Join(base, "p/g/memory.high")); got != "max" {
		t.Errorf("memory.high = %q after a rejected limit, want max", got)
	}
	if len(log) != 2 || log[0] != "memory.high=8388608" {
		t.Errorf("writes %q, want memory.high=8388608 then the reset", log)
	}
}

func TestV2Stats(t *testing.T) {
	base := fakeV2(t, "p", "g")
	writeTree(t, base, map[string]string{"p/g/cpu.max": "25000 100000", "p/g/memory.max": "67108864"})
	m, _ := New(Config{Version: V2, Base: base, Parent: "p", Name: "g"})
	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{MemoryUsage: 12345678, MemoryMaxUsage: 23456789, MemoryLimit: 67108864,
		CPUUsage: 987654000, CPUQuota: 25000, CPUPeriod: 100000, NrPeriods: 40, NrThrottled: 7,
		ThrottledTime: 1500000, PidsCurrent: 2, PidsMax: 0, OOMKills: 2}
	if s != want {
		t.Errorf("stats\n got %+v\nwant %+v", s, want)
	}
}

func TestForGroupsPaths(t *testing.T) {
	groups := ProcGroups{"memory": "/a/b", "cpu": "/a/b", "cpuacct": "/a/b", "pids": "/a/b", "": "/"}
	m, err := ForGroups(V1, "/base", groups)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Path(Pids); got != "/base/pids/a/b" {
		t.Errorf("v1 pids path = %s, want /base/pids/a/b", got)
	}
	m, err = ForGroups(V2, "/base", ProcGroups{"": "/a/b"})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Path(Memory); got != "/base/a/b" {
		t.Errorf("v2 memory path = %s, want /base/a/b", got)
	}
	if _, err := ForGroups(V1, "/base", ProcGroups{"": "/"}); err == nil {
		t.Error("v1 groups without the memory controller accepted")
	}
}

func TestNewRejectsBadNames(t *testing.T) {
	for _, cfg := range []Config{
		{Version: V1, Base: "/x", Parent: "..", Name: "g"},
		{Version: V1, Base: "/x", Parent: "p", Name: "a/b"},
		{Version: V2, Base: "/x", Parent: "p", Name: "tasks"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}
