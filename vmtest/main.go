// Command vmtest runs Go test packages as root inside a virtual machine whose
// only cgroup hierarchy is cgroup v2, so that cgroup v2 code is tested for
// real on hosts that run cgroup v1.
//
// For each package it builds a static test binary and packs it into an
// initramfs with a static busybox, some kernel modules and the init from
// vmtest/init. Then it boots a stock Debian kernel, fetched with apt-get and
// cached, under qemu with software emulation (TCG) and no network. The test
// output streams to standard output. The kernel console goes to a log that is
// printed when a package fails.
//
// Usage:
//
//	go run ./vmtest [flags] PACKAGE...
//
// Exit status: 0 all packages passed, or the tools are missing outside CI
// (with a warning); 1 a package failed, or a tool is missing in CI (CI=true);
// 2 usage error.
package main

import (
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	goruntime "runtime"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

type options struct {
	testRun   string
	testSkip  string
	timeout   time.Duration
	cacheDir  string
	modules   string
	autoload  string
	memoryMiB int
	cpus      int
	busybox   string
	programs  string
	keep      bool
	packages  []string
}

func parseFlags(args []string) (*options, error) {
	opts := &options{}
	fs := flag.NewFlagSet("vmtest", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: go run ./vmtest [flags] PACKAGE...")
		fmt.Fprintln(fs.Output(), "Runs each package's tests as root in a qemu virtual machine on pure cgroup v2.")
		fs.PrintDefaults()
	}
	fs.StringVar(&opts.testRun, "run", "", "run only the tests matching this regular expression (go test -run)")
	fs.StringVar(&opts.testSkip, "skip", "", "leave out the tests matching this regular expression (go test -skip)")
	fs.DurationVar(&opts.timeout, "timeout", 20*time.Minute, "time limit of one virtual machine; the test binary gets 2 minutes less")
	fs.StringVar(&opts.cacheDir, "cache", defaultCacheDir(), "folder that keeps the downloaded kernel between runs")
	fs.StringVar(&opts.modules, "modules", strings.Join(defaultPreload, ","), "comma-separated kernel modules that the init loads, with their dependencies")
	fs.StringVar(&opts.autoload, "autoload", strings.Join(defaultAutoload, ","), "comma-separated module files and folders, relative to lib/modules/RELEASE, that load on demand")
	fs.IntVar(&opts.memoryMiB, "memory", 1024, "memory of the virtual machine in MiB")
	fs.IntVar(&opts.cpus, "smp", 2, "number of virtual CPUs")
	fs.StringVar(&opts.busybox, "busybox", os.Getenv("RT_LAB_BUSYBOX"), "static busybox to put in the virtual machine (default /bin/busybox or /usr/bin/busybox)")
	fs.StringVar(&opts.programs, "programs", "/bin/bash", "comma-separated dynamically linked host programs to copy with their libraries")
	fs.BoolVar(&opts.keep, "keep", false, "keep the work folder with the initramfs and console logs")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}

	opts.packages = fs.Args()
	switch {
	case len(opts.packages) == 0:
		fs.Usage()
		return nil, errors.New("no package given")
	case opts.timeout < time.Minute:
		return nil, fmt.Errorf("invalid -timeout %s: the virtual machine needs at least 1m", opts.timeout)
	case opts.memoryMiB < 256:
		return nil, fmt.Errorf("invalid -memory %d: use 256 MiB or more", opts.memoryMiB)
	case opts.cpus < 1:
		return nil, fmt.Errorf("invalid -smp %d: use 1 or more", opts.cpus)
	}
	return opts, nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "vmtest: "+format+"\n", args...)
}

func run(args []string) int {
	opts, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		logf("%v", err)
		return 2
	}

	if err := checkHost(); err != nil {
		return unavailable(err)
	}
	busybox, err := findBusybox(opts.busybox)
	if err != nil {
		return unavailable(err)
	}
	k, lock, err := fetchKernel(opts.cacheDir, busybox, logf)
	if errors.Is(err, errNoTools) {
		return unavailable(err)
	}
	if err != nil {
		logf("cannot get the kernel: %v", err)
		return 1
	}
	defer lock.release()

	suite, err := prepare(opts, k, busybox)
	if err != nil {
		logf("%v", err)
		return 1
	}
	if !opts.keep {
		defer os.RemoveAll(suite.work)
	}
	return suite.runAll()
}

// checkHost fails with errNoTools when qemu is missing or the host cannot run
// the amd64 binaries that go into the virtual machine.
func checkHost() error {
	if goruntime.GOARCH != "amd64" {
		return fmt.Errorf("%w: the virtual machine runs amd64 binaries and a Debian amd64 kernel, and this host is %s", errNoTools, goruntime.GOARCH)
	}
	if _, err := exec.LookPath(qemuBinary); err != nil {
		return fmt.Errorf("%w: %s not found (Debian package qemu-system-x86)", errNoTools, qemuBinary)
	}
	return nil
}

// unavailable reports that the virtual machine cannot run here. Outside CI
// this is a loud skip, in CI a failure: scripts/install-deps.sh installs
// every tool, so a missing one there is a bug.
func unavailable(err error) int {
	line := strings.Repeat("#", 72)
	fmt.Fprintf(os.Stderr, "%s\nvmtest: SKIPPED: the cgroup v2 tests in the virtual machine did not run.\nvmtest: %v\nvmtest: run 'sudo make deps' (scripts/install-deps.sh) to install the tools.\n%s\n",
		line, err, line)
	if os.Getenv("CI") == "true" {
		logf("CI=true, so a missing tool is a failure")
		return 1
	}
	return 0
}

// findBusybox returns explicit, or the first static busybox in the usual
// places. The containers in the tests need a static one.
func findBusybox(explicit string) (string, error) {
	candidates := []string{"/bin/busybox", "/usr/bin/busybox"}
	if explicit != "" {
		candidates = []string{explicit}
	}
	for _, path := range candidates {
		if isStatic(path) == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("%w: no static busybox in %s (Debian package busybox-static)", errNoTools, strings.Join(candidates, " or "))
}

// isStatic fails unless path is an ELF executable without a program
// interpreter.
func isStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked", path)
		}
	}
	return nil
}
