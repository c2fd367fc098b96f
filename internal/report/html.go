package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rt-lab/rt-lab/locales"
)

// pageTemplate is the class summary page. Its CSS and script are inline, so the
// page needs no other file and loads nothing from the network.
//
//go:embed page.html
var pageTemplate string

// htmlPage is the data of pageTemplate: every text is final, and html/template
// escapes it.
type htmlPage struct {
	Lang       string
	Generated  string
	StageHeads []htmlHead
	StepHeads  []htmlHead
	TimeCol    int
	Columns    int
	Students   []htmlStudent
	Legend     []htmlLegend
	Notes      []string
}

type htmlHead struct {
	Col          int
	Label, Title string
}

type htmlCell struct {
	Text, Title, Class string
	Value              int
}

type htmlStudent struct {
	Index                 int
	Name, SortName        string
	Score, Max            int
	Percent               string
	PercentValue          int
	PercentWidth          int
	FailedLabels          string
	FailedCount           int
	StageCells, StepCells []htmlCell
	Time, Details         string
	Failed                []htmlFailed
}

type htmlFailed struct {
	Label, Title, Expected, Hint string
	Evidence                     []string
}

type htmlLegend struct {
	Label, Title, ID, Points string
}

// firstStageCol is the table column of the first stage: name, score, percent
// and failed steps come before it.
const firstStageCol = 4

// WriteClassHTML writes the class summary as one HTML page in p's language. The
// page sorts by any column when its header is clicked, and each student's row
// opens to show the failed steps with their evidence.
func WriteClassHTML(w io.Writer, c *Class, p *locales.Printer, generated time.Time) error {
	tmpl, err := template.New("page").Funcs(template.FuncMap{
		"t": func(id string) string { return p.T(id, nil) },
	}).Parse(pageTemplate)
	if err != nil {
		return fmt.Errorf("parse the summary page template: %w", err)
	}
	return tmpl.Execute(w, buildPage(c, p, generated))
}

func buildPage(c *Class, p *locales.Printer, generated time.Time) *htmlPage {
	page := &htmlPage{
		Lang:      string(p.Lang),
		Generated: p.Tf("ReportGenerated", "Time", generated.Format(time.RFC3339), "Students", len(c.Students)),
	}
	col := firstStageCol
	for _, st := range c.Stages {
		page.StageHeads = append(page.StageHeads, htmlHead{Col: col,
			Label: p.Tf("ReportColStage", "Number", st.Number, "ID", st.ID), Title: st.ID + ": " + st.Title})
		col++
	}
	for _, st := range c.Stages {
		for _, step := range st.Steps {
			page.StepHeads = append(page.StepHeads, htmlHead{Col: col, Label: step.Label, Title: step.Title})
			page.Legend = append(page.Legend, htmlLegend{Label: step.Label, Title: step.Title,
				ID: st.ID + "/" + step.ID, Points: p.Tf("ReportPoints", "Max", step.Max)})
			col++
		}
	}
	page.TimeCol = col
	page.Columns = col + 1

	for i, s := range c.Students {
		page.Students = append(page.Students, buildStudent(c, s, i, p))
	}
	for _, e := range c.Rejected {
		page.Notes = append(page.Notes, e.Render(p))
	}
	for _, e := range c.Notes {
		page.Notes = append(page.Notes, e.Render(p))
	}
	return page
}

func buildStudent(c *Class, s *Student, index int, p *locales.Printer) htmlStudent {
	r := s.Report
	hs := htmlStudent{
		Index:        index,
		Name:         s.Name,
		SortName:     studentKey(s.Name),
		Score:        r.Score,
		Max:          r.Max,
		Percent:      percentText(s),
		PercentValue: -1,
		Time:         r.Time,
		Details: p.Tf("ReportHTMLMachine", "Machine", r.Machine, "Kernel", r.Kernel, "Cgroup", r.CgroupVersion,
			"Version", r.RTLabVersion, "File", s.File),
	}
	if pc, ok := s.Percent(); ok {
		hs.PercentValue, hs.PercentWidth = pc, pc
	}
	for _, st := range c.Stages {
		cell := htmlCell{Text: stageCell(s, st), Value: -1}
		if rs := s.Stage(st.ID); rs != nil && len(rs.Steps) > 0 {
			cell.Value = rs.Score
		}
		hs.StageCells = append(hs.StageCells, cell)
	}
	for _, st := range c.Stages {
		for _, col := range st.Steps {
			hs.StepCells = append(hs.StepCells, stepCell(s.Step(st.ID, col.ID), col, p))
		}
	}

	var labels []string
	for _, f := range s.Failed(c) {
		labels = append(labels, f.Label)
		hs.Failed = append(hs.Failed, htmlFailed{Label: f.Label, Title: f.Step.Title,
			Evidence: f.Step.Evidence, Expected: f.Step.Expected, Hint: f.Step.Hint})
	}
	hs.FailedCount = len(labels)
	hs.FailedLabels = strings.Join(labels, ", ")
	return hs
}

func stepCell(step *Step, col StepColumn, p *locales.Printer) htmlCell {
	switch {
	case step == nil:
		return htmlCell{Text: "–", Class: "none", Value: -1, Title: col.Title + ": " + p.T("ReportHTMLNotGraded", nil)}
	case step.Passed:
		return htmlCell{Text: "✓", Class: "pass", Value: step.Points,
			Title: col.Title + ": " + strconv.Itoa(step.Points) + "/" + strconv.Itoa(step.Max)}
	}
	return htmlCell{Text: "✗", Class: "fail", Value: 0,
		Title: col.Title + ": 0/" + strconv.Itoa(step.Max) + "\n" + strings.Join(step.Evidence, "\n")}
}
