package cli

import (
	"strconv"

	"github.com/spf13/cobra"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/network"
	"github.com/rt-lab/rt-lab/runtime"
)

type createOptions struct {
	name, hostname, subnet string
	userns                 bool
	limits                 limitFlags
}

func (a *App) newCreateCmd() *cobra.Command {
	opts := &createOptions{}
	cmd := &cobra.Command{
		Use:     "create-container NAME [--ram MB | --memory SIZE] [--cpu PERCENT] [--pids N] [--hostname H] [--subnet CIDR] [--userns=false]",
		Short:   a.P.T("CreateShort", nil),
		Long:    a.P.T("CreateLong", nil),
		Example: "  rt-lab create-container rumah-jakarta --hostname jakarta --ram 256 --cpu 50",
		Args:    a.exactlyOneName,
		PreRunE: a.needsRoot,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.name = args[0]
			if err := runtime.ValidateName(opts.name); err != nil {
				return err
			}
			// RT_LAB_USERNS=false sets the default of --userns, so a whole
			// lesson can run with houses that share the host's user namespace.
			if v := a.Env("RT_LAB_USERNS"); v != "" && !cmd.Flags().Changed("userns") {
				on, err := strconv.ParseBool(v)
				if err != nil {
					return usererr.New(usererr.Usage, "ErrUserNSEnv", "Value", v)
				}
				opts.userns = on
			}
			limits, err := parseLimitFlags(cmd.Flags(), &opts.limits)
			if err != nil {
				return err
			}
			// An empty --subnet would silently mean "keep or pick one", which
			// is what leaving the option out means.
			if flagChanged(cmd.Flags(), "subnet") && opts.subnet == "" {
				_, err := network.ParseSubnet(opts.subnet)
				return err
			}
			return a.runCreate(opts, limits)
		},
	}
	f := cmd.Flags()
	a.addLimitFlags(f, &opts.limits, a.P.Tf("FlagPids", "Min", runtime.MinPids, "Max", runtime.MaxPids,
		"Default", runtime.DefaultPids))
	f.StringVar(&opts.hostname, "hostname", "", a.P.T("FlagHostname", nil))
	f.StringVar(&opts.subnet, "subnet", "", a.P.T("FlagSubnet", nil))
	f.BoolVar(&opts.userns, "userns", true, a.P.T("FlagUserNS", nil))
	return cmd
}

func (a *App) runCreate(opts *createOptions, limits limitValues) error {
	create := runtime.CreateOptions{Name: opts.name, Hostname: opts.hostname, Subnet: opts.subnet, NoUserNS: !opts.userns}
	if limits.memory != nil {
		create.MemoryBytes = *limits.memory
	}
	if limits.cpu != nil {
		create.CPUPercent = *limits.cpu
	}
	if limits.pids != nil {
		create.Pids = *limits.pids
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
	if n, err := r.Network(); err == nil {
		cfg := n.Config()
		a.info(a.Stderr, "CreateAddress", "Name", c.Name, "Address", c.Address, "Subnet", cfg.Subnet, "Bridge", cfg.Bridge)
	}
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
