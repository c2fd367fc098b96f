package cli

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/rt-lab/rt-lab/checker"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/lessons/tutor"
)

type startOptions struct {
	Stage string // "tahap-1" or "1"; empty: the student's current stage
	Auto  bool
}

func (a *App) newStartCmd() *cobra.Command {
	opts := &startOptions{}
	cmd := &cobra.Command{
		Use:     "start [tahap-N | N] [--auto]",
		Short:   a.P.T("StartShort", nil),
		Long:    a.P.T("StartLong", nil),
		Example: "  sudo rt-lab start\n  sudo rt-lab start tahap-1 --lang en\n  sudo rt-lab start 1 --auto",
		Args:    a.atMostOneStage,
		PreRunE: a.needsRoot,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Stage = args[0]
			}
			return a.runStart(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Auto, "auto", false, a.P.T("FlagAuto", nil))
	return cmd
}

// runStart runs one stage: interactively on a terminal, or with --auto by
// running every step's solution and checks.
func (a *App) runStart(opts *startOptions) error {
	root, err := a.RootDir()
	if err != nil {
		return err
	}
	stage, stages, err := a.readyStage(root, opts.Stage)
	if err != nil {
		return err
	}
	in, inOK := a.Stdin.(*os.File)
	out, outOK := a.Stdout.(*os.File)
	interactive := inOK && outOK && isTerminal(in) && isTerminal(out)
	if !opts.Auto && !interactive {
		return usererr.New(usererr.Usage, "ErrStartNeedsTerminal", "Command", a.lessonCommand(root)+" start "+stage.ID+" --auto")
	}

	if a.LangSource == "flag" {
		settings := LoadSettings(root)
		settings.Lang = string(a.P.Lang)
		if err := SaveSettings(root, settings); err != nil {
			return usererr.Wrap(err, usererr.Failed, "ErrLessonSettingsSave", "Path", settingsPath(root))
		}
	}
	r, err := a.Runtime()
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return usererr.Wrap(err, usererr.Environment, "ErrLessonExecutable")
	}
	runner := &tutor.Runner{Exe: exe, Root: root, Lang: a.P.Lang, Busybox: a.Busybox, BaseEnv: os.Environ()}
	defer runner.Close()

	env := &checker.Env{Runtime: r, P: a.P}
	t := &tutor.Tutor{
		Stage: stage,
		Next:  nextStage(stages, stage),
		Root:  root,
		P:     a.P,
		Grade: func(step *lessons.Step) checker.StepResult {
			// Answers to question steps live in the progress file; load them fresh,
			// since the tutor saves each answer just before grading.
			if prog, err := tutor.LoadProgress(root); err == nil {
				env.Answers = prog.Answers(stage.ID)
			}
			return checker.GradeStep(env, step)
		},
		Answer: func(step *lessons.Step) (string, bool) {
			answer, _, ok := checker.Answer(env, step)
			return answer, ok
		},
		Runner:  runner,
		Out:     a.Stdout,
		Err:     a.Stderr,
		Color:   isTerminal(a.Stdout) && a.Env("NO_COLOR") == "",
		Command: a.lessonCommand(root),
	}
	if !opts.Auto {
		return t.Interactive(in, out)
	}
	passed, err := t.Auto()
	if err != nil {
		return err
	}
	if !passed {
		return &exitError{code: usererr.ExitFailed}
	}
	return nil
}

func nextStage(stages []*lessons.Stage, stage *lessons.Stage) *lessons.Stage {
	for i, st := range stages {
		if st.ID == stage.ID && i+1 < len(stages) {
			return stages[i+1]
		}
	}
	return nil
}
