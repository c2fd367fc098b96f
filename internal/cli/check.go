package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/checker"
	"github.com/rt-lab/rt-lab/internal/report"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/lessons/tutor"
	"github.com/rt-lab/rt-lab/locales"
	"github.com/rt-lab/rt-lab/runtime"
)

// checkFormats are the values --format accepts.
var checkFormats = []string{"text", "json", "junit", "csv"}

// maxStudentName is the longest student name --student accepts, in characters.
const maxStudentName = 100

// checkOptions are the inputs of `rt-lab check`.
type checkOptions struct {
	Stages      []string // stage ids or numbers; empty means every stage
	Format      string
	Student     string // empty: the name saved in settings
	SaveStudent bool
	Watch       bool
}

func (a *App) newCheckCmd() *cobra.Command {
	opts := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check [tahap-N | N ...] [--format text|json|junit|csv] [--student NAME [--save-student]] [--watch]",
		Short: a.P.T("CheckCmdShort", nil),
		Long:  a.P.T("CheckCmdLong", nil),
		Example: "  sudo rt-lab check\n  sudo rt-lab check tahap-1 --format json --student Budi > budi.json\n" +
			"  sudo rt-lab check --student \"Siti Aminah\" --save-student\n  sudo rt-lab check --format junit > rt-lab.xml\n" +
			"  sudo rt-lab check --watch",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Stages = args
			return a.runCheck(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "text", a.P.T("CheckFlagFormat", nil))
	cmd.Flags().StringVar(&opts.Student, "student", "", a.P.T("CheckFlagStudent", nil))
	cmd.Flags().BoolVar(&opts.SaveStudent, "save-student", false, a.P.T("CheckFlagSaveStudent", nil))
	cmd.Flags().BoolVar(&opts.Watch, "watch", false, a.P.T("CheckFlagWatch", nil))
	return cmd
}

// runCheck grades the chosen stages and prints the report. Usage errors come
// before the root check, so a typo is reported even without sudo.
func (a *App) runCheck(opts *checkOptions) error {
	if err := a.checkUsage(opts); err != nil {
		return err
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

	if opts.SaveStudent {
		settings := LoadSettings(r.Root())
		settings.Student = opts.Student
		if err := SaveSettings(r.Root(), settings); err != nil {
			return usererr.Wrap(err, usererr.Failed, "ErrCheckSaveStudent", "Path", settingsPath(r.Root()))
		}
		a.info(a.Stderr, "CheckStudentSaved", "Student", opts.Student, "Path", settingsPath(r.Root()))
	}
	if opts.Watch {
		return a.runWatch(r, stages, len(opts.Stages) > 0)
	}

	rep := a.gradeStages(r, stages)
	rep.Student = opts.Student
	if rep.Student == "" {
		rep.Student = LoadSettings(r.Root()).Student
	}
	if rep.Student == "" && opts.Format != "text" {
		a.info(a.Stderr, "CheckNoStudentNote")
	}

	if err := a.writeCheckReport(rep, opts.Format); err != nil {
		return err
	}
	if !rep.Passed {
		return &exitError{code: usererr.ExitFailed}
	}
	return nil
}

// checkUsage rejects bad flag values and flag combinations.
func (a *App) checkUsage(opts *checkOptions) error {
	if !slices.Contains(checkFormats, opts.Format) {
		return usererr.New(usererr.Usage, "ErrCheckFormat", "Value", opts.Format,
			"Choices", strings.Join(checkFormats, ", "))
	}
	opts.Student = strings.TrimSpace(opts.Student)
	if opts.Student != "" && !validStudentName(opts.Student) {
		return usererr.New(usererr.Usage, "ErrCheckStudent", "Value", opts.Student, "Max", maxStudentName)
	}
	if opts.SaveStudent && opts.Student == "" {
		return usererr.New(usererr.Usage, "ErrCheckSaveNoStudent")
	}
	if !opts.Watch {
		return nil
	}
	switch {
	case opts.Format != "text":
		return usererr.New(usererr.Usage, "ErrWatchFormat", "Format", opts.Format)
	case len(opts.Stages) > 1:
		return usererr.New(usererr.Usage, "ErrWatchStages", "Count", len(opts.Stages))
	case !isTerminal(a.Stdout):
		return usererr.New(usererr.Usage, "ErrWatchNoTerminal")
	}
	return nil
}

// validStudentName accepts 1 to maxStudentName characters of valid UTF-8
// without control characters, so a name cannot break a CSV row or a terminal.
func validStudentName(name string) bool {
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxStudentName {
		return false
	}
	return !strings.ContainsFunc(name, unicode.IsControl)
}

func (a *App) writeCheckReport(rep *report.Report, format string) error {
	switch format {
	case "json":
		return report.WriteJSON(a.Stdout, rep)
	case "junit":
		return report.WriteJUnit(a.Stdout, rep, a.P)
	case "csv":
		return report.WriteCSV(a.Stdout, rep)
	}
	a.printCheckReport(a.Stdout, rep)
	return nil
}

// selectStages returns the stages named by args in the order given, without
// repeats, or every stage, outline stages included, when args is empty. A named
// outline stage is a usage error because it has nothing to check.
func selectStages(args []string) ([]*lessons.Stage, error) {
	if len(args) == 0 {
		all, err := lessons.All()
		if err != nil {
			return nil, usererr.Wrap(err, usererr.Environment, "ErrCheckLessons")
		}
		if !slices.ContainsFunc(all, (*lessons.Stage).Ready) {
			return nil, usererr.New(usererr.Environment, "ErrCheckNoReadyStages")
		}
		return all, nil
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

// gradeStages grades the ready stages and fills the report's totals and machine
// details. An outline stage is listed with status outline, no steps and no
// points, so the report names all five stages while its maximum counts only
// what can be graded today.
func (a *App) gradeStages(r *runtime.Runtime, stages []*lessons.Stage) *report.Report {
	env := &checker.Env{Runtime: r, P: a.P}
	rep := report.New(time.Now())
	rep.Machine = machineName()
	rep.Kernel = kernelRelease()
	rep.CgroupVersion = cgroupVersion()
	rep.RTLabVersion = runtime.Version
	rep.Lang = string(a.P.Lang)

	// The answers of question steps are the only thing read from the student's
	// files; the answer check still compares each one with the kernel.
	prog, err := tutor.LoadProgress(r.Root())
	if err != nil {
		prog = &tutor.Progress{}
	}
	for _, st := range stages {
		if !st.Ready() {
			rep.AddStage(report.Stage{ID: st.ID, Number: st.Number, Title: st.Title.In(a.P.Lang),
				Status: report.StatusOutline})
			continue
		}
		env.Answers = prog.Answers(st.ID)
		rep.AddStage(reportStage(st, checker.GradeStage(env, st)))
	}
	return rep
}

// reportStage converts the checker's result of a ready stage.
func reportStage(st *lessons.Stage, res checker.StageResult) report.Stage {
	out := report.Stage{ID: res.ID, Number: st.Number, Title: res.Title, Status: report.StatusReady,
		Score: res.Score, Max: res.Max, Steps: make([]report.Step, len(res.Steps))}
	for i, step := range res.Steps {
		out.Steps[i] = report.Step(step)
	}
	return out
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

// cgroupVersion returns "v2" when /sys/fs/cgroup is a cgroup2 file system (the
// unified hierarchy), "v1" for anything else mounted there (a tmpfs of v1
// hierarchies, including the hybrid layout), and "" when statfs fails.
func cgroupVersion() string {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		return ""
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "v2"
	}
	return "v1"
}

// printCheckReport writes the report for people, coloured only on a terminal.
func (a *App) printCheckReport(w io.Writer, rep *report.Report) {
	p := a.P
	c := newColors(isTerminal(w) && a.Env("NO_COLOR") == "")
	student := rep.Student
	if student == "" {
		student = p.T("CheckReportNoStudent", nil)
	}
	fmt.Fprintln(w, c.dim(p.Tf("CheckReportHeader", "Student", student, "Machine", rep.Machine,
		"Kernel", rep.Kernel, "Cgroup", rep.CgroupVersion, "Time", rep.Time, "Version", rep.RTLabVersion)))

	for _, st := range rep.Stages {
		title := p.Tf("CheckReportStage", "Number", st.Number, "Title", st.Title, "ID", st.ID)
		if st.Status == report.StatusOutline {
			fmt.Fprintf(w, "\n%s  %s\n", c.bold(title), c.dim(p.T("ReportStageOutline", nil)))
			continue
		}
		fmt.Fprintf(w, "\n%s\n", c.bold(title))
		for _, step := range st.Steps {
			printCheckStep(w, p, c, step)
		}
		fmt.Fprintf(w, "  %s\n", p.Tf("CheckReportStageScore", "Number", st.Number, "Score", st.Score, "Max", st.Max))
	}

	passedSteps, totalSteps := rep.StepCounts()
	total := p.Tf("CheckReportTotal", "Score", rep.Score, "Max", rep.Max, "Passed", passedSteps, "Steps", totalSteps)
	if rep.Passed {
		total = c.green(total)
	} else {
		total = c.red(total)
	}
	fmt.Fprintf(w, "\n%s\n", c.bold(total))
}

func printCheckStep(w io.Writer, p *locales.Printer, c colors, step report.Step) {
	mark := c.red("✗")
	if step.Passed {
		mark = c.green("✓")
	}
	fmt.Fprintf(w, "  %s [%d/%d] %s\n", mark, step.Points, step.Max, step.Title)
	for _, line := range step.Evidence {
		fmt.Fprintf(w, "      %s %s\n", c.dim("·"), line)
	}
	if step.Passed {
		return
	}
	if step.Expected != "" {
		printLabelled(w, c.bold(p.T("CheckReportExpected", nil)), step.Expected)
	}
	if step.Hint != "" {
		printLabelled(w, c.yellow(p.T("CheckReportHint", nil)), step.Hint)
	}
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
func (c colors) cyan(s string) string   { return c.wrap("36", s) }
