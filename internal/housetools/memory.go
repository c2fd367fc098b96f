package housetools

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

const (
	// memoryStep is how much eat-memory maps and touches between two progress
	// lines. The last line before an OOM kill is at most this far behind.
	memoryStep = 16 * mib
	// defaultHold is how long eat-memory keeps its memory when --hold is not
	// given: long enough to read the usage from the host.
	defaultHold = 5 * time.Second
)

func eatMemory(e *env, args []string) (int, error) {
	positional, values, err := parseArgs(args, []option{{names: []string{"--hold"}, value: true}})
	if err != nil {
		return 0, err
	}
	if len(positional) != 1 {
		return 0, usererr.New(usererr.Usage, "ErrEatMemoryArgs", "Count", len(positional))
	}
	hostMemory, err := hostMemoryBytes()
	if err != nil {
		return 0, err
	}
	size, err := parseSize(positional[0], hostMemory)
	if err != nil {
		return 0, err
	}
	hold := defaultHold
	if v, ok := lastValue(values, "--hold"); ok {
		if hold, err = parseDuration(v, "--hold", true); err != nil {
			return 0, err
		}
	}

	preferOOMKill()
	fmt.Fprintln(e.stdout, e.p.Tf("EatMemoryStart", "Total", formatMiB(size), "PID", os.Getpid()))
	if err := allocate(e, size); err != nil {
		return 0, err
	}
	if hold > 0 {
		fmt.Fprintln(e.stdout, e.p.Tf("EatMemoryHold", "Total", formatMiB(size), "Hold", hold.String()))
		time.Sleep(hold)
	}
	fmt.Fprintln(e.stdout, e.p.Tf("EatMemoryDone", "Total", formatMiB(size)))
	return 0, nil
}

// allocate maps size bytes of anonymous memory in steps of memoryStep and writes
// to every page, because the kernel charges a page to the memory cgroup only
// when it is first touched. The memory comes from mmap(2), not the Go heap, so
// the garbage collector neither frees it nor counts it. It stays mapped until the
// process exits.
func allocate(e *env, size int64) error {
	page := int64(os.Getpagesize())
	var done int64
	for done < size {
		n := min(memoryStep, size-done)
		mem, err := unix.Mmap(-1, 0, int(n), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			return usererr.Wrap(os.NewSyscallError("mmap", err), usererr.Failed, "ErrEatMemoryMmap",
				"Done", formatMiB(done), "Total", formatMiB(size))
		}
		for off := int64(0); off < n; off += page {
			mem[off] = 1
		}
		done += n
		fmt.Fprintln(e.stdout, e.p.Tf("EatMemoryProgress", "Done", formatMiB(done), "Total", formatMiB(size)))
	}
	return nil
}

// preferOOMKill raises this process's oom_score_adj to the maximum, so when its
// memory cgroup or the whole machine runs out of memory, the kernel's OOM killer
// picks it before the container's init or shell (proc(5)). Raising the value
// needs no privilege. An error is ignored: the tool still works, only the choice
// of victim is left to the kernel.
func preferOOMKill() {
	os.WriteFile("/proc/self/oom_score_adj", []byte("1000\n"), 0)
}

// hostMemoryBytes returns the machine's RAM from sysinfo(2). Inside a container
// this is the host's memory, not the container's limit.
func hostMemoryBytes() (int64, error) {
	var info unix.Sysinfo_t
	if err := unix.Sysinfo(&info); err != nil {
		return 0, os.NewSyscallError("sysinfo", err)
	}
	return int64(info.Totalram) * int64(info.Unit), nil
}

// formatMiB prints bytes in MiB: whole MiB as an integer, other sizes with one
// decimal, or three significant digits below 1 MiB ("0.5", "0.00977").
func formatMiB(bytes int64) string {
	switch {
	case bytes%mib == 0:
		return fmt.Sprint(bytes / mib)
	case bytes < mib:
		return fmt.Sprintf("%.3g", float64(bytes)/mib)
	}
	return fmt.Sprintf("%.1f", float64(bytes)/mib)
}
