package cli

import (
	"github.com/spf13/cobra"

	"github.com/rt-lab/rt-lab/lessons/tutor"
)

type hintOptions struct {
	Stage string // empty: the student's current stage
}

func (a *App) newHintCmd() *cobra.Command {
	opts := &hintOptions{}
	return &cobra.Command{
		Use:     "hint [tahap-N | N]",
		Short:   a.P.T("HintShort", nil),
		Long:    a.P.T("HintLong", nil),
		Example: "  rt-lab hint\n  rt-lab hint tahap-1",
		Args:    a.atMostOneStage,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Stage = args[0]
			}
			return a.runHint(opts)
		},
	}
}

// runHint prints the next hint of the step the student is on and saves that it
// was shown. It needs no root: without write access to the state folder the hint
// is still shown, with a warning that the count was not saved.
func (a *App) runHint(opts *hintOptions) error {
	root, err := a.RootDir()
	if err != nil {
		return err
	}
	stage, _, err := a.readyStage(root, opts.Stage)
	if err != nil {
		return err
	}

	taken, err := tutor.TakeHint(root, stage)
	if err != nil {
		return err
	}
	color := isTerminal(a.Stdout) && a.Env("NO_COLOR") == ""
	tutor.WriteHint(a.Stdout, a.P, color, stage, taken, a.lessonCommand(root))
	if taken.SaveErr != nil {
		a.info(a.Stderr, "HintNotSaved", "Error", a.renderErr(taken.SaveErr))
	}
	return nil
}
