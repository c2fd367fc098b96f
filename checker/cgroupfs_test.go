package checker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/internal/procfs"
)

const hybridProcCgroup = `12:pids:/rt-lab-1a2b/rumah
11:memory:/rt-lab-1a2b/rumah
4:cpu,cpuacct:/rt-lab-1a2b/rumah
1:name=systemd:/user.slice
0::/user.slice
`

func testMounts(t *testing.T, text string) []procfs.Mount {
	t.Helper()
	m, err := procfs.ParseMountinfo(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestResolveCgroupsHybrid(t *testing.T) {
	lines, err := parseProcCgroup(hybridProcCgroup)
	if err != nil {
		t.Fatal(err)
	}
	mounts := testMounts(t, `30 25 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate
35 30 0:31 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
40 30 0:36 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
41 30 0:37 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
`)
	// The unified hierarchy of a hybrid host has no controllers.
	read := func(string) ([]byte, error) { return []byte("\n"), nil }
	v := resolveCgroups(lines, mounts, []string{"memory", "cpu", "pids"}, read)
	want := map[string]string{
		"memory": "/sys/fs/cgroup/memory/rt-lab-1a2b/rumah",
		"cpu":    "/sys/fs/cgroup/cpu,cpuacct/rt-lab-1a2b/rumah",
		"pids":   "/sys/fs/cgroup/pids/rt-lab-1a2b/rumah",
	}
	for ctrl, dir := range want {
		if v.Dirs[ctrl] != dir || v.V2[ctrl] {
			t.Errorf("%s: got %q (v2 %v), want %q on v1", ctrl, v.Dirs[ctrl], v.V2[ctrl], dir)
		}
	}
}

func TestResolveCgroupsUnified(t *testing.T) {
	lines, err := parseProcCgroup("0::/rt-lab-1a2b/rumah\n")
	if err != nil {
		t.Fatal(err)
	}
	mounts := testMounts(t, "30 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n")
	read := func(path string) ([]byte, error) {
		if path != "/sys/fs/cgroup/rt-lab-1a2b/rumah/cgroup.controllers" {
			return nil, os.ErrNotExist
		}
		return []byte("cpu memory pids\n"), nil
	}
	v := resolveCgroups(lines, mounts, []string{"memory", "cpu", "pids", "io"}, read)
	for _, ctrl := range []string{"memory", "cpu", "pids"} {
		if v.Dirs[ctrl] != "/sys/fs/cgroup/rt-lab-1a2b/rumah" || !v.V2[ctrl] {
			t.Errorf("%s: got %q (v2 %v)", ctrl, v.Dirs[ctrl], v.V2[ctrl])
		}
	}
	if _, ok := v.Dirs["io"]; ok {
		t.Errorf("io resolved although cgroup.controllers does not list it")
	}
}

func TestParseProcCgroupRejectsGarbage(t *testing.T) {
	for _, in := range []string{"nonsense", "3:memory", "3:memory:relative"} {
		if _, err := parseProcCgroup(in); err == nil {
			t.Errorf("parseProcCgroup(%q) succeeded", in)
		}
	}
}

// TestCgroupFilesFake reads limits from a fake cgroupfs tree in both layouts.
func TestCgroupFilesFake(t *testing.T) {
	write := func(dir, name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	v1, v2 := t.TempDir(), t.TempDir()
	write(v1, "memory.limit_in_bytes", "67108864\n")
	write(v1, "cpu.cfs_quota_us", "25000\n")
	write(v1, "cpu.cfs_period_us", "100000\n")
	write(v1, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
	write(v2, "memory.max", "max\n")
	write(v2, "cpu.max", "50000 100000\n")
	write(v2, "memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n")

	if m, err := memoryLimit(v1, false); err != nil || m.N != 64*mib || m.Unlimited {
		t.Errorf("v1 memory: %+v, %v", m, err)
	}
	if m, err := memoryLimit(v2, true); err != nil || !m.Unlimited {
		t.Errorf("v2 memory: %+v, %v", m, err)
	}
	if q, p, err := cpuQuota(v1, false); err != nil || q.N != 25000 || p.N != 100000 {
		t.Errorf("v1 cpu: %+v %+v, %v", q, p, err)
	}
	if q, p, err := cpuQuota(v2, true); err != nil || q.N != 50000 || p.N != 100000 {
		t.Errorf("v2 cpu: %+v %+v, %v", q, p, err)
	}
	if n, err := oomKills(v1, false); err != nil || n.N != 2 {
		t.Errorf("v1 oom_kill: %+v, %v", n, err)
	}
	if n, err := oomKills(v2, true); err != nil || n.N != 1 {
		t.Errorf("v2 oom_kill: %+v, %v", n, err)
	}
	write(v1, "memory.limit_in_bytes", "9223372036854771712\n")
	if m, err := memoryLimit(v1, false); err != nil || !m.Unlimited {
		t.Errorf("v1 unlimited memory: %+v, %v", m, err)
	}
}
