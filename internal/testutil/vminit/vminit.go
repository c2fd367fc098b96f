// Package vminit is PID 1 of the virtual machine that `make test-vm` boots: it
// sets up a host like a systemd machine on pure cgroup v2, runs one Go test
// binary and reports its exit status to qemu. The host side is in vmtest/.
//
// The package's own tests check, inside the virtual machine, that the hierarchy
// really is cgroup v2 only.
package vminit

import (
	"fmt"
	"strings"
)

// ConfigPath is the path of the Config in the initramfs.
const ConfigPath = "/etc/vmtest/config.json"

// RTLabBinary is where the initramfs holds a static rt-lab binary built on the
// host. The VM has no go command, so testutil.BuildRTLab uses this one; the
// init names it in RT_LAB_TEST_BINARY.
const RTLabBinary = "/usr/local/bin/rt-lab"

// TestOutput is the serial port that carries the test binary's output. The kernel
// console is on ttyS0, so kernel messages never mix with the test output.
const TestOutput = "/dev/ttyS1"

// Config describes what the init runs. The test flags come from the kernel
// command line, after "--".
type Config struct {
	// Test is the absolute path of the static test binary.
	Test string `json:"test"`
	// Dir is the working directory of the test binary, with the package's
	// testdata folder in it, as `go test` would run it.
	Dir string `json:"dir"`
	// Modules are the kernel modules to load, in order: dependencies first.
	Modules []Module `json:"modules"`
}

// Module is a kernel module file and the parameters to load it with.
type Module struct {
	Path   string `json:"path"`
	Params string `json:"params,omitempty"`
}

// Port values that the init writes to the isa-debug-exit device. qemu then
// exits with status (value<<1)|1. Zero is never written, so qemu's own exit
// status 1 (an error in qemu) cannot be taken for a passing test.
const (
	maxTestStatus = 99
	// PortSignaled means the test binary was killed by a signal.
	PortSignaled = 101
	// PortInitFailed means the init failed before or while starting the test.
	PortInitFailed = 102
)

// PortValue returns the value to write to the exit port for a test binary that
// exited with status. Statuses above 99 are reported as 99.
func PortValue(status int) byte {
	if status < 0 || status > maxTestStatus {
		status = maxTestStatus
	}
	return byte(status + 1)
}

// Outcome is the result of one virtual machine run, decoded from qemu's exit
// status.
type Outcome struct {
	// Reported is true when the init wrote a value to the exit port.
	Reported bool
	// Status is the test binary's exit status when Reported and neither
	// Signaled nor InitFailed.
	Status     int
	Signaled   bool
	InitFailed bool
}

// Passed reports whether the test binary exited with status 0.
func (o Outcome) Passed() bool {
	return o.Reported && !o.Signaled && !o.InitFailed && o.Status == 0
}

func (o Outcome) String() string {
	switch {
	case !o.Reported:
		return "the virtual machine stopped without an exit status (kernel panic, or the init died)"
	case o.InitFailed:
		return "the init of the virtual machine failed (see the console log)"
	case o.Signaled:
		return "the test binary was killed by a signal (see the console log)"
	default:
		return fmt.Sprintf("the test binary exited with status %d", o.Status)
	}
}

// DecodeExit turns qemu's exit status into an Outcome. Statuses that the
// isa-debug-exit device cannot produce give an Outcome with Reported false.
func DecodeExit(qemuStatus int) Outcome {
	if qemuStatus&1 == 0 || qemuStatus < 3 {
		return Outcome{}
	}
	value := qemuStatus >> 1
	switch {
	case value == PortSignaled:
		return Outcome{Reported: true, Signaled: true}
	case value == PortInitFailed:
		return Outcome{Reported: true, InitFailed: true}
	case value <= maxTestStatus+1:
		return Outcome{Reported: true, Status: value - 1}
	}
	return Outcome{}
}

// withoutEnv returns the entries of environ whose name is not in drop.
func withoutEnv(environ []string, drop map[string]bool) []string {
	var filtered []string
	for _, entry := range environ {
		name, _, _ := strings.Cut(entry, "=")
		if !drop[name] {
			filtered = append(filtered, entry)
		}
	}
	return filtered
}
