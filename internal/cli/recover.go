package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rt-lab/rt-lab/internal/diag"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/runtime"
)

// recoverOptions are the inputs of recover-state.
type recoverOptions struct {
	name      string // one house, or "" for the whole complex
	dryRun    bool
	leftovers bool // the objects of other state folders instead (see package leftovers)
}

func (a *App) newRecoverCmd() *cobra.Command {
	opts := &recoverOptions{}
	cmd := &cobra.Command{
		Use:   "recover-state [NAME] [--dry-run]",
		Short: a.P.T("RecoverShort", nil),
		Long:  a.P.T("RecoverLong", nil),
		Example: "  sudo rt-lab recover-state --dry-run\n  sudo rt-lab recover-state\n" +
			"  sudo rt-lab recover-state rumah-medan\n  sudo rt-lab recover-state --leftovers --dry-run",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usererr.New(usererr.Usage, "ErrRecoverOneName", "Count", len(args))
			}
			return nil
		},
		PreRunE: a.needsRoot,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.name = args[0]
			}
			if opts.leftovers {
				if opts.name != "" {
					return usererr.New(usererr.Usage, "ErrRecoverLeftoversName", "Name", opts.name)
				}
				return a.runRecoverLeftovers(opts.dryRun)
			}
			return a.runRecover(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.dryRun, "dry-run", false, a.P.T("FlagRecoverDryRun", nil))
	cmd.Flags().BoolVar(&opts.leftovers, "leftovers", false, a.P.T("FlagRecoverLeftovers", nil))
	return cmd
}

// runRecover finds and repairs what a crash or a dead father left behind. It
// ends with exit status 1 when anything is left unrepaired.
func (a *App) runRecover(opts *recoverOptions) error {
	r, err := a.Runtime()
	if err != nil {
		return err
	}
	if opts.name != "" {
		if err := runtime.ValidateName(opts.name); err != nil {
			return err
		}
	}

	in := &diag.Inspector{Runtime: r}
	findings, err := in.Recover(opts.name, opts.dryRun)
	if usererr.Is(err, "ErrContainerNotFound") {
		return usererr.New(usererr.Usage, "ErrRecoverUnknown", "Name", opts.name, "Root", r.Root())
	}
	if err != nil {
		return err
	}

	left := a.printFindings(findings, opts.dryRun)
	if left > 0 {
		return &exitError{code: usererr.ExitFailed}
	}
	return nil
}

// printFindings prints each finding with what was done about it and a summary,
// and returns how many findings are left unrepaired.
func (a *App) printFindings(findings []diag.Finding, dryRun bool) int {
	if len(findings) == 0 {
		a.info(a.Stdout, "RecoverNothing")
		return 0
	}
	left := 0
	for _, f := range findings {
		who := f.Name
		if who == "" {
			who = a.P.T("RecoverComplex", nil)
		}
		fmt.Fprintf(a.Stdout, "! %s: %s\n", who, a.issueText(f.Issue))
		for _, res := range f.Results {
			fmt.Fprintf(a.Stdout, "    %s\n", a.resultText(res, dryRun))
		}
		switch {
		case len(f.Repairs) == 0:
			left++
			fmt.Fprintf(a.Stdout, "    %s\n", a.P.Tf("RecoverLeft", "Fix", f.Manual.Render(a.P)))
		case !dryRun && !f.Repaired():
			left++
		}
	}
	id := "RecoverSummary"
	if dryRun {
		id = "RecoverSummaryDryRun"
	}
	fmt.Fprintln(a.Stdout)
	a.info(a.Stdout, id, "Found", len(findings), "Repaired", len(findings)-left, "Left", left)
	return left
}

// resultText describes one repair: planned in a dry run, otherwise done or
// failed with the reason.
func (a *App) resultText(res runtime.RepairResult, dryRun bool) string {
	rep := res.Repair
	action := a.P.Tf("RecoverAction_"+strings.ReplaceAll(string(rep.Kind), "-", "_"), "Name", rep.Name, "Target", rep.Target)
	switch {
	case dryRun:
		return a.P.Tf("RecoverWould", "Action", action)
	case res.Err != nil:
		return a.P.Tf("RecoverFailed", "Action", action, "Error", a.renderErr(res.Err))
	}
	return a.P.Tf("RecoverDone", "Action", action)
}
