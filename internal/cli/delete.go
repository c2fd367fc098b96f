package cli

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/lessons/tutor"
	"github.com/rt-lab/rt-lab/runtime"
)

type deleteOptions struct {
	name       string
	force, yes bool
}

func (a *App) newDeleteCmd() *cobra.Command {
	opts := &deleteOptions{}
	cmd := &cobra.Command{
		Use:     "delete-container NAME [--force] [--yes]",
		Short:   a.P.T("DeleteShort", nil),
		Long:    a.P.T("DeleteLong", nil),
		Example: "  rt-lab delete-container rumah-jakarta --force --yes",
		Args:    a.exactlyOneName,
		PreRunE: a.needsRoot,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.name = args[0]
			return a.runDelete(opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.force, "force", "f", false, a.P.T("FlagForce", nil))
	cmd.Flags().BoolVarP(&opts.yes, "yes", "y", false, a.P.T("FlagYes", nil))
	return cmd
}

func (a *App) runDelete(opts *deleteOptions) error {
	r, err := a.Runtime()
	if err != nil {
		return err
	}
	c, err := r.Get(opts.name)
	switch {
	case err == nil:
		if c.Status == runtime.StatusRunning && !opts.force {
			return usererr.New(usererr.Usage, "ErrDeleteRunning", "Name", opts.name)
		}
	case usererr.Is(err, "ErrContainerNotFound") && r.Incomplete(opts.name):
		// A folder that a create cut short: Delete removes it only with force.
		if !opts.force {
			return usererr.New(usererr.Usage, "ErrContainerIncomplete", "Name", opts.name,
				"Path", r.ContainerDir(opts.name))
		}
	case usererr.Is(err, "ErrContainerBroken") && opts.force:
		// Delete removes what it can of a house whose state file is damaged.
	case usererr.Is(err, "ErrContainerNotFound"):
		// A delete cut short may leave an address without a house.
		addr, orphan := r.OrphanAddress(opts.name)
		if !orphan {
			return err
		}
		if !opts.force {
			return usererr.New(usererr.Usage, "ErrDeleteOrphanNeedsForce", "Name", opts.name, "Address", addr)
		}
		if err := r.Delete(opts.name, true); err != nil {
			return err
		}
		a.info(a.Stderr, "NetOrphanReleased", "Name", opts.name, "Address", addr)
		return nil
	default:
		return err
	}
	if !opts.yes {
		ok, err := a.confirm(a.P.Tf("DeleteConfirm", "Name", opts.name), "ErrDeleteNeedsYes", "Name", opts.name)
		if err != nil {
			return err
		}
		if !ok {
			a.info(a.Stderr, "DeleteCancelled", "Name", opts.name)
			return nil
		}
	}
	if err := r.Delete(opts.name, opts.force); err != nil {
		return err
	}
	a.info(a.Stderr, "DeleteDone", "Name", opts.name)
	return nil
}

// confirm asks a yes/no question on a terminal. Without one it fails with the
// usage error noYesID, which tells the user to pass --yes.
func (a *App) confirm(question, noYesID string, kv ...any) (bool, error) {
	if !a.stdinIsTerminal() {
		return false, usererr.New(usererr.Usage, noYesID, kv...)
	}
	in, inOK := a.Stdin.(*os.File)
	out, outOK := a.Stderr.(*os.File)
	if !inOK || !outOK {
		return false, usererr.New(usererr.Usage, noYesID, kv...)
	}
	return tutor.Confirm(a.P, in, out, question)
}
