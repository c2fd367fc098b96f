package runtime

import (
	"errors"
	"strings"

	"github.com/rt-lab/rt-lab/internal/units"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// Memory limits and CPU shares accepted at create time.
const (
	MiB = units.MiB
	// MinMemory is the smallest memory limit: below about 6 MiB busybox init and a
	// shell are killed by the OOM killer before the student can type.
	MinMemory = 6 * MiB
	// MaxCPUPercentPerCPU is the CPU share of one whole CPU. The maximum of --cpu
	// is this times the number of online CPUs.
	MaxCPUPercentPerCPU = 100
)

// ParseRAM parses --ram: a whole number of MiB in decimal, leading zeros allowed
// ("0512" is 512). Units, signs, fractions and exponents are rejected.
func ParseRAM(s string, hostMemory int64) (int64, error) {
	n, ok := units.ParseDecimal(s)
	if !ok {
		return 0, usererr.New(usererr.Usage, "ErrRAMInvalid", "Value", s)
	}
	if n == 0 {
		return 0, usererr.New(usererr.Usage, "ErrMemoryZero", "Value", s)
	}
	if n > hostMemory/MiB {
		return 0, usererr.New(usererr.Usage, "ErrMemoryTooLarge", "Value", s, "HostMiB", hostMemory/MiB)
	}
	return checkMemory(s, n*MiB, hostMemory)
}

// ParseMemory parses --memory: a whole number with an optional binary suffix,
// such as 512M, 512MiB or 1g (see units.ParseSize). No suffix means bytes.
func ParseMemory(s string, hostMemory int64) (int64, error) {
	bytes, err := units.ParseSize(s, 1, hostMemory)
	switch {
	case errors.Is(err, units.ErrSizeZero):
		return 0, usererr.New(usererr.Usage, "ErrMemoryZero", "Value", s)
	case errors.Is(err, units.ErrSizeTooLarge):
		return 0, usererr.New(usererr.Usage, "ErrMemoryTooLarge", "Value", s, "HostMiB", hostMemory/MiB)
	case err != nil:
		return 0, usererr.New(usererr.Usage, "ErrMemoryInvalid", "Value", s)
	}
	return checkMemory(s, bytes, hostMemory)
}

func checkMemory(s string, bytes, hostMemory int64) (int64, error) {
	if bytes < MinMemory {
		return 0, usererr.New(usererr.Usage, "ErrMemoryTooSmall", "Value", s, "MinMiB", MinMemory/MiB)
	}
	if bytes > hostMemory {
		return 0, usererr.New(usererr.Usage, "ErrMemoryTooLarge", "Value", s, "HostMiB", hostMemory/MiB)
	}
	return bytes, nil
}

// ParseCPU parses --cpu: a whole percentage of one CPU from 1 to
// MaxCPUPercentPerCPU x cpus (200 on a 2-CPU machine).
func ParseCPU(s string, cpus int) (int, error) {
	max := MaxCPUPercentPerCPU * cpus
	n, ok := units.ParseDecimal(strings.TrimSuffix(s, "%"))
	if !ok {
		return 0, usererr.New(usererr.Usage, "ErrCPUInvalid", "Value", s, "Max", max)
	}
	if n < 1 || n > int64(max) {
		return 0, usererr.New(usererr.Usage, "ErrCPURange", "Value", s, "Max", max, "CPUs", cpus)
	}
	return int(n), nil
}

// Process limits accepted for --pids. The limit counts threads as well as
// processes (pids.max in cgroups(7)).
const (
	// DefaultPids is the limit of a house created without --pids: room for a
	// lesson's shells and tools, while a fork bomb stops there instead of
	// filling the host's process table.
	DefaultPids = 512
	// MinPids leaves room for the bootstrap's Go runtime threads, busybox init,
	// a shell and a short pipeline.
	MinPids = 16
	// MaxPids is PID_MAX_LIMIT on 64-bit Linux, the largest pid_max.
	MaxPids = 4194304
)

// ParsePids parses --pids: a whole number from MinPids to MaxPids in decimal.
func ParsePids(s string) (int64, error) {
	n, ok := units.ParseDecimal(s)
	if !ok {
		return 0, usererr.New(usererr.Usage, "ErrPidsInvalid", "Value", s, "Min", MinPids, "Max", MaxPids)
	}
	if n < MinPids || n > MaxPids {
		return 0, usererr.New(usererr.Usage, "ErrPidsRange", "Value", s, "Min", MinPids, "Max", MaxPids)
	}
	return n, nil
}
