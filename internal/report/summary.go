package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rt-lab/rt-lab/locales"
)

// SummaryFormats are the formats WriteSummary accepts.
var SummaryFormats = []string{"markdown", "csv", "html"}

// WriteSummary writes the class summary in format, with labels in p's language.
// generated is the time shown as the moment the summary was made.
func WriteSummary(w io.Writer, c *Class, format string, p *locales.Printer, generated time.Time) error {
	switch format {
	case "csv":
		return WriteClassCSV(w, c)
	case "markdown":
		return WriteClassMarkdown(w, c, p, generated)
	case "html":
		return WriteClassHTML(w, c, p, generated)
	}
	return fmt.Errorf("unknown summary format %q", format)
}

// WriteClassCSV writes one row per student. The column names are fixed English
// keys, so scripts can rely on them: the report header, the total, one column per
// stage with its score and one column per step, named STAGE/STEP, with its
// points. A step that the student's report does not grade is an empty cell.
func WriteClassCSV(w io.Writer, c *Class) error {
	header := []string{"student", "file", "time", "machine", "kernel", "cgroup_version", "rt_lab_version",
		"score", "max", "percent", "failed_steps"}
	for _, st := range c.Stages {
		header = append(header, st.ID)
	}
	for _, st := range c.Stages {
		for _, step := range st.Steps {
			header = append(header, st.ID+"/"+step.ID)
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, s := range c.Students {
		r := s.Report
		percent := ""
		if pc, ok := s.Percent(); ok {
			percent = strconv.Itoa(pc)
		}
		row := []string{s.Name, s.File, r.Time, r.Machine, r.Kernel, r.CgroupVersion, r.RTLabVersion,
			strconv.Itoa(r.Score), strconv.Itoa(r.Max), percent, strconv.Itoa(len(s.Failed(c)))}
		for _, st := range c.Stages {
			cell := ""
			if rs := s.Stage(st.ID); rs != nil && len(rs.Steps) > 0 {
				cell = strconv.Itoa(rs.Score)
			}
			row = append(row, cell)
		}
		for _, st := range c.Stages {
			for _, col := range st.Steps {
				cell := ""
				if step := s.Step(st.ID, col.ID); step != nil {
					cell = strconv.Itoa(step.Points)
				}
				row = append(row, cell)
			}
		}
		if err := cw.Write(safeCells(row)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteClassMarkdown writes a GitHub-flavoured Markdown page: the table of
// students by steps, the legend of step labels, each student's failed steps, and
// the notes about the input files.
func WriteClassMarkdown(w io.Writer, c *Class, p *locales.Printer, generated time.Time) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", p.T("ReportTitle", nil))
	fmt.Fprintf(&b, "%s\n\n", md(p.Tf("ReportGenerated", "Time", generated.Format(time.RFC3339),
		"Students", len(c.Students))))

	head := []string{p.T("ReportColStudent", nil), p.T("ReportColScore", nil), "%"}
	align := []string{"---", "---:", "---:"}
	for _, st := range c.Stages {
		head = append(head, md(p.Tf("ReportColStage", "Number", st.Number, "ID", st.ID)))
		align = append(align, "---:")
	}
	for _, st := range c.Stages {
		for _, col := range st.Steps {
			head = append(head, col.Label)
			align = append(align, ":---:")
		}
	}
	head = append(head, p.T("ReportColTime", nil))
	align = append(align, "---")
	fmt.Fprintf(&b, "| %s |\n| %s |\n", strings.Join(head, " | "), strings.Join(align, " | "))

	for _, s := range c.Students {
		row := []string{md(s.Name), fmt.Sprintf("%d/%d", s.Report.Score, s.Report.Max), percentText(s)}
		for _, st := range c.Stages {
			row = append(row, stageCell(s, st))
		}
		for _, st := range c.Stages {
			for _, col := range st.Steps {
				row = append(row, stepMark(s.Step(st.ID, col.ID)))
			}
		}
		row = append(row, md(s.Report.Time))
		fmt.Fprintf(&b, "| %s |\n", strings.Join(row, " | "))
	}

	fmt.Fprintf(&b, "\n%s\n\n", md(p.T("ReportLegend", nil)))
	for _, st := range c.Stages {
		for _, col := range st.Steps {
			fmt.Fprintf(&b, "- **%s** %s: %s (%s)\n", col.Label, md(st.ID+"/"+col.ID), md(col.Title),
				md(p.Tf("ReportPoints", "Max", col.Max)))
		}
	}

	fmt.Fprintf(&b, "\n## %s\n", p.T("ReportFailedTitle", nil))
	for _, s := range c.Students {
		failed := s.Failed(c)
		if len(failed) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n### %s\n\n", md(s.Name))
		for _, f := range failed {
			fmt.Fprintf(&b, "- **%s** %s\n", f.Label, md(f.Step.Title))
			for _, line := range f.Step.Evidence {
				fmt.Fprintf(&b, "  - %s\n", md(line))
			}
			if f.Step.Expected != "" {
				fmt.Fprintf(&b, "  - *%s* %s\n", md(p.T("ReportExpected", nil)), md(f.Step.Expected))
			}
		}
	}
	if passedAll := countPassedAll(c); passedAll > 0 {
		fmt.Fprintf(&b, "\n%s\n", md(p.Tf("ReportAllPassedCount", "Count", passedAll)))
	}

	writeMarkdownNotes(&b, c, p)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeMarkdownNotes(b *strings.Builder, c *Class, p *locales.Printer) {
	if len(c.Rejected) == 0 && len(c.Notes) == 0 {
		return
	}
	fmt.Fprintf(b, "\n## %s\n\n", p.T("ReportNotesTitle", nil))
	for _, e := range c.Rejected {
		fmt.Fprintf(b, "- %s\n", md(e.Render(p)))
	}
	for _, e := range c.Notes {
		fmt.Fprintf(b, "- %s\n", md(e.Render(p)))
	}
}

func countPassedAll(c *Class) int {
	n := 0
	for _, s := range c.Students {
		if len(s.Failed(c)) == 0 && s.Report.Max > 0 {
			n++
		}
	}
	return n
}

func percentText(s *Student) string {
	if pc, ok := s.Percent(); ok {
		return strconv.Itoa(pc)
	}
	return "–"
}

func stageCell(s *Student, st StageColumn) string {
	rs := s.Stage(st.ID)
	if rs == nil || len(rs.Steps) == 0 {
		return "–"
	}
	return fmt.Sprintf("%d/%d", rs.Score, rs.Max)
}

// stepMark returns ✓ for a passed step, ✗ for a failed one and – for a step the
// report does not grade.
func stepMark(step *Step) string {
	switch {
	case step == nil:
		return "–"
	case step.Passed:
		return "✓"
	}
	return "✗"
}

// mdEscaper escapes text from reports for a Markdown table cell or list item.
// Reports come from students, so HTML tags and Markdown markup in them are shown
// as text, and a line break or | cannot break the table.
var mdEscaper = strings.NewReplacer(
	"\\", "\\\\", "|", "\\|", "*", "\\*", "_", "\\_", "`", "\\`", "[", "\\[", "]", "\\]",
	"<", "&lt;", ">", "&gt;", "&", "&amp;", "#", "\\#", "\r\n", " ", "\n", " ", "\r", " ",
)

func md(s string) string { return mdEscaper.Replace(s) }
