package vminit

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// openTestOutput opens the serial port for the test output and turns off
// output processing, so "\n" reaches the host as it is, not as "\r\n".
func openTestOutput() (*os.File, error) {
	f, err := os.OpenFile(TestOutput, os.O_WRONLY|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	termios, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		f.Close()
		return nil, &os.PathError{Op: "tcgetattr", Path: TestOutput, Err: err}
	}
	termios.Oflag &^= unix.OPOST
	if err := unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, termios); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "tcsetattr", Path: TestOutput, Err: err}
	}
	return f, nil
}

// drain waits until the serial port has sent everything written to it
// (tcdrain), because qemu stops as soon as the exit port is written.
func drain(f *os.File) {
	if err := unix.IoctlSetInt(int(f.Fd()), unix.TCSBRK, 1); err != nil {
		logf("tcdrain %s: %v", f.Name(), err)
	}
}

// reportLeftovers warns about processes, cgroups and network interfaces that
// are still there after the test binary exited. Tests must remove what they
// create, even when they fail, and the virtual machine starts with none.
func reportLeftovers(out *os.File) {
	warn := func(what string, names []string) {
		if len(names) > 0 {
			fmt.Fprintf(out, "vminit: warning: %s left after the tests: %s\n", what, strings.Join(names, ", "))
		}
	}
	warn("processes", leftoverProcesses())
	warn("cgroups", leftoverCgroups())
	warn("network interfaces", leftoverLinks())
}

// leftoverProcesses returns "PID (comm)" for each user-space process other
// than the init. Kernel threads are children of kthreadd (PID 2).
func leftoverProcesses() []string {
	entries, _ := os.ReadDir("/proc")
	var found []string
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil || pid <= 2 {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", entry.Name(), "stat"))
		if err != nil {
			continue
		}
		// The fields after the comm, which is in parentheses, start with state, ppid.
		open, end := strings.IndexByte(string(stat), '('), strings.LastIndexByte(string(stat), ')')
		if open < 0 || end < open {
			continue
		}
		fields := strings.Fields(string(stat[end+1:]))
		if len(fields) < 2 || fields[1] == "2" || fields[0] == "Z" {
			continue
		}
		found = append(found, fmt.Sprintf("%d (%s)", pid, stat[open+1:end]))
	}
	return found
}

// leftoverCgroups returns the cgroups below the root other than the ones that
// setupCgroups made.
func leftoverCgroups() []string {
	var found []string
	filepath.WalkDir(cgroupRoot, func(path string, entry os.DirEntry, err error) error {
		if err != nil || !entry.IsDir() || path == cgroupRoot {
			return nil
		}
		rel, _ := filepath.Rel(cgroupRoot, path)
		if !slices.Contains([]string{initScope, systemSlice, testService}, rel) {
			found = append(found, rel)
			return filepath.SkipDir
		}
		return nil
	})
	return found
}

// leftoverLinks returns the network interfaces in the virtual machine's
// network namespace other than lo and the dummy device of setupNetwork.
func leftoverLinks() []string {
	entries, _ := os.ReadDir("/sys/class/net")
	var found []string
	for _, entry := range entries {
		if entry.Name() != "lo" && entry.Name() != hostLink {
			found = append(found, entry.Name())
		}
	}
	return found
}
