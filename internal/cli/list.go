package cli

import (
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rt-lab/rt-lab/runtime"
)

// containerJSON is one entry of `list-containers --json`; its keys are stable.
type containerJSON struct {
	Name        string    `json:"name"`
	State       string    `json:"state"`
	PID         int       `json:"pid"`
	Hostname    string    `json:"hostname"`
	MemoryBytes int64     `json:"memory_bytes"`
	CPUPercent  int       `json:"cpu_percent"`
	Address     string    `json:"address"`
	Created     time.Time `json:"created"`
}

func (a *App) newListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list-containers [--json]",
		Aliases: []string{"ls"},
		Short:   a.P.T("ListShort", nil),
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
	if asJSON {
		out := make([]containerJSON, 0, len(cs))
		for _, c := range cs {
			out = append(out, containerJSON{Name: c.Name, State: string(c.Status), PID: runningPID(c),
				Hostname: c.Hostname, MemoryBytes: c.MemoryBytes, CPUPercent: c.CPUPercent, Created: c.Created})
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
	running := 0
	for _, c := range cs {
		pid := "-"
		if c.Status == runtime.StatusRunning {
			pid = strconv.Itoa(c.PID)
			running++
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, a.P.T("State_"+string(c.Status), nil), pid,
			c.Hostname, a.formatMemory(c.MemoryBytes), a.formatCPU(c.CPUPercent), "-")
	}
	if err := w.Flush(); err != nil {
		return err
	}
	a.info(a.Stderr, "ListSummary", "Total", len(cs), "Running", running, "Stopped", len(cs)-running)
	return nil
}

func runningPID(c *runtime.Container) int {
	if c.Status == runtime.StatusRunning {
		return c.PID
	}
	return 0
}
