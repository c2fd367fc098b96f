package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/network"
	"github.com/rt-lab/rt-lab/runtime"
)

// rtlabCLI runs the built rt-lab binary on one state folder, as a student
// types the commands.
type rtlabCLI struct {
	bin         string
	root        string
	createFlags []string // added to every create-container, such as --userns=false
}

// supportsFlag reports whether rt-lab binary bin's create-container help
// lists flag, so that an older build is measured without it.
func supportsFlag(bin, flag string) bool {
	out, _ := exec.Command(bin, "--lang", "en", "create-container", "--help").CombinedOutput()
	return bytes.Contains(out, []byte(flag))
}

// result is one command's wall time and the peak resident memory of the
// command's process, from wait4(2).
type result struct {
	wall   time.Duration
	maxRSS int64 // bytes
}

// run runs rt-lab with args and returns its wall time. Output goes to a
// buffer that is shown only when the command fails.
func (c rtlabCLI) run(args ...string) (result, error) {
	full := append([]string{"--root", c.root, "--lang", "en"}, args...)
	cmd := exec.Command(c.bin, full...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	res := result{wall: time.Since(start)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.maxRSS = ru.Maxrss * 1024
	}
	if err != nil {
		return res, fmt.Errorf("rt-lab %s: %w\n%s", strings.Join(args, " "), err, out.Bytes())
	}
	return res, nil
}

// newRoot makes a fresh state folder under parent and registers its removal.
func newRoot(cl *cleanups, parent, name string) (string, error) {
	root := filepath.Join(parent, name)
	if err := os.Mkdir(root, 0o755); err != nil {
		return "", err
	}
	cl.push("remove state folder "+root, func() error { return removeRoot(root) })
	return root, nil
}

// removeRoot deletes every house of root, including folders that an
// interrupted create left without a state file, then the bridge, and the
// folder itself. It reports anything the kernel still holds for root.
func removeRoot(root string) error {
	r, err := runtime.New(runtime.Options{Root: root})
	if err != nil {
		return err
	}
	var errs []error
	entries, err := os.ReadDir(filepath.Join(root, "containers"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if err := r.Delete(e.Name(), true); err != nil {
			errs = append(errs, fmt.Errorf("delete house %s: %w", e.Name(), err))
		}
	}
	if err := r.RemoveBridge(true); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, leftovers(root)...)
	if len(errs) == 0 {
		errs = append(errs, os.RemoveAll(root))
	}
	return errors.Join(errs...)
}

// leftovers lists the cgroup folders and the bridge of root that still exist.
func leftovers(root string) []error {
	var errs []error
	bridge := network.BridgeName(root)
	if n, err := network.Load(root); err == nil {
		bridge = n.Config().Bridge
	}
	if _, err := netlink.LinkByName(bridge); err == nil {
		errs = append(errs, fmt.Errorf("bridge %s of %s still exists", bridge, root))
	}
	parent := cgroups.ParentName(root)
	for _, dir := range cgroupDirs(parent) {
		errs = append(errs, fmt.Errorf("cgroup %s of %s still exists", dir, root))
	}
	return errs
}

// cgroupDirs returns the existing folders named group directly under a
// cgroup hierarchy: /sys/fs/cgroup/GROUP on v2, /sys/fs/cgroup/*/GROUP on v1.
func cgroupDirs(group string) []string {
	candidates := []string{filepath.Join(cgroups.DefaultBase, group)}
	more, _ := filepath.Glob(filepath.Join(cgroups.DefaultBase, "*", group))
	candidates = append(candidates, more...)
	var found []string
	for _, dir := range candidates {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			found = append(found, dir)
		}
	}
	return found
}
