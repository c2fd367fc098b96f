package cli

import (
	"github.com/spf13/cobra"

	"github.com/rt-lab/rt-lab/runtime"
)

func (a *App) newRunCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "run-container NAME [-- CMD ARGS...]",
		Short:   a.P.T("RunShort", nil),
		Long:    a.P.T("RunLong", nil),
		Example: "  rt-lab run-container rumah-jakarta\n  rt-lab run-container rumah-jakarta -- ps",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return a.exactlyOneName(cmd, args)
			}
			return nil
		},
		PreRunE: a.needsRoot,
		RunE: func(cmd *cobra.Command, args []string) error {
			command := args[1:]
			// With interspersed flags off, a "--" after NAME reaches the args.
			if len(command) > 0 && command[0] == "--" {
				command = command[1:]
			}
			return a.runRun(args[0], command)
		},
	}
	// Everything after NAME belongs to the command inside the house.
	cmd.Flags().SetInterspersed(false)
	return cmd
}

func (a *App) runRun(name string, command []string) error {
	r, err := a.Runtime()
	if err != nil {
		return err
	}
	c, err := r.Get(name)
	if err != nil {
		return err
	}
	if c.Status != runtime.StatusRunning {
		a.info(a.Stderr, "RunStarting", "Name", name)
		if c, err = r.Start(name); err != nil {
			return err
		}
		a.info(a.Stderr, "RunStarted", "Name", name, "PID", c.PID)
	}
	tty := a.stdinIsTerminal()
	if len(command) == 0 {
		a.info(a.Stderr, "RunEnter", "Name", name, "Hostname", c.Hostname)
	}
	// The in-house tools (eat-memory, burn-cpu, ipcmk) speak the same language
	// as rt-lab on the host.
	env := []string{"RT_LAB_LANG=" + string(a.P.Lang)}
	code, err := r.Exec(name, runtime.Process{Args: command, Env: env,
		Stdin: a.Stdin, Stdout: a.Stdout, Stderr: a.Stderr, TTY: tty})
	if err != nil {
		if code != 0 {
			a.info(a.Stderr, "ErrorPrefix", "Message", a.renderErr(err))
			return &exitError{code: code}
		}
		return err
	}
	if len(command) == 0 {
		// The shell also ends when the house is stopped or demolished from
		// another terminal, and then the house does not keep running.
		if now, err := r.GetSettled(name); err == nil && now.Status == runtime.StatusRunning {
			a.info(a.Stderr, "RunLeft", "Name", name)
		} else {
			a.info(a.Stderr, "RunHouseEnded", "Name", name)
		}
	}
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}
