package report

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// Class is the summary of many students' reports: one row per student and one
// column per lesson step that any report graded.
type Class struct {
	Stages   []StageColumn
	Students []*Student       // sorted by name
	Rejected []*usererr.Error // files left out, each error naming its file
	Notes    []*usererr.Error // files merged with a remark, such as an older duplicate dropped
}

// StageColumn is one stage of the summary with the steps graded in it.
type StageColumn struct {
	ID     string
	Number int
	Title  string
	Steps  []StepColumn
}

// StepColumn is one step of the summary.
type StepColumn struct {
	ID    string
	Title string
	Max   int
	Label string // short column label: stage number and step number, such as "1.2"
}

// Student is one student's report in the summary.
type Student struct {
	Name   string
	File   string
	Time   time.Time
	Report *Report
}

// FailedStep is a step a student did not pass.
type FailedStep struct {
	Stage StageColumn
	Label string
	Step  Step
}

// LoadClass loads every file and merges the reports. A file that cannot be used
// goes to Rejected and the other files are still merged.
func LoadClass(files []string) *Class {
	c := &Class{}
	var loaded []*Student
	for _, file := range files {
		r, err := Load(file)
		if err != nil {
			c.Rejected = append(c.Rejected, asUserErr(err, file))
			continue
		}
		t, _ := r.ParsedTime() // Decode has checked it
		s := &Student{Name: strings.TrimSpace(r.Student), File: file, Time: t, Report: r}
		if s.Name == "" {
			s.Name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
			c.Notes = append(c.Notes, usererr.New(usererr.Usage, "ReportNoteNoStudent", "File", file, "Name", s.Name))
		}
		loaded = append(loaded, s)
	}
	c.merge(loaded)
	return c
}

func asUserErr(err error, file string) *usererr.Error {
	var ue *usererr.Error
	if errors.As(err, &ue) {
		return ue
	}
	return usererr.Wrap(err, usererr.Usage, "ErrReportRead", "File", file)
}

// merge keeps the newest report of each student and builds the step columns.
func (c *Class) merge(loaded []*Student) {
	byName := map[string]*Student{}
	for _, s := range loaded {
		key := studentKey(s.Name)
		old, dup := byName[key]
		if !dup {
			byName[key] = s
			continue
		}
		kept, dropped := s, old
		if s.Time.Before(old.Time) {
			kept, dropped = old, s
		}
		byName[key] = kept
		c.Notes = append(c.Notes, usererr.New(usererr.Usage, "ReportNoteDuplicate", "Student", kept.Name,
			"Kept", kept.File, "KeptTime", kept.Report.Time, "Dropped", dropped.File, "DroppedTime", dropped.Report.Time))
	}
	for _, s := range byName {
		c.Students = append(c.Students, s)
	}
	slices.SortFunc(c.Students, func(a, b *Student) int {
		return cmp.Or(cmp.Compare(studentKey(a.Name), studentKey(b.Name)), cmp.Compare(a.File, b.File))
	})
	c.buildColumns()
}

// studentKey folds case and spaces, so "Siti  Aminah" and "siti aminah" are one
// student.
func studentKey(name string) string {
	return strings.ToLower(strings.Join(strings.Fields(name), " "))
}

// buildColumns collects the graded steps of every report, stages by number and
// steps in the order the reports list them. Titles come from the first report
// that has the step.
func (c *Class) buildColumns() {
	var stages []*StageColumn
	find := func(id string) *StageColumn {
		for _, st := range stages {
			if st.ID == id {
				return st
			}
		}
		return nil
	}
	for _, s := range c.Students {
		for _, rs := range s.Report.Stages {
			if len(rs.Steps) == 0 {
				continue
			}
			col := find(rs.ID)
			if col == nil {
				col = &StageColumn{ID: rs.ID, Number: rs.StageNumber(), Title: rs.Title}
				stages = append(stages, col)
			}
			for _, step := range rs.Steps {
				if !slices.ContainsFunc(col.Steps, func(sc StepColumn) bool { return sc.ID == step.ID }) {
					col.Steps = append(col.Steps, StepColumn{ID: step.ID, Title: step.Title, Max: step.Max})
				}
			}
		}
	}
	slices.SortStableFunc(stages, func(a, b *StageColumn) int {
		return cmp.Or(cmp.Compare(a.Number, b.Number), cmp.Compare(a.ID, b.ID))
	})
	for _, st := range stages {
		prefix := st.ID
		if st.Number > 0 {
			prefix = fmt.Sprint(st.Number)
		}
		for i := range st.Steps {
			st.Steps[i].Label = fmt.Sprintf("%s.%d", prefix, i+1)
		}
		c.Stages = append(c.Stages, *st)
	}
}

// Stage returns the student's result for stage id, or nil.
func (s *Student) Stage(id string) *Stage {
	for i := range s.Report.Stages {
		if s.Report.Stages[i].ID == id {
			return &s.Report.Stages[i]
		}
	}
	return nil
}

// Step returns the student's result for one step, or nil when the student's
// report does not grade it.
func (s *Student) Step(stageID, stepID string) *Step {
	st := s.Stage(stageID)
	if st == nil {
		return nil
	}
	for i := range st.Steps {
		if st.Steps[i].ID == stepID {
			return &st.Steps[i]
		}
	}
	return nil
}

// Percent returns the score as a whole percentage of the maximum, and false when
// the report grades no points.
func (s *Student) Percent() (int, bool) {
	if s.Report.Max == 0 {
		return 0, false
	}
	return s.Report.Score * 100 / s.Report.Max, true
}

// Failed returns the steps the student did not pass, in column order.
func (s *Student) Failed(c *Class) []FailedStep {
	var out []FailedStep
	for _, st := range c.Stages {
		for _, col := range st.Steps {
			if step := s.Step(st.ID, col.ID); step != nil && !step.Passed {
				out = append(out, FailedStep{Stage: st, Label: col.Label, Step: *step})
			}
		}
	}
	return out
}
