package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/runtime"
)

// containerJSON is one entry of `list-containers --json`; its keys are stable.
// MemoryBytes and CPUPercent are the recorded limits. The usage fields are read
// from the container's cgroup and are null while it is stopped.
type containerJSON struct {
	Name        string    `json:"name"`
	State       string    `json:"state"`
	PID         int       `json:"pid"`
	Hostname    string    `json:"hostname"`
	MemoryBytes int64     `json:"memory_bytes"`
	CPUPercent  int       `json:"cpu_percent"`
	Address     string    `json:"address"` // empty for a house without one
	Created     time.Time `json:"created"`
	Error       string    `json:"error,omitempty"` // the reason a broken house's state file cannot be read

	MemoryUsedBytes  *int64 `json:"memory_used_bytes"`
	MemoryLimitBytes *int64 `json:"memory_limit_bytes"` // 0: no limit
	CPUUsageNS       *int64 `json:"cpu_usage_ns"`       // since the container started
	PidsCurrent      *int64 `json:"pids_current"`
}

func (a *App) newListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list-containers [--json]",
		Aliases: []string{"ls"},
		Short:   a.P.T("ListShort", nil),
		Long:    a.P.T("ListLong", nil),
		Args:    cobra.NoArgs,
		PreRunE: a.needsRoot,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runList(asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, a.P.T("FlagJSON", nil))
	return cmd
}

func (a *App) runList(asJSON bool) error {
	r, err := a.Runtime()
	if err != nil {
		return err
	}
	cs, err := r.List()
	if err != nil {
		return err
	}
	usage := make([]reading, len(cs))
	for i, c := range cs {
		usage[i] = a.readUsage(r, c)
	}

	if asJSON {
		out := make([]containerJSON, 0, len(cs))
		for i, c := range cs {
			entry := containerJSON{Name: c.Name, State: string(c.Status), PID: runningPID(c),
				Hostname: c.Hostname, MemoryBytes: c.MemoryBytes, CPUPercent: c.CPUPercent, Created: c.Created}
			if c.Address.IsValid() {
				entry.Address = c.Address.String()
			}
			if c.Err != nil {
				entry.Error = a.renderErr(c.Err)
			}
			if s := usage[i].Stats; s != nil {
				entry.MemoryUsedBytes, entry.MemoryLimitBytes = new(s.MemoryUsage), new(s.MemoryLimit)
				entry.CPUUsageNS, entry.PidsCurrent = new(s.CPUUsage.Nanoseconds()), new(s.PidsCurrent)
			}
			out = append(out, entry)
		}
		enc := json.NewEncoder(a.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(cs) == 0 {
		a.info(a.Stderr, "ListEmpty")
		return nil
	}

	w := tabwriter.NewWriter(a.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, a.P.T("ListHeader", nil))
	running, stopped := 0, 0
	var broken []*runtime.Container
	for i, c := range cs {
		if c.Status == runtime.StatusBroken {
			broken = append(broken, c)
			fmt.Fprintf(w, "%s\t%s\t-\t-\t-\t-\t-\n", c.Name, a.P.T("State_broken", nil))
			continue
		}
		pid := "-"
		if c.Status == runtime.StatusRunning {
			pid = strconv.Itoa(c.PID)
			running++
		} else {
			stopped++
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, a.P.T("State_"+string(c.Status), nil), pid,
			c.Hostname, a.listMemory(c, usage[i]), a.listCPU(c, usage[i]), formatAddress(c))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	a.info(a.Stderr, "ListSummary", "Total", len(cs), "Running", running, "Stopped", stopped)
	// A broken house has a row but no fields, so the reason goes below.
	for _, c := range broken {
		cause := c.Err
		if usererr.Is(cause, "ErrContainerBroken") && errors.Unwrap(cause) != nil {
			cause = errors.Unwrap(cause) // ListBroken already states that the house is broken
		}
		a.info(a.Stderr, "ListBroken", "Name", c.Name, "Error", a.renderErr(cause))
		_, command := a.suggestedCommand()
		a.info(a.Stderr, "FixPrefix", "Message", a.P.Tf("FixContainerBroken", "Command", command, "Name", c.Name))
	}
	return nil
}

// formatAddress returns c's IPv4 address, or "-" for a house without one.
func formatAddress(c *runtime.Container) string {
	if !c.Address.IsValid() {
		return "-"
	}
	return c.Address.String()
}

// readUsage takes one reading of running container c's cgroup. The list goes
// on without usage when the reading fails, and --debug logs why.
func (a *App) readUsage(r *runtime.Runtime, c *runtime.Container) reading {
	usage := reading{Name: c.Name, State: c.Status}
	if c.Status != runtime.StatusRunning {
		return usage
	}
	m, err := r.Cgroup(c.Name)
	if err == nil {
		var st cgroups.Stats
		if st, err = m.Stats(); err == nil {
			usage.At, usage.PID, usage.Started, usage.Stats = time.Now(), c.PID, c.Started, &st
			return usage
		}
	}
	slog.Debug("list-containers: read cgroup counters", "container", c.Name, "err", err)
	return usage
}

// listMemory renders the MEMORY column: memory in use / the limit. The limit
// comes from the kernel while the container runs and from its record while
// it is stopped.
func (a *App) listMemory(c *runtime.Container, usage reading) string {
	if !usage.running() {
		return "- / " + a.limitBytes(c.MemoryBytes)
	}
	return a.formatBytes(usage.Stats.MemoryUsage) + " / " + a.limitBytes(usage.Stats.MemoryLimit)
}

// listCPU renders the CPU column: the average use of one CPU since the
// container started / the limit.
func (a *App) listCPU(c *runtime.Container, usage reading) string {
	limit := float64(c.CPUPercent)
	if usage.running() {
		limit = cpuLimitPercent(usage.Stats)
	}
	used := "-"
	if cpu, ok := cpuSinceStart(usage); ok {
		used = a.formatPercent(cpu.Percent, 1)
	}
	if limit <= 0 {
		return used + " / " + a.P.T("NoLimit", nil)
	}
	return used + " / " + a.formatPercent(limit, 0)
}

func runningPID(c *runtime.Container) int {
	if c.Status == runtime.StatusRunning {
		return c.PID
	}
	return 0
}
