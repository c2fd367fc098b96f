package cli

import (
	"github.com/spf13/cobra"

	"github.com/rt-lab/rt-lab/lessons/tutor"
)

func (a *App) newLessonsCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "lessons",
		Short:   a.P.T("LessonsShort", nil),
		Long:    a.P.T("LessonsLong", nil),
		Example: "  rt-lab lessons",
		Args:    a.noLessonArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runLessons()
		},
	}
}

// runLessons lists the stages and steps with the student's progress. It only
// reads, so it needs no root.
func (a *App) runLessons() error {
	root, err := a.RootDir()
	if err != nil {
		return err
	}
	stages, prog, err := loadLessonState(root)
	if err != nil {
		return err
	}
	color := isTerminal(a.Stdout) && a.Env("NO_COLOR") == ""
	tutor.WriteOverview(a.Stdout, a.P, color, stages, prog)
	return nil
}
