package cli

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rt-lab/rt-lab/checker"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/lessons/tutor"
)

func (a *App) newLessonsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "lessons",
		Short:   a.P.T("LessonsShort", nil),
		Long:    a.P.T("LessonsLong", nil),
		Example: "  rt-lab lessons\n  rt-lab lessons validate ./my-lessons",
		Args:    subcommandArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runLessons()
		},
	}
	cmd.AddCommand(a.newLessonsValidateCmd())
	return cmd
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
	tutor.WriteOverview(a.Stdout, a.P, color, stages, prog, a.lessonCommand(root))
	return nil
}

func (a *App) newLessonsValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "validate [DIR]",
		Short:   a.P.T("LessonsValidateShort", nil),
		Long:    a.P.T("LessonsValidateLong", nil),
		Example: "  rt-lab lessons validate\n  rt-lab lessons validate lessons/",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) <= 1 {
				return nil
			}
			return usererr.New(usererr.Usage, "ErrLessonsValidateArgs", "Command", cmd.CommandPath(), "Count", len(args))
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := ""
			if len(args) == 1 {
				dir = args[0]
			}
			return a.runLessonsValidate(dir)
		},
	}
}

// runLessonsValidate prints every problem in the lesson files of dir, or of the
// lessons built into rt-lab when dir is empty. It returns exit status 1 when there
// is a problem.
//
// NOTE: a check parameter that is present but invalid, such as mib: "lots", is
// not reported here. The checker validates parameter values only when a check
// runs, and `rt-lab check` then reports the value as a lesson mistake.
func (a *App) runLessonsValidate(dir string) error {
	var stages []*lessons.Stage
	var problems []string
	files := 0
	if dir == "" {
		all, err := lessons.All()
		if err != nil {
			// An embedded file that does not parse is a problem of the lessons.
			problems = append(problems, err.Error())
		}
		stages, files = all, len(all)
	} else {
		var err error
		if stages, problems, files, err = a.loadLessonDir(dir); err != nil {
			return err
		}
	}

	for _, pr := range lessons.Validate(stages, checker.Params) {
		problems = append(problems, pr.Render(a.P))
	}
	for _, line := range problems {
		fmt.Fprintln(a.Stdout, line)
	}
	if len(problems) == 0 {
		a.info(a.Stdout, "LessonsValidateOK", "Files", files)
		return nil
	}
	a.info(a.Stdout, "LessonsValidateProblems", "Count", len(problems), "Files", files)
	return &exitError{code: usererr.ExitFailed}
}

// loadLessonDir parses the lesson files in dir: every *.yaml file. A file that
// does not parse and a *.yml file are problems. A dir that is missing, not a
// folder or without any lesson file is a usage error.
func (a *App) loadLessonDir(dir string) (stages []*lessons.Stage, problems []string, files int, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, 0, usererr.Wrap(err, usererr.Usage, "ErrLessonsValidateDir", "Dir", dir)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			continue
		}
		switch strings.ToLower(filepath.Ext(name)) {
		case ".yml":
			files++
			problems = append(problems, a.P.Tf("LessonsValidateYml", "File", name,
				"Want", strings.TrimSuffix(name, filepath.Ext(name))+".yaml"))
			continue
		case ".yaml":
		default:
			continue
		}
		files++
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		st, err := lessons.Parse(name, data)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		stages = append(stages, st)
	}
	if files == 0 {
		return nil, nil, 0, usererr.New(usererr.Usage, "ErrLessonsValidateEmpty", "Dir", dir)
	}
	slices.SortStableFunc(stages, func(x, y *lessons.Stage) int { return cmp.Compare(x.Number, y.Number) })
	return stages, problems, files, nil
}
