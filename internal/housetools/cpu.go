package housetools

import (
	"fmt"
	"os"
	"os/signal"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// defaultBurn is how long burn-cpu runs without a SECONDS argument.
const defaultBurn = 10 * time.Second

func burnCPU(e *env, args []string) (int, error) {
	positional, values, err := parseArgs(args, []option{{names: []string{"--workers", "-w"}, value: true}})
	if err != nil {
		return 0, err
	}
	if len(positional) > 1 {
		return 0, usererr.New(usererr.Usage, "ErrBurnCPUArgs", "Count", len(positional))
	}
	duration := defaultBurn
	if len(positional) == 1 {
		if duration, err = parseDuration(positional[0], e.p.T("BurnCPUSecondsArg", nil), false); err != nil {
			return 0, err
		}
	}
	workers := 1
	if v, ok := lastValue(values, "--workers"); ok {
		if workers, err = parseWorkers(v); err != nil {
			return 0, err
		}
	}

	fmt.Fprintln(e.stdout, e.p.Tf("BurnCPUStart", "Workers", workers, "Duration", duration.String(), "PID", os.Getpid()))
	wall, used, caught, err := spinFor(duration, workers)
	if err != nil {
		return 0, err
	}
	if caught != 0 {
		fmt.Fprintln(e.stdout, e.p.Tf("BurnCPUInterrupted", "Signal", caught.String()))
	}
	percent := 0.0
	if wall > 0 {
		percent = 100 * used.Seconds() / wall.Seconds()
	}
	fmt.Fprintln(e.stdout, e.p.Tf("BurnCPUSummary", "Workers", workers,
		"Wall", wall.Round(10*time.Millisecond).String(), "CPU", used.Round(10*time.Millisecond).String(),
		"Percent", fmt.Sprintf("%.0f", percent)))
	if caught != 0 {
		return 128 + int(caught), nil
	}
	return 0, nil
}

// spinFor keeps workers threads busy until duration has passed or SIGINT or
// SIGTERM arrives, and returns the wall-clock time, the CPU time the process got
// meanwhile, and the signal if one ended the run. A CPU quota shows as CPU time
// below workers x wall time.
func spinFor(duration time.Duration, workers int) (wall, used time.Duration, caught syscall.Signal, err error) {
	// One spare P keeps the timer and signal handling running beside the workers.
	if goruntime.GOMAXPROCS(0) < workers+1 {
		goruntime.GOMAXPROCS(workers + 1)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	before, err := processCPUTime()
	if err != nil {
		return 0, 0, 0, err
	}
	start := time.Now()
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for !stop.Load() {
			}
		})
	}
	timer := time.NewTimer(duration)
	defer timer.Stop()
	select {
	case <-timer.C:
	case s := <-sigs:
		caught = s.(syscall.Signal)
	}
	stop.Store(true)
	wg.Wait()
	wall = time.Since(start)

	after, err := processCPUTime()
	if err != nil {
		return 0, 0, 0, err
	}
	return wall, after - before, caught, nil
}

// processCPUTime returns the user plus system CPU time of this process so far
// (getrusage(2)).
func processCPUTime() (time.Duration, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0, os.NewSyscallError("getrusage", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
