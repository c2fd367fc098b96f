package cli

import (
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/runtime"
)

func (a *App) newStopCmd() *cobra.Command {
	var timeout string
	cmd := &cobra.Command{
		Use:     "stop-container NAME [--timeout DURATION]",
		Short:   a.P.T("StopShort", nil),
		Long:    a.P.T("StopLong", nil),
		Example: "  rt-lab stop-container rumah-jakarta --timeout 5s",
		Args:    a.exactlyOneName,
		PreRunE: a.needsRoot,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := parseTimeout(timeout)
			if err != nil {
				return err
			}
			return a.runStop(args[0], d)
		},
	}
	cmd.Flags().StringVar(&timeout, "timeout", runtime.DefaultStopTimeout.String(), a.P.T("FlagTimeout", nil))
	return cmd
}

// parseTimeout accepts a Go duration such as 5s or 1m30s, or whole seconds.
func parseTimeout(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		n, nerr := strconv.ParseUint(s, 10, 32)
		if nerr != nil {
			return 0, usererr.New(usererr.Usage, "ErrTimeoutInvalid", "Value", s)
		}
		d = time.Duration(n) * time.Second
	}
	if d < 0 {
		return 0, usererr.New(usererr.Usage, "ErrTimeoutInvalid", "Value", s)
	}
	return d, nil
}

func (a *App) runStop(name string, timeout time.Duration) error {
	r, err := a.Runtime()
	if err != nil {
		return err
	}
	c, err := r.Get(name)
	if err != nil {
		return err
	}
	if c.Status != runtime.StatusRunning {
		a.info(a.Stderr, "StopAlready", "Name", name)
		return r.Stop(name, timeout)
	}
	a.info(a.Stderr, "StopStopping", "Name", name, "PID", c.PID, "Timeout", timeout.String())
	if err := r.Stop(name, timeout); err != nil {
		return err
	}
	a.info(a.Stderr, "StopDone", "Name", name)
	return nil
}
