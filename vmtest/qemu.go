package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rt-lab/rt-lab/internal/testutil/vminit"
)

const qemuBinary = "qemu-system-x86_64"

// vmSpec is one boot of the virtual machine.
type vmSpec struct {
	vmlinuz, initrd string
	consoleLog      string // file that receives the kernel console (ttyS0)
	memoryMiB, cpus int
	env             []string // NAME=value pairs for the init's environment
	testArgs        []string // arguments of the test binary
	timeout         time.Duration
}

// vmResult is the outcome and the timing of one boot.
type vmResult struct {
	outcome  vminit.Outcome
	timedOut bool
	// firstOutput is the time from the start of qemu to the first byte of test
	// output, which the init writes once it has set up the machine.
	firstOutput time.Duration
	elapsed     time.Duration
}

// kernelCmdline returns the kernel command line. The kernel passes unknown
// NAME=value parameters to the init as environment variables and the words
// after "--" as its arguments. quiet keeps the console log short, panic=-1
// reboots at once on a panic and -no-reboot turns that reboot into an exit.
func kernelCmdline(env, testArgs []string) (string, error) {
	words := []string{"console=ttyS0", "quiet", "panic=-1", "cgroup_no_v1=all"}
	for _, entry := range env {
		name, _, ok := strings.Cut(entry, "=")
		if !ok || name == "" || strings.ContainsAny(name, ".-") {
			return "", fmt.Errorf("invalid environment entry %q for the virtual machine: want NAME=value, with no dot or dash in NAME", entry)
		}
		words = append(words, entry)
	}
	words = append(words, "--")
	words = append(words, testArgs...)
	for _, word := range words {
		if word == "" || strings.ContainsAny(word, " \t\n\"") {
			return "", fmt.Errorf("invalid kernel command line word %q: it must not be empty or contain spaces or quotes", word)
		}
	}
	line := strings.Join(words, " ")
	// COMMAND_LINE_SIZE on x86 is 2048 bytes, terminating NUL included.
	if len(line) >= 2048 {
		return "", fmt.Errorf("kernel command line is %d bytes, more than the 2047 that x86 allows", len(line))
	}
	return line, nil
}

// qemuArgs returns the arguments of qemu for spec. TCG emulates the CPU in
// software: slow, but it boots a stock kernel on any x86-64 host, including
// hosts whose /dev/kvm cannot. -nodefaults and -nic none leave the machine
// with no network card and no display. The first serial port is the console,
// the second the test output, which qemu writes to its standard output.
func qemuArgs(spec vmSpec, cmdline string) []string {
	return []string{
		"-accel", "tcg", "-cpu", "max",
		"-m", strconv.Itoa(spec.memoryMiB), "-smp", strconv.Itoa(spec.cpus),
		"-nodefaults", "-no-user-config", "-nic", "none",
		"-display", "none", "-monitor", "none", "-no-reboot",
		"-serial", "file:" + spec.consoleLog,
		"-chardev", "stdio,id=testout,signal=off", "-serial", "chardev:testout",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
		"-kernel", spec.vmlinuz, "-initrd", spec.initrd,
		"-append", cmdline,
	}
}

// runVM boots the machine and copies the test output to out as it arrives.
func runVM(spec vmSpec, out io.Writer) (vmResult, error) {
	cmdline, err := kernelCmdline(spec.env, spec.testArgs)
	if err != nil {
		return vmResult{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), spec.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemuBinary, qemuArgs(spec, cmdline)...)
	cmd.WaitDelay = 10 * time.Second
	first := &firstByteWriter{w: out}
	cmd.Stdout = first
	cmd.Stderr = os.Stderr

	start := time.Now()
	first.start = start
	err = cmd.Run()
	result := vmResult{elapsed: time.Since(start), firstOutput: first.elapsed()}
	if ctx.Err() != nil {
		result.timedOut = true
		return result, nil
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		result.outcome = vminit.DecodeExit(0)
	case errors.As(err, &exitErr) && exitErr.Exited():
		result.outcome = vminit.DecodeExit(exitErr.ExitCode())
	default:
		return result, fmt.Errorf("run %s: %w", qemuBinary, err)
	}
	return result, nil
}

// firstByteWriter passes writes on and notes when the first byte came.
type firstByteWriter struct {
	w     io.Writer
	start time.Time
	mu    sync.Mutex
	first time.Duration
}

func (f *firstByteWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	if f.first == 0 && len(p) > 0 {
		f.first = time.Since(f.start)
	}
	f.mu.Unlock()
	return f.w.Write(p)
}

func (f *firstByteWriter) elapsed() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.first
}
