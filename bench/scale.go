package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rt-lab/rt-lab/runtime"
)

// scaleResult holds one bring-up of n houses on one bridge.
type scaleResult struct {
	n int
	// Per house, in creation order. start is `run-container NAME -- true` of
	// a stopped house, which starts it and runs true.
	create, start, ping, delete samples
	reachable                   int // houses whose ping to the next house was answered
	upWall                      time.Duration

	// Memory per running house, in bytes: the mean of the sum of PSS of the
	// house's processes, and of its cgroup's memory usage.
	pss, cgroupUsage float64
	// Host view per house, in bytes: the drop of MemAvailable, and the growth
	// of unreclaimable kernel memory (SUnreclaim and Percpu) while the houses
	// run (see hostMemory), plus the page tables of the house's processes.
	// Other processes on the machine change the first two, so they are rough.
	memAvailable, kernel float64
	pageTables           float64
	// Disk per house in bytes: the median allocated size of the house
	// folder, without the shared base, and the base's own size.
	disk, base float64
	cliMaxRSS  int64
}

// kernelFields are the /proc/meminfo fields that grow with namespaces,
// mounts, veth pairs and cgroups, which no process's PSS includes. The
// reclaimable slab (dentry and inode caches) is left out, because the kernel
// frees it under memory pressure as it frees page cache. KernelStack and
// PageTables are left out too, because other processes on the machine
// change them far more than the houses do, and the houses' own page tables
// are read from /proc/PID/status instead.
var kernelFields = []string{"SUnreclaim", "Percpu"}

// benchScale brings up n houses on one bridge with the CLI, pings the next
// house from each, measures memory and disk, and deletes them again.
func benchScale(ctx context.Context, e *env, n int) (*scaleResult, error) {
	root, err := newRoot(e.cl, e.tmp, "scale-"+strconv.Itoa(n))
	if err != nil {
		return nil, err
	}
	cli := rtlabCLI{bin: e.bin, root: root}
	// The first create builds the shared base, which is not a house's cost.
	if _, _, _, err := cliLifecycle(cli, "pemanasan"); err != nil {
		return nil, err
	}
	r, err := runtime.New(runtime.Options{Root: root})
	if err != nil {
		return nil, err
	}

	res := &scaleResult{n: n}
	names := make([]string, n)
	before := meminfo()
	upStart := time.Now()
	for i := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		names[i] = fmt.Sprintf("rumah-%03d", i)
		if i%25 == 0 {
			progress("scale %d: house %d", n, i)
		}
		c, err := cli.run("create-container", names[i])
		if err != nil {
			return nil, err
		}
		s, err := cli.run("run-container", names[i], "--", "true")
		if err != nil {
			return nil, err
		}
		res.create = append(res.create, c.wall)
		res.start = append(res.start, s.wall)
		res.cliMaxRSS = max(res.cliMaxRSS, c.maxRSS, s.maxRSS)
	}
	res.upWall = time.Since(upStart)
	// Let the last inits settle and freed bootstrap memory return.
	time.Sleep(time.Second)
	up := meminfo()

	if err := res.measureHouses(r, names); err != nil {
		return nil, err
	}
	if err := res.pingNeighbours(ctx, cli, r, names); err != nil {
		return nil, err
	}
	for i, name := range names {
		if i%25 == 0 {
			progress("scale %d: delete house %d", n, i)
		}
		d, err := cli.run("delete-container", name, "--force", "--yes")
		if err != nil {
			return nil, err
		}
		res.delete = append(res.delete, d.wall)
	}
	time.Sleep(time.Second)
	res.hostMemory(before, up, meminfo())
	return res, nil
}

// hostMemory computes the host's memory per house from /proc/meminfo read
// before the first create, with every house up, and after the last delete.
// The baseline is the mean of the readings before and after, which cancels
// a steady drift caused by other work on the machine.
func (res *scaleResult) hostMemory(before, up, after map[string]int64) {
	n := float64(res.n)
	base := func(field string) float64 { return float64(before[field]+after[field]) / 2 }
	res.memAvailable = (base("MemAvailable") - float64(up["MemAvailable"])) * 1024 / n
	res.kernel = res.pageTables
	for _, f := range kernelFields {
		res.kernel += (float64(up[f]) - base(f)) * 1024 / n
	}
}

// measureHouses reads the memory of every running house from /proc and its
// cgroup, and the disk use of its folder.
func (res *scaleResult) measureHouses(r *runtime.Runtime, names []string) error {
	var pss, pte, usage int64
	var disks []int64
	for _, name := range names {
		cg, err := r.Cgroup(name)
		if err != nil {
			return err
		}
		pids, err := cg.Procs()
		if err != nil {
			return err
		}
		for _, pid := range pids {
			p, err := pssOf(pid)
			if err != nil {
				return err
			}
			pss += p
			pte += pageTablesOf(pid)
		}
		st, err := cg.Stats()
		if err != nil {
			return err
		}
		usage += st.MemoryUsage
		d, err := diskUsage(r.ContainerDir(name))
		if err != nil {
			return err
		}
		disks = append(disks, d)
	}
	res.pss = float64(pss) / float64(len(names))
	res.pageTables = float64(pte) / float64(len(names))
	res.cgroupUsage = float64(usage) / float64(len(names))
	res.disk = float64(median(disks))
	c, err := r.Get(names[0])
	if err != nil {
		return err
	}
	base, err := diskUsage(r.BaseDir(c.Base))
	res.base = float64(base)
	return err
}

// pingNeighbours sends one ping from every house to the next one, the last
// house pinging the first.
func (res *scaleResult) pingNeighbours(ctx context.Context, cli rtlabCLI, r *runtime.Runtime, names []string) error {
	if len(names) < 2 {
		return nil
	}
	for i, name := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		next, err := r.Get(names[(i+1)%len(names)])
		if err != nil {
			return err
		}
		d, code, err := cli.runStatus("run-container", name, "--", "ping", "-c", "1", "-W", "2", next.Address.String())
		if err != nil {
			return err
		}
		res.ping = append(res.ping, d)
		if code == 0 {
			res.reachable++
		}
	}
	return nil
}

// pssOf returns the proportional set size of process pid in bytes, from
// /proc/PID/smaps_rollup. A process that exited meanwhile counts 0.
func pssOf(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if os.IsNotExist(err) || err == syscall.ESRCH {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "Pss:"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no Pss line in /proc/%d/smaps_rollup", pid)
}

// pageTablesOf returns the size of process pid's page tables in bytes, the
// VmPTE line of /proc/PID/status, or 0 when the process is gone.
func pageTablesOf(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmPTE:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// diskUsage returns the space allocated to the files under dir, as du(1)
// counts it: 512-byte blocks, each inode once.
func diskUsage(dir string) (int64, error) {
	seen := map[uint64]bool{}
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || seen[st.Ino] {
			return nil
		}
		seen[st.Ino] = true
		total += st.Blocks * 512
		return nil
	})
	return total, err
}
