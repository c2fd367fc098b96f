package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

const (
	// minMonitorInterval is the shortest --interval. Shorter samples measure
	// little more than the scheduler's own jitter.
	minMonitorInterval = 100 * time.Millisecond
	// firstSampleGap is the time between the first two readings. CPU use is a
	// rate, so a single reading of the cumulative counter cannot give it.
	firstSampleGap = 500 * time.Millisecond
)

// monitorOptions are the parsed flags of monitor-resources.
type monitorOptions struct {
	name     string
	watch    bool
	interval time.Duration
	json     bool
}

func (a *App) newMonitorCmd() *cobra.Command {
	opts := monitorOptions{}
	interval := time.Second.String()
	cmd := &cobra.Command{
		Use:   "monitor-resources NAME [--watch] [--interval 1s] [--json]",
		Short: a.P.T("MonitorShort", nil),
		Long:  a.P.Tf("MonitorLong", "Gap", a.formatSeconds(firstSampleGap), "Min", minMonitorInterval.String()),
		Example: "  rt-lab monitor-resources rumah-hemat\n" +
			"  rt-lab monitor-resources rumah-hemat --watch --interval 500ms\n" +
			"  rt-lab monitor-resources rumah-hemat --watch --json | head -n 5",
		Args:    a.exactlyOneName,
		PreRunE: a.needsRoot,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := parseInterval(interval)
			if err != nil {
				return err
			}
			opts.name, opts.interval = args[0], d
			return a.runMonitor(opts)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&opts.watch, "watch", "w", false, a.P.T("FlagMonitorWatch", nil))
	f.StringVar(&interval, "interval", interval, a.P.Tf("FlagMonitorInterval", "Min", minMonitorInterval.String()))
	f.BoolVar(&opts.json, "json", false, a.P.T("FlagMonitorJSON", nil))
	return cmd
}

// parseInterval accepts a Go duration such as 1s or 500ms, or whole seconds,
// of at least minMonitorInterval.
func parseInterval(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		n, nerr := strconv.ParseUint(s, 10, 32)
		if nerr != nil {
			return 0, usererr.New(usererr.Usage, "ErrMonitorInterval", "Value", s, "Min", minMonitorInterval.String())
		}
		d = time.Duration(n) * time.Second
	}
	if d < minMonitorInterval {
		return 0, usererr.New(usererr.Usage, "ErrMonitorInterval", "Value", s, "Min", minMonitorInterval.String())
	}
	return d, nil
}

func (a *App) runMonitor(opts monitorOptions) error {
	r, err := a.Runtime()
	if err != nil {
		return err
	}
	first, err := readContainer(r, opts.name)
	if err != nil {
		return err
	}

	loop := &monitorLoop{
		read:     func() (reading, error) { return readContainer(r, opts.name) },
		firstGap: min(firstSampleGap, opts.interval),
		interval: opts.interval,
		samples:  1,
		wait:     func(d time.Duration) bool { time.Sleep(d); return true },
	}
	if opts.watch && (opts.json || isTerminal(a.Stdout)) {
		// Ctrl-C ends a watch normally: the last sample stays on screen, the
		// cursor comes back and the exit status is 0.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		loop.samples = 0
		loop.wait = func(d time.Duration) bool { return sleepContext(ctx, d) }
	}

	switch {
	case opts.json && opts.watch:
		enc := json.NewEncoder(a.Stdout)
		loop.emit = func(cur reading, cpu cpuUse, known bool) error { return enc.Encode(newBillJSON(cur, cpu, known)) }
		return loop.run(first)
	case opts.json:
		enc := json.NewEncoder(a.Stdout)
		enc.SetIndent("", "  ")
		loop.emit = func(cur reading, cpu cpuUse, known bool) error { return enc.Encode(newBillJSON(cur, cpu, known)) }
		return a.runOnceWithHint(loop, first)
	case opts.watch && loop.samples == 0:
		return a.watchOnTerminal(loop, first, opts.interval)
	}
	if opts.watch {
		a.info(a.Stderr, "MonitorNoTerminal")
	}
	loop.emit = func(cur reading, cpu cpuUse, known bool) error {
		_, err := io.WriteString(a.Stdout, strings.Join(a.billLines(cur, cpu, known), "\n")+"\n")
		return err
	}
	return a.runOnceWithHint(loop, first)
}

// runOnceWithHint runs a one-sample loop, then prints a hint for that sample to
// stderr: how to start a stopped house, or which kernel file to read.
func (a *App) runOnceWithHint(loop *monitorLoop, first reading) error {
	last := first
	emit := loop.emit
	loop.emit = func(cur reading, cpu cpuUse, known bool) error {
		last = cur
		return emit(cur, cpu, known)
	}
	if err := loop.run(first); err != nil {
		return err
	}
	if hint := a.billHint(last); hint != "" {
		io.WriteString(a.Stderr, hint+"\n")
	}
	return nil
}

// watchOnTerminal redraws the bill in place on the terminal every interval
// until Ctrl-C. The caller has checked that stdout is a terminal.
func (a *App) watchOnTerminal(loop *monitorLoop, first reading, interval time.Duration) error {
	out := a.Stdout.(*os.File)
	scr := &frameWriter{out: out, width: func() int {
		width, _, err := term.GetSize(int(out.Fd()))
		if err != nil || width <= 0 {
			return 80
		}
		return width
	}}
	var last []string
	footer := func(id string, cur reading) string {
		return a.P.Tf(id, "Interval", interval.String(), "Time", cur.At.Format(time.TimeOnly))
	}
	loop.emit = func(cur reading, cpu cpuUse, known bool) error {
		lines := a.billLines(cur, cpu, known)
		// The hint with a kernel file is left out: the folders are in the
		// bill, and the long path would not fit a narrow terminal.
		if !cur.running() {
			lines = append(lines, a.billHint(cur))
		}
		last = append(slices.Clip(lines), footer("MonitorFooterStopped", cur))
		return scr.draw(append(lines, footer("MonitorFooter", cur)))
	}

	io.WriteString(out, seqCursorHide)
	err := loop.run(first)
	// Ctrl-C ended the watch: the footer stops promising updates, which also
	// overwrites the ^C that the terminal echoed below the frame.
	if err == nil && last != nil {
		scr.draw(last)
	}
	io.WriteString(out, "\r"+seqEraseLine+seqCursorShow)
	return err
}

// sleepContext waits for d and reports true, or reports false as soon as ctx
// ends.
func sleepContext(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// monitorLoop takes readings of one container and hands each sample to emit,
// with the CPU use since the reading before it.
type monitorLoop struct {
	read     func() (reading, error)
	emit     func(cur reading, cpu cpuUse, cpuKnown bool) error
	wait     func(time.Duration) bool // false: the user stopped the watch
	firstGap time.Duration            // between the first two readings
	interval time.Duration            // between later readings
	samples  int                      // samples to emit; 0: until wait returns false
}

// run emits samples, starting from the reading first. A running container is
// read a second time after firstGap, so even the first sample has a CPU use.
// A stopped one is emitted at once, because it has no counters to wait for.
func (l *monitorLoop) run(first reading) error {
	prev, cur := first, first
	if first.running() {
		if !l.wait(l.firstGap) {
			return nil
		}
		var err error
		if cur, err = l.read(); err != nil {
			return err
		}
	}
	for n := 1; ; n++ {
		cpu, known := cpuBetween(prev, cur)
		if err := l.emit(cur, cpu, known); err != nil {
			return err
		}
		if n == l.samples || !l.wait(l.interval) {
			return nil
		}
		prev = cur
		var err error
		if cur, err = l.read(); err != nil {
			return err
		}
	}
}

// Terminal control sequences (ECMA-48, and DEC private modes for the cursor)
// that redraw a frame in place.
const (
	seqCursorHide = "\x1b[?25l"
	seqCursorShow = "\x1b[?25h"
	seqEraseLine  = "\x1b[K" // erase from the cursor to the end of the line
	seqEraseBelow = "\x1b[J" // erase from the cursor to the end of the screen
)

// frameWriter redraws a block of lines in place: it moves the cursor up over
// the previous frame and overwrites it. Lines are cut to the terminal width, so
// that none wraps and the count of lines to move up stays right.
type frameWriter struct {
	out   io.Writer
	width func() int
	lines int // lines of the previous frame
}

func (f *frameWriter) draw(lines []string) error {
	var b strings.Builder
	if f.lines > 0 {
		fmt.Fprintf(&b, "\r\x1b[%dA", f.lines)
	}
	width := f.width()
	for _, line := range lines {
		b.WriteString(cutToWidth(line, width-1))
		b.WriteString(seqEraseLine + "\n")
	}
	b.WriteString(seqEraseBelow)
	f.lines = len(lines)
	_, err := io.WriteString(f.out, b.String())
	return err
}

// cutToWidth returns line cut to at most width characters.
func cutToWidth(line string, width int) string {
	if width < 1 || utf8.RuneCountInString(line) <= width {
		return line
	}
	return string([]rune(line)[:width])
}
