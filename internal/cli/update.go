package cli

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/runtime"
)

// limitFlags are the raw values of the limit flags shared by create-container
// and update-container.
type limitFlags struct {
	ram, memory, cpu, pids string
}

// limitValues are parsed limit flags; a nil field was not given.
type limitValues struct {
	memory *int64
	cpu    *int
	pids   *int64
}

func (l *limitValues) empty() bool { return l.memory == nil && l.cpu == nil && l.pids == nil }

// addLimitFlags registers --ram, --memory, --cpu and --pids, with pidsHelp as
// the help text of --pids.
func (a *App) addLimitFlags(f *pflag.FlagSet, lf *limitFlags, pidsHelp string) {
	f.StringVar(&lf.ram, "ram", "", a.P.T("FlagRAM", nil))
	f.StringVar(&lf.memory, "memory", "", a.P.T("FlagMemory", nil))
	f.StringVar(&lf.cpu, "cpu", "", a.P.T("FlagCPU", nil))
	f.StringVar(&lf.pids, "pids", "", pidsHelp)
}

// parseLimitFlags parses the limit flags that the user set in f.
func parseLimitFlags(f *pflag.FlagSet, lf *limitFlags) (limitValues, error) {
	var v limitValues
	ramSet, memorySet := flagChanged(f, "ram"), flagChanged(f, "memory")
	if ramSet && memorySet {
		return v, usererr.New(usererr.Usage, "ErrRAMAndMemory")
	}
	if ramSet || memorySet {
		host, err := runtime.HostMemory()
		if err != nil {
			return v, err
		}
		var bytes int64
		if ramSet {
			bytes, err = runtime.ParseRAM(lf.ram, host)
		} else {
			bytes, err = runtime.ParseMemory(lf.memory, host)
		}
		if err != nil {
			return v, err
		}
		v.memory = &bytes
	}
	if flagChanged(f, "cpu") {
		cpu, err := runtime.ParseCPU(lf.cpu, runtime.HostCPUs())
		if err != nil {
			return v, err
		}
		v.cpu = &cpu
	}
	if flagChanged(f, "pids") {
		pids, err := runtime.ParsePids(lf.pids)
		if err != nil {
			return v, err
		}
		v.pids = &pids
	}
	return v, nil
}

func (a *App) newUpdateCmd() *cobra.Command {
	lf := &limitFlags{}
	cmd := &cobra.Command{
		Use:     "update-container NAME [--ram MB | --memory SIZE] [--cpu PERCENT] [--pids N]",
		Short:   a.P.T("UpdateShort", nil),
		Long:    a.P.T("UpdateLong", nil),
		Example: "  rt-lab update-container rumah-jakarta --ram 128 --cpu 50",
		Args:    a.exactlyOneName,
		PreRunE: a.needsRoot,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := runtime.ValidateName(args[0]); err != nil {
				return err
			}
			limits, err := parseLimitFlags(cmd.Flags(), lf)
			if err != nil {
				return err
			}
			return a.runUpdate(args[0], limits)
		},
	}
	a.addLimitFlags(cmd.Flags(), lf, a.P.Tf("FlagUpdatePids", "Min", runtime.MinPids, "Max", runtime.MaxPids))
	return cmd
}

func (a *App) runUpdate(name string, limits limitValues) error {
	if limits.empty() {
		return usererr.New(usererr.Usage, "ErrUpdateNoFlag")
	}
	r, err := a.Runtime()
	if err != nil {
		return err
	}

	c, err := r.Update(name, runtime.UpdateOptions{MemoryBytes: limits.memory, CPUPercent: limits.cpu, Pids: limits.pids})
	if err != nil {
		return err
	}

	done := "UpdateDoneStopped"
	if c.Status == runtime.StatusRunning {
		done = "UpdateDoneRunning"
	}
	a.info(a.Stderr, done, "Name", c.Name, "Memory", a.formatMemory(c.MemoryBytes),
		"CPU", a.formatCPU(c.CPUPercent), "Pids", c.Pids)
	return nil
}
