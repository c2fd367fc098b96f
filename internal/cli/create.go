package cli

import (
	"github.com/spf13/cobra"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/runtime"
)

type createOptions struct {
	name, hostname, ram, memory, cpu string
}

func (a *App) newCreateCmd() *cobra.Command {
	opts := &createOptions{}
	cmd := &cobra.Command{
		Use:     "create-container NAME [--ram MB | --memory SIZE] [--cpu PERCENT] [--hostname H]",
		Short:   a.P.T("CreateShort", nil),
		Long:    a.P.T("CreateLong", nil),
		Example: "  rt-lab create-container rumah-jakarta --hostname jakarta --ram 256 --cpu 50",
		Args:    a.exactlyOneName,
		PreRunE: a.needsRoot,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.name = args[0]
			return a.runCreate(opts, flagChanged(cmd.Flags(), "ram"), flagChanged(cmd.Flags(), "memory"), flagChanged(cmd.Flags(), "cpu"))
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.ram, "ram", "", a.P.T("FlagRAM", nil))
	f.StringVar(&opts.memory, "memory", "", a.P.T("FlagMemory", nil))
	f.StringVar(&opts.cpu, "cpu", "", a.P.T("FlagCPU", nil))
	f.StringVar(&opts.hostname, "hostname", "", a.P.T("FlagHostname", nil))
	return cmd
}

func (a *App) runCreate(opts *createOptions, ramSet, memorySet, cpuSet bool) error {
	create := runtime.CreateOptions{Name: opts.name, Hostname: opts.hostname}
	if err := runtime.ValidateName(opts.name); err != nil {
		return err
	}
	if ramSet && memorySet {
		return usererr.New(usererr.Usage, "ErrRAMAndMemory")
	}
	if ramSet || memorySet {
		host, err := runtime.HostMemory()
		if err != nil {
			return err
		}
		if ramSet {
			create.MemoryBytes, err = runtime.ParseRAM(opts.ram, host)
		} else {
			create.MemoryBytes, err = runtime.ParseMemory(opts.memory, host)
		}
		if err != nil {
			return err
		}
	}
	if cpuSet {
		cpu, err := runtime.ParseCPU(opts.cpu, runtime.HostCPUs())
		if err != nil {
			return err
		}
		create.CPUPercent = cpu
	}
	r, err := a.Runtime()
	if err != nil {
		return err
	}
	c, err := r.Create(create)
	if err != nil {
		return err
	}
	a.info(a.Stderr, "CreateDone", "Name", c.Name, "Hostname", c.Hostname,
		"Memory", a.formatMemory(c.MemoryBytes), "CPU", a.formatCPU(c.CPUPercent))
	return nil
}

func (a *App) formatMemory(bytes int64) string {
	if bytes == 0 {
		return a.P.T("NoLimit", nil)
	}
	if bytes%runtime.MiB == 0 {
		return a.P.Tf("MiB", "N", bytes/runtime.MiB)
	}
	return a.P.Tf("Bytes", "N", bytes)
}

func (a *App) formatCPU(percent int) string {
	if percent == 0 {
		return a.P.T("NoLimit", nil)
	}
	return a.P.Tf("Percent", "N", percent)
}
