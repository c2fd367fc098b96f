package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/rt-lab/rt-lab/network"
	"github.com/rt-lab/rt-lab/runtime"
)

// The memory and CPU limits of every house and runc container in the
// lifecycle and enter benchmarks, a quota as in the resource lesson. The pids
// limit is rt-lab's default.
const (
	benchRAMMiB     = 64
	benchCPUPercent = 50
)

// cliLifecycle runs the three commands a student types for one short-lived
// house: create it, run `true` in it (which starts it), and delete it. It
// returns the wall time of each command.
func cliLifecycle(c rtlabCLI, name string) (create, run, del result, err error) {
	defer func() {
		if err != nil {
			c.run("delete-container", name, "--force", "--yes")
		}
	}()
	create, err = c.run(c.createArgs(name)...)
	if err != nil {
		return
	}
	run, err = c.run("run-container", name, "--", "true")
	if err != nil {
		return
	}
	del, err = c.run("delete-container", name, "--force", "--yes")
	return
}

// createArgs returns the create-container command line of house name with
// the benchmark's limits.
func (c rtlabCLI) createArgs(name string) []string {
	args := []string{"create-container", name, "--ram", strconv.Itoa(benchRAMMiB), "--cpu", strconv.Itoa(benchCPUPercent)}
	return append(args, c.createFlags...)
}

// apiPhases are the wall times of one lifecycle through the Go API.
type apiPhases struct {
	create, start, exec, stop, delete time.Duration
}

func (p apiPhases) total() time.Duration { return p.create + p.start + p.exec + p.stop + p.delete }

// apiLifecycle creates, starts, enters with `true`, stops and deletes house
// name through the runtime's Go API, in this process. Stop is timed apart
// from Delete, which after it only removes files and the address.
func apiLifecycle(r *runtime.Runtime, name string) (p apiPhases, err error) {
	defer func() {
		if err != nil {
			r.Delete(name, true)
		}
	}()
	t := time.Now()
	if _, err = r.Create(runtime.CreateOptions{Name: name, MemoryBytes: benchRAMMiB * runtime.MiB,
		CPUPercent: benchCPUPercent}); err != nil {
		return p, err
	}
	p.create = time.Since(t)
	t = time.Now()
	if _, err = r.Start(name); err != nil {
		return p, err
	}
	p.start = time.Since(t)
	t = time.Now()
	if err = execTrue(r, name); err != nil {
		return p, err
	}
	p.exec = time.Since(t)
	t = time.Now()
	if err = r.Stop(name, runtime.DefaultStopTimeout); err != nil {
		return p, err
	}
	p.stop = time.Since(t)
	t = time.Now()
	err = r.Delete(name, false)
	p.delete = time.Since(t)
	return p, err
}

// execTrue runs `true` in running house name through the Go API.
func execTrue(r *runtime.Runtime, name string) error {
	code, err := r.Exec(name, runtime.Process{Args: []string{"true"}, Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("true in %s exited with status %d", name, code)
	}
	return nil
}

// runcNetwork gives runc containers the network an rt-lab house gets: an
// address on a bridge, a veth pair and a default route, made with rt-lab's
// own network package, as a CNI bridge plugin would do for runc. The bridge
// belongs to an rt-lab state folder with one stopped house, which keeps it up.
type runcNetwork struct {
	n   *network.Network
	seq int
}

func newRuncNetwork(root string) (*runcNetwork, error) {
	r, err := runtime.New(runtime.Options{Root: root})
	if err != nil {
		return nil, err
	}
	if _, err := r.Create(runtime.CreateOptions{Name: "jangkar"}); err != nil {
		return nil, err
	}
	n, err := r.Network()
	if err != nil {
		return nil, err
	}
	return &runcNetwork{n: n}, nil
}

// runTrue connects a new network namespace to the bridge, runs /bin/true
// with runc in it, and disconnects it again. The namespace is held by a
// sleeping process, as `ip netns add` holds one with a bind mount. The time
// covers all of it. The deferred steps only undo a failed run.
func (rn *runcNetwork) runTrue(rb *runcBench) (_ time.Duration, retErr error) {
	rn.seq++
	name := fmt.Sprintf("runc-%d", rn.seq)
	start := time.Now()
	if _, err := rn.n.Allocate(name); err != nil {
		return 0, err
	}
	holder := exec.Command("sleep", "infinity")
	holder.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	if err := holder.Start(); err != nil {
		rn.n.Release(name)
		return 0, err
	}
	defer func() {
		if retErr != nil {
			holder.Process.Kill()
			holder.Wait()
			rn.n.Detach(name)
			rn.n.Release(name)
		}
	}()
	if err := rn.n.AttachPID(name, holder.Process.Pid); err != nil {
		return 0, err
	}
	if _, err := rb.runTrue(fmt.Sprintf("/proc/%d/ns/net", holder.Process.Pid)); err != nil {
		return 0, err
	}
	if err := holder.Process.Kill(); err != nil {
		return 0, err
	}
	holder.Wait()
	if err := rn.n.Detach(name); err != nil {
		return 0, err
	}
	if err := rn.n.Release(name); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// lifecycleResult holds the samples of the lifecycle benchmark.
type lifecycleResult struct {
	runc, runcUserNS, runcNet    samples
	cli, cliAlone, baseline      samples
	cliNoUserNS                  samples // empty when rt-lab has no --userns flag
	cliCreate, cliRun, cliDelete samples
	api                          samples
	apiCreate, apiStart, apiExec samples
	apiStop, apiDelete           samples
	cliMaxRSS                    int64
}

// lifecycleVariants are the state folders and runners of one lifecycle
// benchmark.
type lifecycleVariants struct {
	cli, cliAlone, baseline rtlabCLI // baseline.bin is empty without -baseline
	cliNoUserNS             rtlabCLI // bin is empty when rt-lab has no --userns flag
	api                     *runtime.Runtime
	runc, runcUserNS        *runcBench
	runcNet                 *runcNetwork
}

// benchLifecycle measures the lifecycle of a short-lived house in every
// variant, one run of each in turn, so that a change of load on the machine
// hits all variants alike. The first round only warms up.
func benchLifecycle(ctx context.Context, e *env) (*lifecycleResult, error) {
	v, err := e.lifecycleVariants()
	if err != nil {
		return nil, err
	}
	res := &lifecycleResult{}
	for i := 0; i <= e.runs; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		progress("lifecycle round %d of %d", i, e.runs)
		round := &lifecycleResult{}
		if err := round.measure(v, fmt.Sprintf("rumah-%d", i)); err != nil {
			return nil, err
		}
		if i > 0 {
			res.add(round)
		}
	}
	return res, nil
}

func (e *env) lifecycleVariants() (*lifecycleVariants, error) {
	withNeighbour, err := e.rootWithNeighbour("lifecycle", e.bin)
	if err != nil {
		return nil, err
	}
	alone, err := newRoot(e.cl, e.tmp, "lifecycle-alone")
	if err != nil {
		return nil, err
	}
	api, err := e.apiRootWithNeighbour("lifecycle-api")
	if err != nil {
		return nil, err
	}
	netRoot, err := newRoot(e.cl, e.tmp, "runc-network")
	if err != nil {
		return nil, err
	}
	rn, err := newRuncNetwork(netRoot)
	if err != nil {
		return nil, fmt.Errorf("network for runc: %w", err)
	}
	v := &lifecycleVariants{
		cli:        rtlabCLI{bin: e.bin, root: withNeighbour},
		cliAlone:   rtlabCLI{bin: e.bin, root: alone},
		api:        api,
		runc:       e.runc,
		runcUserNS: e.runcUserNS,
		runcNet:    rn,
	}
	if e.userNSFlag {
		root, err := e.rootWithNeighbour("lifecycle-no-userns", e.bin)
		if err != nil {
			return nil, err
		}
		v.cliNoUserNS = rtlabCLI{bin: e.bin, root: root, createFlags: []string{"--userns=false"}}
	}
	if e.baseline != "" {
		root, err := e.rootWithNeighbour("lifecycle-baseline", e.baseline)
		if err != nil {
			return nil, err
		}
		v.baseline = rtlabCLI{bin: e.baseline, root: root}
	}
	return v, nil
}

// measure runs one lifecycle of every variant, with house name.
func (res *lifecycleResult) measure(v *lifecycleVariants, name string) error {
	d, err := v.runc.runTrue("")
	if err != nil {
		return err
	}
	res.runc = samples{d}
	if d, err = v.runcUserNS.runTrue(""); err != nil {
		return fmt.Errorf("runc with a user namespace: %w", err)
	}
	res.runcUserNS = samples{d}
	if d, err = v.runcNet.runTrue(v.runc); err != nil {
		return fmt.Errorf("runc with network: %w", err)
	}
	res.runcNet = samples{d}

	create, run, del, err := cliLifecycle(v.cli, name)
	if err != nil {
		return err
	}
	res.cli = samples{create.wall + run.wall + del.wall}
	res.cliCreate, res.cliRun, res.cliDelete = samples{create.wall}, samples{run.wall}, samples{del.wall}
	res.cliMaxRSS = max(create.maxRSS, run.maxRSS, del.maxRSS)
	if create, run, del, err = cliLifecycle(v.cliAlone, name); err != nil {
		return err
	}
	res.cliAlone = samples{create.wall + run.wall + del.wall}
	if v.cliNoUserNS.bin != "" {
		if create, run, del, err = cliLifecycle(v.cliNoUserNS, name); err != nil {
			return err
		}
		res.cliNoUserNS = samples{create.wall + run.wall + del.wall}
	}

	p, err := apiLifecycle(v.api, name)
	if err != nil {
		return err
	}
	res.api = samples{p.total()}
	res.apiCreate, res.apiStart, res.apiExec = samples{p.create}, samples{p.start}, samples{p.exec}
	res.apiStop, res.apiDelete = samples{p.stop}, samples{p.delete}

	if v.baseline.bin == "" {
		return nil
	}
	if create, run, del, err = cliLifecycle(v.baseline, name); err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	res.baseline = samples{create.wall + run.wall + del.wall}
	return nil
}

// add appends the samples of one round.
func (res *lifecycleResult) add(round *lifecycleResult) {
	res.runc = append(res.runc, round.runc...)
	res.runcUserNS = append(res.runcUserNS, round.runcUserNS...)
	res.cliNoUserNS = append(res.cliNoUserNS, round.cliNoUserNS...)
	res.runcNet = append(res.runcNet, round.runcNet...)
	res.cli = append(res.cli, round.cli...)
	res.cliAlone = append(res.cliAlone, round.cliAlone...)
	res.baseline = append(res.baseline, round.baseline...)
	res.cliCreate = append(res.cliCreate, round.cliCreate...)
	res.cliRun = append(res.cliRun, round.cliRun...)
	res.cliDelete = append(res.cliDelete, round.cliDelete...)
	res.api = append(res.api, round.api...)
	res.apiCreate = append(res.apiCreate, round.apiCreate...)
	res.apiStart = append(res.apiStart, round.apiStart...)
	res.apiExec = append(res.apiExec, round.apiExec...)
	res.apiStop = append(res.apiStop, round.apiStop...)
	res.apiDelete = append(res.apiDelete, round.apiDelete...)
	res.cliMaxRSS = max(res.cliMaxRSS, round.cliMaxRSS)
}

// enterResult holds the samples of the enter benchmark.
type enterResult struct {
	runcExec, runcExecUserNS samples
	cli, cliNoUserNS, api    samples
}

// enterTarget is one running container that the enter benchmark enters,
// timed by run.
type enterTarget struct {
	samples *samples
	run     func() (time.Duration, error)
}

// benchEnter measures running `true` in a house that already runs, against
// `runc exec` in a runc container with busybox init as PID 1, each with and
// without a user namespace.
func benchEnter(ctx context.Context, e *env) (*enterResult, error) {
	res := &enterResult{}
	targets, err := e.enterTargets(res)
	if err != nil {
		return nil, err
	}
	for i := 0; i <= e.runs; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		progress("enter round %d of %d", i, e.runs)
		for _, t := range targets {
			d, err := t.run()
			if err != nil {
				return nil, err
			}
			if i > 0 {
				*t.samples = append(*t.samples, d)
			}
		}
	}
	return res, nil
}

// enterTargets starts the runc containers and rt-lab houses of the enter
// benchmark. The runc containers are removed by the run's cleanup.
func (e *env) enterTargets(res *enterResult) ([]enterTarget, error) {
	var targets []enterTarget
	for _, rb := range []struct {
		bench   *runcBench
		samples *samples
	}{{e.runc, &res.runcExec}, {e.runcUserNS, &res.runcExecUserNS}} {
		id, err := rb.bench.startInit()
		if err != nil {
			return nil, err
		}
		targets = append(targets, enterTarget{rb.samples, func() (time.Duration, error) {
			return rb.bench.runc("exec", id, "/bin/true")
		}})
	}

	houses := []struct {
		root    string
		flags   []string
		samples *samples
	}{{"enter", nil, &res.cli}}
	if e.userNSFlag {
		houses = append(houses, struct {
			root    string
			flags   []string
			samples *samples
		}{"enter-no-userns", []string{"--userns=false"}, &res.cliNoUserNS})
	}
	const name = "rumah-masuk"
	for _, h := range houses {
		root, err := newRoot(e.cl, e.tmp, h.root)
		if err != nil {
			return nil, err
		}
		cli := rtlabCLI{bin: e.bin, root: root, createFlags: h.flags}
		if _, err := cli.run(cli.createArgs(name)...); err != nil {
			return nil, err
		}
		if _, err := cli.run("run-container", name, "--", "true"); err != nil {
			return nil, err
		}
		targets = append(targets, enterTarget{h.samples, func() (time.Duration, error) {
			r, err := cli.run("run-container", name, "--", "true")
			return r.wall, err
		}})
	}

	r, err := runtime.New(runtime.Options{Root: filepath.Join(e.tmp, "enter")})
	if err != nil {
		return nil, err
	}
	targets = append(targets, enterTarget{&res.api, func() (time.Duration, error) {
		t := time.Now()
		err := execTrue(r, name)
		return time.Since(t), err
	}})
	return targets, nil
}

// progress prints a status line on stderr.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
