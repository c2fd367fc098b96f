package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/fsutil"
	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/runtime"
)

// block is one building block of the lifecycle, timed on its own, so that
// the page can say what part of a lifecycle each one explains.
type block struct {
	name    string
	samples samples
	note    string
}

// benchBlocks times the steps that a lifecycle repeats, one at a time.
func benchBlocks(ctx context.Context, e *env) ([]block, error) {
	busybox, err := runtime.FindBusybox("")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(e.tmp, "blocks-")
	if err != nil {
		return nil, err
	}
	netRoot, err := newRoot(e.cl, e.tmp, "blocks-network")
	if err != nil {
		return nil, err
	}
	rn, err := newRuncNetwork(netRoot)
	if err != nil {
		return nil, err
	}
	holder := exec.Command("sleep", "infinity")
	holder.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	if err := holder.Start(); err != nil {
		return nil, err
	}
	defer func() {
		holder.Process.Kill()
		holder.Wait()
	}()
	if _, err := rn.n.Allocate("blok"); err != nil {
		return nil, err
	}
	group := "rt-lab-bench-blocks-" + filepath.Base(dir)
	e.cl.push("remove cgroup "+group, func() error {
		for _, d := range cgroupDirs(group) {
			if err := removeCgroupTree(d); err != nil {
				return err
			}
		}
		return nil
	})
	limits := cgroups.Limits{MemoryBytes: benchRAMMiB * runtime.MiB, CPUPercent: benchCPUPercent, Pids: runtime.DefaultPids}
	pids, _ := procfs.PIDs()

	steps := []struct {
		name, note string
		run        func(i int) error
	}{
		{"rt-lab --version (start of one rt-lab command)",
			"every CLI command pays this once: Go start-up and the command tree", func(int) error {
				_, err := rtlabCLI{bin: e.bin, root: dir}.run("--version")
				return err
			}},
		{"busybox true (fork and exec of a static binary)", "", func(int) error {
			return exec.Command(busybox, "true").Run()
		}},
		{"atomic write of a 1 KiB state file with 2 fsyncs", "create's state.json and the network files; start and stop fsync the file only",
			func(i int) error {
				return fsutil.WriteFileAtomic(filepath.Join(dir, "state.json"), make([]byte, 1024), 0o644)
			}},
		{"the same write without fsync", "the phone book", func(i int) error {
			tmp := filepath.Join(dir, "state.json.tmp")
			if err := os.WriteFile(tmp, make([]byte, 1024), 0o644); err != nil {
				return err
			}
			return os.Rename(tmp, filepath.Join(dir, "state.json"))
		}},
		{"read and SHA-256 of busybox", "the base id, computed when busybox-digest.json does not match the binary", func(int) error {
			data, err := os.ReadFile(busybox)
			sha256.Sum256(data)
			return err
		}},
		{"cgroup create with limits and remove", "v1: memory, cpu, pids folders", func(i int) error {
			m, err := cgroups.New(cgroups.Config{Parent: group, Name: fmt.Sprintf("g%d", i)})
			if err != nil {
				return err
			}
			if err := m.Create(limits); err != nil {
				return err
			}
			return m.Destroy()
		}},
		{fmt.Sprintf("scan of /proc: NSpid of all %d processes", len(pids)),
			"recover-state and delete of an unreadable house; start and stop read the house's cgroup instead", func(int) error {
				all, err := procfs.PIDs()
				for _, p := range all {
					procfs.NSpid(p)
				}
				return err
			}},
	}
	var out []block
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		progress("blocks: %s", s.name)
		b := block{name: s.name, note: s.note}
		for i := 0; i <= e.runs; i++ {
			t := time.Now()
			if err := s.run(i); err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
			if i > 0 {
				b.samples = append(b.samples, time.Since(t))
			}
		}
		out = append(out, b)
	}
	attach := block{name: "veth pair: attach to the bridge (address, lo, route)", note: "network.AttachPID, at every start"}
	detach := block{name: "veth pair: detach (delete the host end)", note: "network.Detach, at every stop"}
	progress("blocks: veth attach and detach")
	for i := 0; i <= e.runs; i++ {
		t := time.Now()
		if err := rn.n.AttachPID("blok", holder.Process.Pid); err != nil {
			return nil, err
		}
		d := time.Since(t)
		t = time.Now()
		if err := rn.n.Detach("blok"); err != nil {
			return nil, err
		}
		if i > 0 {
			attach.samples = append(attach.samples, d)
			detach.samples = append(detach.samples, time.Since(t))
		}
	}
	out = append(out, attach, detach)
	return out, rn.n.Release("blok")
}

// blockNote joins a block's note for the table.
func blockNote(b block) string {
	return strings.ReplaceAll(b.note, "|", "/")
}
