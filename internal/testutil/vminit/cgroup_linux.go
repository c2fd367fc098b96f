package vminit

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

const cgroupRoot = "/sys/fs/cgroup"

// Cgroups of the virtual machine, laid out as systemd does: the init in
// init.scope and the test binary in a service under system.slice, so the root
// group and system.slice hold no processes of their own.
const (
	initScope   = "init.scope"
	systemSlice = "system.slice"
	testService = "system.slice/rt-lab-vmtest.service"
)

// delegatedControllers are the controllers that a systemd host typically has
// in /sys/fs/cgroup/cgroup.subtree_control, since its default accounting
// settings turn them on.
var delegatedControllers = []string{"cpu", "io", "memory", "pids"}

// setupCgroups checks that /sys/fs/cgroup is cgroup v2, builds the systemd
// layout, moves the init to init.scope and returns an open file descriptor
// of the test binary's group, for clone3(2) with CLONE_INTO_CGROUP.
func setupCgroups() (int, error) {
	if err := checkCgroup2(cgroupRoot); err != nil {
		return -1, err
	}
	available, err := os.ReadFile(filepath.Join(cgroupRoot, "cgroup.controllers"))
	if err != nil {
		return -1, err
	}
	enable := enableLine(strings.Fields(string(available)))
	for _, group := range []string{"", systemSlice} {
		dir := filepath.Join(cgroupRoot, group)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return -1, err
		}
		if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte(enable), 0); err != nil {
			return -1, fmt.Errorf("enable %q in %s: %w", enable, dir, err)
		}
	}
	for _, group := range []string{initScope, testService} {
		if err := os.MkdirAll(filepath.Join(cgroupRoot, group), 0o755); err != nil {
			return -1, err
		}
	}
	procs := filepath.Join(cgroupRoot, initScope, "cgroup.procs")
	if err := os.WriteFile(procs, []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
		return -1, fmt.Errorf("move the init to %s: %w", procs, err)
	}
	fd, err := unix.Open(filepath.Join(cgroupRoot, testService), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: testService, Err: err}
	}
	return fd, nil
}

// checkCgroup2 fails unless dir is the root of a cgroup v2 file system.
func checkCgroup2(dir string) error {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return &os.PathError{Op: "statfs", Path: dir, Err: err}
	}
	if fs.Type != unix.CGROUP2_SUPER_MAGIC {
		return fmt.Errorf("%s has file system magic %#x, not cgroup2 (%#x)", dir, fs.Type, unix.CGROUP2_SUPER_MAGIC)
	}
	return nil
}

// enableLine returns the cgroup.subtree_control line that enables the
// delegated controllers found in available, such as "+cpu +memory".
func enableLine(available []string) string {
	have := make(map[string]bool)
	for _, name := range available {
		have[name] = true
	}
	var words []string
	for _, name := range delegatedControllers {
		if have[name] {
			words = append(words, "+"+name)
		}
	}
	return strings.Join(words, " ")
}
