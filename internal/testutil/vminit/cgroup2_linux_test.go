package vminit

import (
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// requireVM skips t unless it runs in the virtual machine of `make test-vm`,
// whose init sets RT_LAB_EXPECT_CGROUP2=1. The host may run cgroup v1.
func requireVM(t *testing.T) {
	t.Helper()
	if os.Getenv("RT_LAB_EXPECT_CGROUP2") != "1" {
		t.Skip("checks the virtual machine of make test-vm, which sets RT_LAB_EXPECT_CGROUP2=1")
	}
}

func TestCgroup2RootMagic(t *testing.T) {
	requireVM(t)
	var fs unix.Statfs_t
	if err := unix.Statfs(cgroupRoot, &fs); err != nil {
		t.Fatal(err)
	}
	if fs.Type != unix.CGROUP2_SUPER_MAGIC {
		t.Fatalf("statfs(%s).f_type = %#x, want CGROUP2_SUPER_MAGIC %#x", cgroupRoot, fs.Type, unix.CGROUP2_SUPER_MAGIC)
	}
}

func TestCgroup2OwnGroupOnly(t *testing.T) {
	requireVM(t)
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 1 {
		t.Fatalf("/proc/self/cgroup has %d lines, want one cgroup v2 line:\n%s", len(lines), data)
	}
	if want := "0::/" + testService; lines[0] != want {
		t.Errorf("/proc/self/cgroup = %q, want %q", lines[0], want)
	}
}

func TestCgroup2Controllers(t *testing.T) {
	requireVM(t)
	data, err := os.ReadFile(cgroupRoot + "/" + testService + "/cgroup.controllers")
	if err != nil {
		t.Fatal(err)
	}
	have := strings.Fields(string(data))
	for _, name := range []string{"cpu", "memory", "pids"} {
		if !slices.Contains(have, name) {
			t.Errorf("controller %s is not available to the test's cgroup (have %v)", name, have)
		}
	}
}

// cgroup_no_v1=all on the kernel command line must make every v1 hierarchy
// unusable, so no code can fall back to v1 unnoticed.
func TestCgroupV1Disabled(t *testing.T) {
	requireVM(t)
	for _, controller := range []string{"memory", "cpu", "pids"} {
		dir := t.TempDir()
		err := unix.Mount("cgroup", dir, "cgroup", 0, controller)
		if err == nil {
			unix.Unmount(dir, 0)
			t.Errorf("mounting a cgroup v1 hierarchy with %s succeeded, want an error", controller)
		}
	}
}

func TestDecodeExit(t *testing.T) {
	tests := []struct {
		name       string
		qemuStatus int
		want       Outcome
	}{
		{"test passed", int(PortValue(0))<<1 | 1, Outcome{Reported: true, Status: 0}},
		{"test failed", int(PortValue(1))<<1 | 1, Outcome{Reported: true, Status: 1}},
		{"status capped", int(PortValue(200))<<1 | 1, Outcome{Reported: true, Status: 99}},
		{"signaled", PortSignaled<<1 | 1, Outcome{Reported: true, Signaled: true}},
		{"init failed", PortInitFailed<<1 | 1, Outcome{Reported: true, InitFailed: true}},
		{"powered off", 0, Outcome{}},
		{"qemu error", 1, Outcome{}},
		{"even status", 4, Outcome{}},
		{"value out of range", 120<<1 | 1, Outcome{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecodeExit(tt.qemuStatus); got != tt.want {
				t.Errorf("DecodeExit(%d) = %+v, want %+v", tt.qemuStatus, got, tt.want)
			}
		})
	}
}

func TestOutcomePassed(t *testing.T) {
	if !DecodeExit(3).Passed() {
		t.Error("qemu status 3 (port value 1) should be a passing test")
	}
	if DecodeExit(1).Passed() {
		t.Error("qemu status 1 (qemu's own error) must not be a passing test")
	}
}

func TestEnableLine(t *testing.T) {
	got := enableLine([]string{"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"})
	if want := "+cpu +io +memory +pids"; got != want {
		t.Errorf("enableLine = %q, want %q", got, want)
	}
	if got := enableLine([]string{"cpuset"}); got != "" {
		t.Errorf("enableLine without delegated controllers = %q, want empty", got)
	}
}
