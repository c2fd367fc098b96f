package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// Retries of Destroy. A process killed a moment ago may still be exiting, and
// the kernel returns EBUSY from rmdir(2) until its group is released.
var (
	destroyRetries = 100
	destroyDelay   = 10 * time.Millisecond
)

// unlimited is the smallest value treated as "no limit" when read back: v1
// reports no limit as the largest page-aligned int64 (9223372036854771712).
const unlimited = 1 << 62

// kernelOptions names the kernel build option behind each controller, for the
// message when one is missing.
var kernelOptions = map[string]string{
	Memory:  "CONFIG_MEMCG",
	CPU:     "CONFIG_CFS_BANDWIDTH",
	CPUAcct: "CONFIG_CGROUP_CPUACCT",
	Pids:    "CONFIG_CGROUP_PIDS",
}

func noController(controller, path string) error {
	return usererr.New(usererr.Environment, "ErrCgroupNoController",
		"Controller", controller, "Path", path, "Option", kernelOptions[controller])
}

// writeFile writes value to the cgroupfs file dir/name. The file must exist:
// a missing control file means a missing controller, never a file to create.
func writeFile(dir, name, value string) error {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func readString(dir, name string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, name))
	return strings.TrimSpace(string(data)), err
}

func readInt(dir, name string) (int64, error) {
	s, err := readString(dir, name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, &os.PathError{Op: "parse", Path: filepath.Join(dir, name), Err: err}
	}
	return n, nil
}

// readLimit reads a limit file and returns 0 for "max", -1 and v1's
// no-limit value.
func readLimit(dir, name string) (int64, error) {
	s, err := readString(dir, name)
	if err != nil || s == "max" {
		return 0, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, &os.PathError{Op: "parse", Path: filepath.Join(dir, name), Err: err}
	}
	if n < 0 || n >= unlimited {
		return 0, nil
	}
	return n, nil
}

// readKeyed parses a flat keyed file ("KEY VALUE" per line), such as cpu.stat.
func readKeyed(dir, name string) (map[string]uint64, error) {
	s, err := readString(dir, name)
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for _, line := range strings.Split(s, "\n") {
		key, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(value), 10, 64)
		if err != nil {
			return nil, &os.PathError{Op: "parse", Path: filepath.Join(dir, name), Err: err}
		}
		out[key] = n
	}
	return out, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func readProcs(dir string) ([]int, error) {
	s, err := readString(dir, "cgroup.procs")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range strings.Fields(s) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return nil, &os.PathError{Op: "parse", Path: filepath.Join(dir, "cgroup.procs"), Err: err}
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// mkdir makes a group folder; an existing one is reused.
func mkdir(dir string) error {
	err := os.Mkdir(dir, 0o755)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	return err
}

// removeGroup removes the group folder dir, waiting briefly for exiting
// processes. It never kills a process: with processes left it fails with
// ErrCgroupNotEmpty. A missing folder is not an error.
func removeGroup(dir string, rmdir func(string) error) error {
	if !exists(dir) {
		return nil
	}
	for i := 0; ; i++ {
		pids, err := readProcs(dir)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			break
		}
		if i == destroyRetries {
			return usererr.New(usererr.Failed, "ErrCgroupNotEmpty", "Path", dir, "PIDs", pids)
		}
		time.Sleep(destroyDelay)
	}
	for i := 0; ; i++ {
		err := rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || i == destroyRetries {
			return &os.PathError{Op: "rmdir", Path: dir, Err: err}
		}
		time.Sleep(destroyDelay)
	}
}

// removeParent removes a parent group folder if no other group is left in it.
func removeParent(dir string, rmdir func(string) error) error {
	err := rmdir(dir)
	switch {
	case err == nil, errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTEMPTY),
		errors.Is(err, unix.EEXIST), errors.Is(err, unix.EBUSY):
		return nil
	}
	return &os.PathError{Op: "rmdir", Path: dir, Err: err}
}

// checkEmpty rejects reusing a group that still has processes.
func checkEmpty(dir string) error {
	pids, err := readProcs(dir)
	if err != nil || len(pids) == 0 {
		return nil
	}
	return usererr.New(usererr.Failed, "ErrCgroupNotEmpty", "Path", dir, "PIDs", pids)
}

func memoryBusy(dir string, limit, usage int64) error {
	mib := func(n int64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) }
	return usererr.New(usererr.Usage, "ErrCgroupMemoryBusy", "Path", dir,
		"Limit", limit, "LimitMiB", mib(limit), "Usage", usage, "UsageMiB", mib(usage))
}

func pidsValue(n int64) string {
	if n == 0 {
		return "max"
	}
	return strconv.FormatInt(n, 10)
}

func unionPIDs(lists ...[]int) []int {
	var all []int
	for _, l := range lists {
		all = append(all, l...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}
