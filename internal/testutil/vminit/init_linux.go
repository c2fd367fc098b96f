package vminit

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Main runs the virtual machine's init: set up, run the test binary with args,
// report its exit status through the exit port. It never returns, because the
// kernel panics when PID 1 exits.
func Main(args []string) {
	value := PortInitFailed
	defer func() {
		// A panic would end PID 1 and so panic the kernel, with no exit status.
		if r := recover(); r != nil {
			logf("panic: %v", r)
			powerOff(PortInitFailed)
		}
	}()
	status, err := run(args)
	switch {
	case err != nil:
		logf("error: %v", err)
	case status.Signaled():
		logf("the test binary ended by signal %d (%v)", int(status.Signal()), status.Signal())
		value = PortSignaled
	default:
		value = int(PortValue(status.ExitStatus()))
	}
	powerOff(byte(value))
}

func run(args []string) (syscall.WaitStatus, error) {
	if os.Getpid() != 1 {
		return 0, fmt.Errorf("vminit must run as PID 1, not as PID %d", os.Getpid())
	}
	cfg, err := readConfig()
	if err != nil {
		return 0, err
	}
	if err := switchRoot(); err != nil {
		return 0, err
	}
	if err := mountAll(); err != nil {
		return 0, err
	}
	if err := loadModules(cfg.Modules); err != nil {
		return 0, err
	}
	if err := setupNetwork(); err != nil {
		return 0, err
	}
	cgroupFD, err := setupCgroups()
	if err != nil {
		return 0, err
	}
	out, err := openTestOutput()
	if err != nil {
		return 0, err
	}
	defer out.Close()
	fmt.Fprintf(out, "vminit: kernel %s up after %s; running %s on cgroup v2\n",
		kernelRelease(), uptime(), cfg.Test)

	status, err := runTest(cfg, args, cgroupFD, out)
	if err != nil {
		return 0, err
	}
	reportLeftovers(out)
	drain(out)
	return status, nil
}

func readConfig() (*Config, error) {
	data, err := os.ReadFile(ConfigPath)
	if err != nil {
		return nil, err
	}
	var cfg Config
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("decode %s: %w", ConfigPath, err)
	}
	if cfg.Test == "" {
		return nil, fmt.Errorf("%s names no test binary", ConfigPath)
	}
	return &cfg, nil
}

// testEnv is the environment of the test binary: the variables that the kernel
// passed to the init (unknown name=value boot parameters, such as CI=true) with
// these set on top.
var testEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"TMPDIR=/tmp",
	// Root tests fail instead of skipping, and the cgroup v2 check runs.
	"RT_LAB_REQUIRE_ROOT=1",
	"RT_LAB_EXPECT_CGROUP2=1",
	"RT_LAB_TEST_BINARY=" + RTLabBinary,
}

func buildEnv() []string {
	drop := make(map[string]bool)
	for _, entry := range testEnv {
		name, _, _ := strings.Cut(entry, "=")
		drop[name] = true
	}
	return append(withoutEnv(os.Environ(), drop), testEnv...)
}

// runTest starts the test binary inside the cgroup cgroupFD, then reaps every
// child until the test binary exits. As PID 1 the init also inherits orphans,
// such as the processes of a container whose parent exited.
func runTest(cfg *Config, args []string, cgroupFD int, out *os.File) (syscall.WaitStatus, error) {
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return 0, err
	}
	defer devNull.Close()
	dir := cfg.Dir
	if dir == "" {
		dir = "/"
	}
	attr := &syscall.ProcAttr{
		Dir:   dir,
		Env:   buildEnv(),
		Files: []uintptr{devNull.Fd(), out.Fd(), out.Fd()},
		Sys: &syscall.SysProcAttr{
			Setsid:      true,
			UseCgroupFD: true,
			CgroupFD:    cgroupFD,
		},
	}
	argv := append([]string{cfg.Test}, args...)
	pid, err := syscall.ForkExec(cfg.Test, argv, attr)
	if err != nil {
		return 0, fmt.Errorf("start %s: %w", cfg.Test, err)
	}
	for {
		var status syscall.WaitStatus
		reaped, err := syscall.Wait4(-1, &status, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, os.NewSyscallError("wait4", err)
		}
		if reaped == pid {
			return status, nil
		}
	}
}

// powerOff writes value to the isa-debug-exit port, which ends qemu at once.
// /dev/port is the kernel's interface to x86 I/O ports: a one-byte write at
// offset 0xf4 is an outb to port 0xf4. Without that device, the machine
// powers off and qemu exits with status 0, which the host reads as "no status".
func powerOff(value byte) {
	// The console is a serial port too, and its last lines would be lost.
	drain(os.Stderr)
	unix.Sync()
	if f, err := os.OpenFile("/dev/port", os.O_WRONLY, 0); err == nil {
		_, err = f.WriteAt([]byte{value}, 0xf4)
		if err != nil {
			logf("write the exit port: %v", err)
		}
		f.Close()
		time.Sleep(time.Second)
	} else {
		logf("open /dev/port: %v", err)
	}
	logf("the exit port did not stop the machine, powering off")
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}

// logf writes a line to the kernel console, which the host saves in the
// console log.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "vminit: "+format+"\n", args...)
}

func kernelRelease() string {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(uts.Release[:])
}

// uptime returns the time since the kernel started, from /proc/uptime.
func uptime() string {
	data, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return "unknown"
	}
	seconds, _, _ := strings.Cut(string(data), " ")
	return seconds + "s"
}
