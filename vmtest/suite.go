package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// initPackage is the init of the virtual machine.
const initPackage = "github.com/rt-lab/rt-lab/vmtest/init"

// rtlabPackage is the rt-lab command, built once for the tests that run it.
const rtlabPackage = "github.com/rt-lab/rt-lab/cmd/rt-lab"

// goPackage is the part of `go list -json` that vmtest uses.
type goPackage struct {
	ImportPath   string
	Dir          string
	TestGoFiles  []string
	XTestGoFiles []string
	Error        *struct{ Err string }
}

// testPackage is a package with its test binary built.
type testPackage struct {
	goPackage
	binary   string // host path of the test binary
	testdata string // host path of its testdata folder, or ""
}

// suite is everything built for one vmtest run.
type suite struct {
	opts     *options
	kernel   kernel
	busybox  string
	work     string
	init     string
	rtlab    string   // static rt-lab binary for the tests that run rt-lab
	modules  []string // loaded by the init, in order
	autoload []string // loaded on demand by modprobe
	packages []testPackage
}

// prepare resolves the kernel modules and builds the init and every test
// binary before the first boot, so a build error stops the run early.
func prepare(opts *options, k kernel, busybox string) (*suite, error) {
	index, err := loadModuleIndex(k.moduleDir())
	if err != nil {
		return nil, err
	}
	modules, err := index.resolve(splitList(opts.modules))
	if err != nil {
		return nil, err
	}
	autoload := index.below(splitList(opts.autoload))
	work, err := os.MkdirTemp("", "rt-lab-vmtest-")
	if err != nil {
		return nil, err
	}
	s := &suite{opts: opts, kernel: k, busybox: busybox, work: work, modules: modules,
		autoload: autoload, init: filepath.Join(work, "init")}
	err = s.build()
	if err != nil {
		os.RemoveAll(work)
		return nil, err
	}
	return s, nil
}

func (s *suite) build() error {
	if err := goCommand("build", "-trimpath", "-o", s.init, initPackage); err != nil {
		return err
	}
	// The VM has no go command, so tests that build rt-lab use this one
	// (testutil.BuildRTLab reads RT_LAB_TEST_BINARY).
	s.rtlab = filepath.Join(s.work, "rt-lab")
	if err := goCommand("build", "-trimpath", "-o", s.rtlab, rtlabPackage); err != nil {
		return err
	}
	pkgs, err := listPackages(s.opts.packages)
	if err != nil {
		return err
	}
	used := map[string]bool{}
	for _, pkg := range pkgs {
		name := path.Base(pkg.ImportPath)
		for i := 2; used[name]; i++ {
			name = fmt.Sprintf("%s%d", path.Base(pkg.ImportPath), i)
		}
		used[name] = true
		binary := filepath.Join(s.work, name+".test")
		logf("building %s", pkg.ImportPath)
		if err := goCommand("test", "-c", "-o", binary, pkg.ImportPath); err != nil {
			return err
		}
		if err := isStatic(binary); err != nil {
			return fmt.Errorf("test binary of %s: %w; build with CGO_ENABLED=0", pkg.ImportPath, err)
		}
		tp := testPackage{goPackage: pkg, binary: binary}
		if info, err := os.Stat(filepath.Join(pkg.Dir, "testdata")); err == nil && info.IsDir() {
			tp.testdata = filepath.Join(pkg.Dir, "testdata")
		}
		s.packages = append(s.packages, tp)
	}
	return nil
}

// goCommand runs the go command with cgo off, so every binary is static.
func goCommand(args ...string) error {
	goTool := os.Getenv("GO")
	if goTool == "" {
		goTool = "go"
	}
	cmd := exec.Command(goTool, args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// listPackages resolves patterns with `go list` and rejects packages without
// tests, since a listed package that runs no test would pass unnoticed.
func listPackages(patterns []string) ([]goPackage, error) {
	goTool := os.Getenv("GO")
	if goTool == "" {
		goTool = "go"
	}
	cmd := exec.Command(goTool, append([]string{"list", "-e", "-json"}, patterns...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %w: %s", strings.Join(patterns, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	var pkgs []goPackage
	decoder := json.NewDecoder(bytes.NewReader(out))
	for {
		var pkg goPackage
		if err := decoder.Decode(&pkg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("decode go list output: %w", err)
		}
		if pkg.Error != nil {
			return nil, fmt.Errorf("package %s: %s", pkg.ImportPath, pkg.Error.Err)
		}
		if len(pkg.TestGoFiles)+len(pkg.XTestGoFiles) == 0 {
			return nil, fmt.Errorf("package %s has no test files", pkg.ImportPath)
		}
		pkgs = append(pkgs, pkg)
	}
	return pkgs, nil
}

func splitList(list string) []string {
	var items []string
	for _, item := range strings.Split(list, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

// testArgs returns the test binary's flags. Its own timeout ends 2 minutes
// before the machine's, so a hanging test prints its goroutines before qemu is
// killed.
func (s *suite) testArgs() []string {
	timeout := s.opts.timeout - 2*time.Minute
	if timeout < s.opts.timeout/2 {
		timeout = s.opts.timeout / 2
	}
	args := []string{"-test.v", "-test.paniconexit0", "-test.timeout=" + timeout.String()}
	if s.opts.testRun != "" {
		args = append(args, "-test.run="+s.opts.testRun)
	}
	if s.opts.testSkip != "" {
		args = append(args, "-test.skip="+s.opts.testSkip)
	}
	return args
}

// runAll boots one machine per package and prints a summary line for each,
// in the format of `go test`, and a total at the end.
func (s *suite) runAll() int {
	status := 0
	total := &resultCounter{}
	for _, pkg := range s.packages {
		counter, ok := s.runPackage(pkg)
		if !ok {
			status = 1
		}
		total.passed += counter.passed
		total.failed += counter.failed
		total.skipped = append(total.skipped, counter.skipped...)
	}
	fmt.Printf("vmtest: %d passed, %d failed, %d skipped\n", total.passed, total.failed, len(total.skipped))
	return status
}

func (s *suite) runPackage(pkg testPackage) (*resultCounter, bool) {
	name := strings.TrimSuffix(filepath.Base(pkg.binary), ".test")
	initrd := filepath.Join(s.work, name+".cpio")
	consoleLog := filepath.Join(s.work, name+".console.log")
	counter := &resultCounter{w: os.Stdout}
	err := writeInitramfs(initrd, initramfsSpec{
		init: s.init, busybox: s.busybox, rtlab: s.rtlab, test: pkg.binary, testdata: pkg.testdata,
		kernel: s.kernel, modules: s.modules, autoload: s.autoload, programs: splitList(s.opts.programs),
	})
	if err != nil {
		fmt.Printf("FAIL\t%s\t[initramfs: %v]\n", pkg.ImportPath, err)
		return counter, false
	}

	logf("booting %s %s for %s", s.kernel.pkg, s.kernel.version, pkg.ImportPath)
	var env []string
	if ci := os.Getenv("CI"); ci != "" {
		env = append(env, "CI="+ci)
	}
	result, err := runVM(vmSpec{
		vmlinuz: s.kernel.vmlinuz(), initrd: initrd, consoleLog: consoleLog,
		memoryMiB: s.opts.memoryMiB, cpus: s.opts.cpus,
		env: env, testArgs: s.testArgs(), timeout: s.opts.timeout,
	}, counter)
	if err != nil {
		fmt.Printf("FAIL\t%s\t[qemu: %v]\n", pkg.ImportPath, err)
		s.printConsoleLog(consoleLog)
		return counter, false
	}

	detail := fmt.Sprintf("(qemu TCG, cgroup v2, test output after %.1fs)", result.firstOutput.Seconds())
	if len(counter.skipped) > 0 {
		logf("skipped in the virtual machine: %s", strings.Join(counter.skipped, ", "))
	}
	switch {
	case result.timedOut:
		fmt.Printf("FAIL\t%s\t%.3fs\t%s [timed out after %s]\n", pkg.ImportPath, result.elapsed.Seconds(), detail, s.opts.timeout)
	case !result.outcome.Passed():
		fmt.Printf("FAIL\t%s\t%.3fs\t%s [%s]\n", pkg.ImportPath, result.elapsed.Seconds(), detail, result.outcome)
	case counter.passed == 0 && s.opts.testRun == "":
		fmt.Printf("FAIL\t%s\t%.3fs\t%s [no test ran]\n", pkg.ImportPath, result.elapsed.Seconds(), detail)
	default:
		fmt.Printf("ok  \t%s\t%.3fs\t%s\n", pkg.ImportPath, result.elapsed.Seconds(), detail)
		return counter, true
	}
	if len(counter.failing) > 0 {
		logf("failed in the virtual machine: %s", strings.Join(counter.failing, ", "))
	}
	s.printConsoleLog(consoleLog)
	return counter, false
}

// printConsoleLog prints the kernel console of a failed machine, where the
// kernel and the init report what went wrong before the tests could.
func (s *suite) printConsoleLog(file string) {
	data, err := os.ReadFile(file)
	switch {
	case err != nil:
		logf("no console log: %v", err)
	case len(bytes.TrimSpace(data)) == 0:
		logf("the console log of the virtual machine is empty")
	default:
		where := ""
		if s.opts.keep {
			where = " (" + file + ")"
		}
		fmt.Fprintf(os.Stderr, "vmtest: console log of the virtual machine%s:\n%s\nvmtest: end of the console log\n", where, data)
	}
}
