// Command bench measures rt-lab beside runc, the reference container runtime,
// and prints Markdown tables of medians and ratios. It times the lifecycle of
// a short-lived house, entering a running house, grading a finished lab, and
// bringing up many houses on one bridge. It needs root, the static rt-lab
// binary and runc, and `sudo make bench` provides both and runs it.
//
// Every house, runc container, cgroup, veth pair and bridge it makes lives
// under a new temporary folder, or is named after it, and is removed at the
// end, also after an error or Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/runtime"
)

// fullScale and defaultScale are the house counts of the scale benchmark
// with BENCH_SCALE=full and without BENCH_SCALE.
var (
	fullScale    = []int{10, 50, 100, 200, 250}
	defaultScale = []int{10, 50}
)

// sections are the benchmarks -only can choose, in the order they run.
var sections = []string{"lifecycle", "blocks", "enter", "grade", "scale"}

// env is what every benchmark needs.
type env struct {
	cl       *cleanups
	tmp      string // the run's temporary folder; every state folder is below it
	bin      string // rt-lab binary under test
	baseline string // optional second rt-lab binary to compare with
	runs     int
	// runc runs containers with the namespaces of a house without a user
	// namespace, and runcUserNS adds one.
	runc, runcUserNS *runcBench
	userNSFlag       bool // bin has create-container --userns
}

type options struct {
	bin, baseline, runcBin string
	runs                   int
	scale                  []int
	only                   []string
}

func main() {
	// Started as a house's bootstrap (the API benchmarks start houses from
	// this process), this never returns.
	runtime.MaybeInit()
	os.Exit(run())
}

func run() int {
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: needs root, because it creates namespaces, cgroups and veth pairs: run sudo make bench")
		return 3
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()

	cl := &cleanups{}
	rep, err := runAll(ctx, cl, opts)
	if failed := cl.run(); failed > 0 {
		err = errors.Join(err, fmt.Errorf("%d cleanup steps failed; see the lines above", failed))
	}
	if rep != nil {
		rep.print(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	return 0
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var opts options
	var runs, scale, only string
	fs.StringVar(&opts.bin, "rt-lab", "bin/rt-lab", "static rt-lab binary to measure")
	fs.StringVar(&opts.baseline, "baseline", "", "a second rt-lab binary whose lifecycle is measured beside the first, such as a build of an older commit")
	fs.StringVar(&opts.runcBin, "runc", "runc", "runc binary")
	fs.StringVar(&runs, "runs", envOr("BENCH_RUNS", "10"), "runs per small benchmark, at least 1; the median is reported (env BENCH_RUNS)")
	fs.StringVar(&scale, "scale", envOr("BENCH_SCALE", ""), `house counts of the scale benchmark, such as "10,50", or "full" for 10,50,100,200,250; default 10,50 (env BENCH_SCALE)`)
	fs.StringVar(&only, "only", envOr("BENCH_ONLY", strings.Join(sections, ",")), "benchmarks to run: "+strings.Join(sections, ",")+" (env BENCH_ONLY)")
	if err := fs.Parse(args); err != nil {
		return opts, err
	}
	if fs.NArg() > 0 {
		return opts, fmt.Errorf("unexpected argument %q; see -h", fs.Arg(0))
	}
	n, err := strconv.Atoi(runs)
	if err != nil || n < 1 {
		return opts, fmt.Errorf("invalid run count %q: give a whole number of at least 1", runs)
	}
	opts.runs = n
	if opts.scale, err = parseScale(scale); err != nil {
		return opts, err
	}
	for _, s := range strings.Split(only, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(sections, s) {
			return opts, fmt.Errorf("invalid benchmark %q in -only: choose from %s", s, strings.Join(sections, ","))
		}
		opts.only = append(opts.only, s)
	}
	return opts, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// parseScale parses a comma-separated list of house counts from 1 to 253,
// the most houses a /24 subnet holds besides the network, gateway and
// broadcast addresses.
func parseScale(s string) ([]int, error) {
	switch s {
	case "":
		return defaultScale, nil
	case "full":
		return fullScale, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 253 {
			return nil, fmt.Errorf(`invalid house count %q in the scale list: give whole numbers from 1 to 253, such as "10,50", or "full"`, f)
		}
		out = append(out, n)
	}
	return out, nil
}

// runAll prepares the run's folder and runc bundle, then runs the chosen
// benchmarks.
func runAll(ctx context.Context, cl *cleanups, opts options) (*report, error) {
	bin, err := checkBinary(opts.bin)
	if err != nil {
		return nil, err
	}
	baseline := ""
	if opts.baseline != "" {
		if baseline, err = checkBinary(opts.baseline); err != nil {
			return nil, err
		}
	}
	runcBin, err := exec.LookPath(opts.runcBin)
	if err != nil {
		return nil, fmt.Errorf("runc not found (%w): install it with sudo scripts/install-deps.sh", err)
	}
	tmp, err := os.MkdirTemp("", "rt-lab-bench-")
	if err != nil {
		return nil, err
	}
	cl.push("remove "+tmp, func() error { return os.RemoveAll(tmp) })

	rep := &report{machine: describeMachine(bin, runcBin, tmp), runs: opts.runs, baselineName: opts.baseline}
	if load1() > 1.5 {
		progress("load average is %s: other work on the machine slows every variant", rep.machine.LoadStart)
	}
	// Root in a runc container's user namespace is another user on the host,
	// and must be able to pass through the run's folder to its bundle.
	if err := os.Chmod(tmp, 0o711); err != nil {
		return rep, err
	}
	e := &env{cl: cl, tmp: tmp, bin: bin, baseline: baseline, runs: opts.runs,
		userNSFlag: supportsFlag(bin, "--userns")}
	if err := e.newRunc(runcBin); err != nil {
		return rep, err
	}
	for _, s := range opts.only {
		if err := rep.runSection(ctx, e, s, opts.scale); err != nil {
			return rep, fmt.Errorf("%s: %w", s, err)
		}
	}
	rep.machine.LoadEnd = loadAverage()
	return rep, nil
}

func (rep *report) runSection(ctx context.Context, e *env, section string, scale []int) error {
	var err error
	switch section {
	case "lifecycle":
		rep.lifecycle, err = benchLifecycle(ctx, e)
	case "blocks":
		rep.blocks, err = benchBlocks(ctx, e)
	case "enter":
		rep.enter, err = benchEnter(ctx, e)
	case "grade":
		rep.grade, err = benchGrade(ctx, e)
	case "scale":
		for _, n := range scale {
			res, err := benchScale(ctx, e, n)
			if err != nil {
				return err
			}
			rep.scale = append(rep.scale, res)
		}
	}
	return err
}

// checkBinary returns the absolute path of an existing static binary.
func checkBinary(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(abs); err != nil {
		return "", fmt.Errorf("rt-lab binary %s: %w; build it with make build", abs, err)
	}
	if err := runtime.CheckStatic(abs); err != nil {
		return "", fmt.Errorf("rt-lab binary %s must be statically linked, because houses mount it as their tools: build it with make build", abs)
	}
	return abs, nil
}

// runcIDBase is the first host uid and gid of the runc containers' user
// namespace, far above the ranges rt-lab gives its houses.
const runcIDBase = 1 << 30

// newRunc builds the runc bundles, without and with a user namespace, from
// the busybox base that rt-lab builds.
func (e *env) newRunc(runcBin string) error {
	root, err := newRoot(e.cl, e.tmp, "runc-base")
	if err != nil {
		return err
	}
	cli := rtlabCLI{bin: e.bin, root: root}
	if e.userNSFlag {
		cli.createFlags = []string{"--userns=false"}
	}
	if _, err := cli.run("create-container", "dasar"); err != nil {
		return err
	}
	r, err := runtime.New(runtime.Options{Root: root})
	if err != nil {
		return err
	}
	c, err := r.Get("dasar")
	if err != nil {
		return err
	}
	limits := cgroups.Limits{MemoryBytes: benchRAMMiB * runtime.MiB, CPUPercent: benchCPUPercent, Pids: runtime.DefaultPids}
	group := "rt-lab-bench-" + strings.TrimPrefix(filepath.Base(e.tmp), "rt-lab-bench-")
	base := r.BaseDir(c.Base)
	if e.runc, err = newRuncBench(e.cl, runcBin, filepath.Join(e.tmp, "runc"), group, base, e.bin, limits, 0); err != nil {
		return err
	}
	e.runcUserNS, err = newRuncBench(e.cl, runcBin, filepath.Join(e.tmp, "runc-userns"), group+"-userns", base, e.bin,
		limits, runcIDBase)
	if err != nil {
		return err
	}
	// The house only served to build the base; its bridge can go.
	_, err = cli.run("delete-container", "dasar", "--yes")
	return err
}

// rootWithNeighbour makes a state folder with one stopped house, made by
// rt-lab binary bin, whose address keeps the bridge up between the
// benchmark's houses, as in a lab where other houses exist.
func (e *env) rootWithNeighbour(name, bin string) (string, error) {
	root, err := newRoot(e.cl, e.tmp, name)
	if err != nil {
		return "", err
	}
	cli := rtlabCLI{bin: bin, root: root}
	_, err = cli.run("create-container", "tetangga")
	return root, err
}

// apiRootWithNeighbour is rootWithNeighbour for the Go API.
func (e *env) apiRootWithNeighbour(name string) (*runtime.Runtime, error) {
	root, err := newRoot(e.cl, e.tmp, name)
	if err != nil {
		return nil, err
	}
	r, err := runtime.New(runtime.Options{Root: root})
	if err != nil {
		return nil, err
	}
	_, err = r.Create(runtime.CreateOptions{Name: "tetangga"})
	return r, err
}
