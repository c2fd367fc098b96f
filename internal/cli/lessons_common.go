package cli

import (
	"os"

	shellquote "github.com/kballard/go-shellquote"
	"github.com/spf13/cobra"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/lessons/tutor"
)

// Helpers shared by the lesson commands: start, lessons, hint and reset.

// atMostOneStage is a cobra Args check for commands that take an optional stage.
func (a *App) atMostOneStage(cmd *cobra.Command, args []string) error {
	if len(args) <= 1 {
		return nil
	}
	return usererr.New(usererr.Usage, "ErrStageArgs", "Command", cmd.CommandPath(), "Count", len(args))
}

// loadLessonState loads the lesson files and the student's progress in root.
func loadLessonState(root string) ([]*lessons.Stage, *tutor.Progress, error) {
	stages, err := lessons.All()
	if err != nil {
		return nil, nil, usererr.Wrap(err, usererr.Environment, "ErrLessonFiles")
	}
	prog, err := tutor.LoadProgress(root)
	if err != nil {
		return nil, nil, err
	}
	return stages, prog, nil
}

// readyStage returns the stage that start and hint work on, with all stages:
// stage id when id is not empty, otherwise the student's current stage in
// root. It fails with ErrStageNotReady when that stage is only an outline.
func (a *App) readyStage(root, id string) (*lessons.Stage, []*lessons.Stage, error) {
	stages, prog, err := loadLessonState(root)
	if err != nil {
		return nil, nil, err
	}
	stage := tutor.CurrentStage(stages, prog)
	if id != "" {
		if stage, err = lessons.Find(id); err != nil {
			return nil, nil, err
		}
	}
	if !stage.Ready() {
		return nil, nil, tutor.NotReadyError(stage, stages, a.P, a.lessonCommand(root))
	}
	return stage, stages, nil
}

// lessonCommand returns how the student runs rt-lab again, for the commands that
// lessons suggest: with sudo unless the student is logged in as root (root without
// SUDO_USER), because the lesson commands need root, and with --root when the state
// folder is not the default one.
func (a *App) lessonCommand(root string) string {
	args := []string{"rt-lab"}
	if os.Geteuid() != 0 || a.Env("SUDO_USER") != "" {
		args = append([]string{"sudo"}, args...)
	}
	if root != DefaultRoot {
		args = append(args, "--root", root)
	}
	return shellquote.Join(args...)
}
