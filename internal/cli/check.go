package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/checker"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/lessons/tutor"
	"github.com/rt-lab/rt-lab/runtime"
)

// checkFormats are the values --format accepts.
var checkFormats = []string{"text", "json"}

// checkReportSchema is the version of the JSON report; it changes only when a key
// is removed or changes meaning.
const checkReportSchema = 1

// checkOptions are the inputs of `rt-lab check`.
type checkOptions struct {
	Stages  []string // stage ids or numbers; empty means every ready stage
	Format  string
	Student string // empty: the name saved in settings
}

// checkReport is the JSON report; its keys are stable.
type checkReport struct {
	Schema       int                   `json:"schema"`
	Student      string                `json:"student"`
	Machine      string                `json:"machine"`
	Kernel       string                `json:"kernel"`
	RTLabVersion string                `json:"rt_lab_version"`
	Time         string                `json:"time"`
	Lang         string                `json:"lang"`
	Passed       bool                  `json:"passed"`
	Score        int                   `json:"score"`
	Max          int                   `json:"max"`
	Stages       []checker.StageResult `json:"stages"`
}

func (a *App) newCheckCmd() *cobra.Command {
	opts := &checkOptions{}
	cmd := &cobra.Command{
		Use:     "check [tahap-N | N ...] [--format text|json] [--student NAME]",
		Short:   a.P.T("CheckCmdShort", nil),
		Long:    a.P.T("CheckCmdLong", nil),
		Example: "  sudo rt-lab check\n  sudo rt-lab check tahap-1 --format json --student Budi",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Stages = args
			return a.runCheck(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "text", a.P.T("CheckFlagFormat", nil))
	cmd.Flags().StringVar(&opts.Student, "student", "", a.P.T("CheckFlagStudent", nil))
	return cmd
}

// runCheck grades the chosen stages and prints the report. Usage errors come
// before the root check, so a typo is reported even without sudo.
func (a *App) runCheck(opts *checkOptions) error {
	if !slices.Contains(checkFormats, opts.Format) {
		return usererr.New(usererr.Usage, "ErrCheckFormat", "Value", opts.Format,
			"Choices", strings.Join(checkFormats, ", "))
	}
	stages, err := selectStages(opts.Stages)
	if err != nil {
		return err
	}
	if err := a.RequireRoot(); err != nil {
		return err
	}
	r, err := a.Runtime()
	if err != nil {
		return err
	}

	report := a.gradeStages(r, stages)
	report.Student = opts.Student
	if report.Student == "" {
		report.Student = LoadSettings(r.Root()).Student
	}

	if opts.Format == "json" {
		enc := json.NewEncoder(a.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	} else {
		a.printCheckReport(a.Stdout, report, stages)
	}
	if !report.Passed {
		return &exitError{code: usererr.ExitFailed}
	}
	return nil
}

// selectStages returns the stages named by args in the order given, without
// repeats, or every ready stage when args is empty.
func selectStages(args []string) ([]*lessons.Stage, error) {
	if len(args) == 0 {
		all, err := lessons.All()
		if err != nil {
			return nil, usererr.Wrap(err, usererr.Environment, "ErrCheckLessons")
		}
		var ready []*lessons.Stage
		for _, st := range all {
			if st.Status == lessons.StatusReady {
				ready = append(ready, st)
			}
		}
		if len(ready) == 0 {
			return nil, usererr.New(usererr.Environment, "ErrCheckNoReadyStages")
		}
		return ready, nil
	}

	var stages []*lessons.Stage
	for _, arg := range args {
		st, err := lessons.Find(arg)
		var ue *usererr.Error
		switch {
		case errors.As(err, &ue):
			return nil, err // an unknown stage
		case err != nil:
			return nil, usererr.Wrap(err, usererr.Environment, "ErrCheckLessons")
		case st.Status != lessons.StatusReady:
			return nil, usererr.New(usererr.Usage, "ErrCheckStageNotReady", "Stage", st.ID, "Status", st.Status)
		}
		if !slices.ContainsFunc(stages, func(s *lessons.Stage) bool { return s.ID == st.ID }) {
			stages = append(stages, st)
		}
	}
	return stages, nil
}

// gradeStages grades stages and fills the report's totals and machine details.
func (a *App) gradeStages(r *runtime.Runtime, stages []*lessons.Stage) *checkReport {
	env := &checker.Env{Runtime: r, P: a.P}
	report := &checkReport{
		Schema:       checkReportSchema,
		Machine:      machineName(),
		Kernel:       kernelRelease(),
		RTLabVersion: runtime.Version,
		Time:         time.Now().Format(time.RFC3339),
		Lang:         string(a.P.Lang),
		Passed:       true,
		Stages:       []checker.StageResult{},
	}
	// The answers of question steps are the only thing read from the student's
	// files; the answer check still compares each one with the kernel.
	prog, err := tutor.LoadProgress(r.Root())
	if err != nil {
		prog = &tutor.Progress{}
	}
	for _, st := range stages {
		env.Answers = prog.Answers(st.ID)
		res := checker.GradeStage(env, st)
		report.Stages = append(report.Stages, res)
		report.Score += res.Score
		report.Max += res.Max
		for _, step := range res.Steps {
			report.Passed = report.Passed && step.Passed
		}
	}
	return report
}

func machineName() string {
	name, err := os.Hostname()
	if err != nil {
		return ""
	}
	return name
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// printCheckReport writes the report for people, coloured only on a terminal.
// stages are the lesson stages behind report.Stages, in the same order.
func (a *App) printCheckReport(w io.Writer, report *checkReport, stages []*lessons.Stage) {
	p := a.P
	c := newColors(isTerminal(w) && a.Env("NO_COLOR") == "")
	student := report.Student
	if student == "" {
		student = p.T("CheckReportNoStudent", nil)
	}
	fmt.Fprintln(w, c.dim(p.Tf("CheckReportHeader", "Student", student, "Machine", report.Machine,
		"Kernel", report.Kernel, "Time", report.Time, "Version", report.RTLabVersion)))

	passedSteps, totalSteps := 0, 0
	for i, st := range report.Stages {
		fmt.Fprintf(w, "\n%s\n", c.bold(p.Tf("CheckReportStage", "Number", stages[i].Number, "Title", st.Title, "ID", st.ID)))
		for _, step := range st.Steps {
			totalSteps++
			mark := c.red("✗")
			if step.Passed {
				passedSteps++
				mark = c.green("✓")
			}
			fmt.Fprintf(w, "  %s [%d/%d] %s\n", mark, step.Points, step.Max, step.Title)
			for _, line := range step.Evidence {
				fmt.Fprintf(w, "      %s %s\n", c.dim("·"), line)
			}
			if step.Passed {
				continue
			}
			if step.Expected != "" {
				printLabelled(w, c.bold(p.T("CheckReportExpected", nil)), step.Expected)
			}
			if step.Hint != "" {
				printLabelled(w, c.yellow(p.T("CheckReportHint", nil)), step.Hint)
			}
		}
		fmt.Fprintf(w, "  %s\n", p.Tf("CheckReportStageScore", "Number", stages[i].Number, "Score", st.Score, "Max", st.Max))
	}

	total := p.Tf("CheckReportTotal", "Score", report.Score, "Max", report.Max, "Passed", passedSteps, "Steps", totalSteps)
	if report.Passed {
		total = c.green(total)
	} else {
		total = c.red(total)
	}
	fmt.Fprintf(w, "\n%s\n", c.bold(total))
}

// printLabelled prints a label and a possibly multi-line text, continuation lines
// indented under the first.
func printLabelled(w io.Writer, label, text string) {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	fmt.Fprintf(w, "      %s %s\n", label, lines[0])
	for _, line := range lines[1:] {
		fmt.Fprintf(w, "        %s\n", line)
	}
}

// colors wraps text in ANSI SGR sequences when enabled.
type colors struct{ on bool }

func newColors(on bool) colors { return colors{on: on} }

func (c colors) wrap(code, s string) string {
	if !c.on {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (c colors) bold(s string) string   { return c.wrap("1", s) }
func (c colors) dim(s string) string    { return c.wrap("2", s) }
func (c colors) red(s string) string    { return c.wrap("31", s) }
func (c colors) green(s string) string  { return c.wrap("32", s) }
func (c colors) yellow(s string) string { return c.wrap("33", s) }
