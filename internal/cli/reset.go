package cli

import (
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/lessons/tutor"
)

type resetOptions struct {
	Stage string // empty: every stage
	Yes   bool
}

func (a *App) newResetCmd() *cobra.Command {
	opts := &resetOptions{}
	cmd := &cobra.Command{
		Use:     "reset [tahap-N | N] [--yes]",
		Short:   a.P.T("ResetShort", nil),
		Long:    a.P.T("ResetLong", nil),
		Example: "  sudo rt-lab reset tahap-1\n  sudo rt-lab reset --yes",
		Args:    a.atMostOneStage,
		PreRunE: a.needsRoot,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Stage = args[0]
			}
			return a.runReset(opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, a.P.T("FlagResetYes", nil))
	return cmd
}

// runReset demolishes the houses of one stage (or of every stage) and clears
// its progress, after the student confirms.
func (a *App) runReset(opts *resetOptions) error {
	root, err := a.RootDir()
	if err != nil {
		return err
	}
	stages, err := lessons.All()
	if err != nil {
		return usererr.Wrap(err, usererr.Environment, "ErrLessonFiles")
	}
	targets := stages
	if opts.Stage != "" {
		st, err := lessons.Find(opts.Stage)
		if err != nil {
			return err
		}
		targets = []*lessons.Stage{st}
		// Clearing one stage rewrites the progress file, so a damaged file must
		// stop the reset before any house is demolished.
		if _, err := tutor.LoadProgress(root); err != nil {
			return err
		}
	}
	var houses []string
	for _, st := range targets {
		houses = append(houses, st.Containers...)
	}

	if !opts.Yes {
		ok, err := a.confirmReset(opts.Stage == "", targets[0], houses)
		if err != nil {
			return err
		}
		if !ok {
			a.info(a.Stderr, "ResetCancelled")
			return nil
		}
	}

	r, err := a.Runtime()
	if err != nil {
		return err
	}
	for _, name := range houses {
		err := r.Delete(name, true)
		switch {
		case err == nil:
			a.info(a.Stderr, "ResetHouseDeleted", "Name", name)
		case usererr.Is(err, "ErrContainerNotFound"):
		default:
			return err
		}
	}

	if opts.Stage == "" {
		if err := tutor.RemoveProgress(root); err != nil {
			return err
		}
		a.info(a.Stderr, "ResetDoneAll")
		return nil
	}
	stage := targets[0]
	if _, err := tutor.UpdateProgress(root, func(p *tutor.Progress) error {
		delete(p.Stages, stage.ID)
		return nil
	}); err != nil {
		return err
	}
	a.info(a.Stderr, "ResetDoneStage", "Number", stage.Number, "Command", a.lessonCommand(root)+" start "+stage.ID)
	return nil
}

// confirmReset asks the student on the terminal. Without a terminal it fails
// with a usage error that says to pass --yes.
func (a *App) confirmReset(all bool, stage *lessons.Stage, houses []string) (bool, error) {
	in, inOK := a.Stdin.(*os.File)
	out, outOK := a.Stderr.(*os.File)
	if !inOK || !outOK || !isTerminal(in) || !isTerminal(out) {
		_, command := a.suggestedCommand()
		return false, usererr.New(usererr.Usage, "ErrResetNeedsYes", "Command", command)
	}
	list := strings.Join(houses, ", ")
	if list == "" {
		list = "-"
	}
	question := a.P.Tf("ResetConfirmStage", "Number", stage.Number, "Houses", list)
	if all {
		question = a.P.Tf("ResetConfirmAll", "Houses", list)
	}
	return tutor.Confirm(a.P, in, out, question)
}
