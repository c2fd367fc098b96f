package report

import (
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rt-lab/rt-lab/locales"
)

// WriteJSON writes r as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// csvHeader are the columns of WriteCSV: one row per graded step, each row with
// the report's header fields so that rows of many reports can be concatenated.
var csvHeader = []string{"student", "machine", "kernel", "cgroup_version", "rt_lab_version", "time",
	"stage", "step", "title", "passed", "points", "max", "evidence", "expected", "hint"}

// WriteCSV writes one row per graded step of r. Evidence lines are joined with
// " | ".
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, st := range r.Stages {
		for _, step := range st.Steps {
			row := []string{r.Student, r.Machine, r.Kernel, r.CgroupVersion, r.RTLabVersion, r.Time,
				st.ID, step.ID, step.Title, strconv.FormatBool(step.Passed), strconv.Itoa(step.Points),
				strconv.Itoa(step.Max), strings.Join(step.Evidence, " | "), step.Expected, step.Hint}
			if err := cw.Write(safeCells(row)); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// safeCells prefixes a cell that starts with =, +, -, @, tab or carriage return
// with an apostrophe. Spreadsheets run such a cell as a formula, and the text of
// a report (a student name, evidence from the student's machine) is not trusted.
func safeCells(row []string) []string {
	out := make([]string, len(row))
	for i, cell := range row {
		if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
			if _, err := strconv.Atoi(cell); err != nil {
				cell = "'" + cell
			}
		}
		out[i] = cell
	}
	return out
}

// JUnit XML elements, in the layout that Jenkins, GitLab and the Ant JUnit task
// read: <testsuites> with one <testsuite> per stage and one <testcase> per step.
// The output validates against Jenkins' JUnit schema (jenkins-junit.xsd), which
// allows a skipped count only on <testsuite> and no attributes on <skipped>.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Hostname   string          `xml:"hostname,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// junitSkipped holds the reason as text, not in a message attribute, which
// Jenkins' schema does not allow.
type junitSkipped struct {
	Message string `xml:",chardata"`
}

// WriteJUnit writes r as JUnit XML, with the labels in p's language. A failed
// step is a <failure> whose text holds the evidence, what the step needs and the
// hint. An outline stage is one skipped test case, because it has no checks yet.
func WriteJUnit(w io.Writer, r *Report, p *locales.Printer) error {
	student := r.Student
	if student == "" {
		student = p.T("ReportNoStudent", nil)
	}
	suites := junitSuites{Name: p.Tf("ReportJUnitName", "Student", student)}
	for _, st := range r.Stages {
		suite := junitSuite{
			Name:      st.ID + ": " + st.Title,
			Time:      "0",
			Timestamp: junitTimestamp(r.Time),
			Hostname:  r.Machine,
			Properties: []junitProperty{
				{"student", r.Student}, {"machine", r.Machine}, {"kernel", r.Kernel},
				{"cgroup_version", r.CgroupVersion}, {"rt_lab_version", r.RTLabVersion}, {"time", r.Time},
				{"status", st.Status}, {"score", strconv.Itoa(st.Score)}, {"max", strconv.Itoa(st.Max)},
			},
		}
		if st.Status == StatusOutline {
			suite.Tests, suite.Skipped = 1, 1
			suite.Cases = append(suite.Cases, junitCase{Name: st.ID, Classname: st.ID, Time: "0",
				Skipped: &junitSkipped{Message: p.T("ReportStageOutline", nil)}})
		}
		for _, step := range st.Steps {
			suite.Tests++
			c := junitCase{
				Name:      fmt.Sprintf("%s: %s [%d/%d]", step.ID, step.Title, step.Points, step.Max),
				Classname: st.ID,
				Time:      "0",
				SystemOut: strings.Join(step.Evidence, "\n"),
			}
			if !step.Passed {
				suite.Failures++
				c.Failure = &junitFailure{Message: firstLine(step.Expected), Type: "step-failed",
					Text: failureText(step, p)}
			}
			suite.Cases = append(suite.Cases, c)
		}
		suites.Tests += suite.Tests
		suites.Failures += suite.Failures
		suites.Suites = append(suites.Suites, suite)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(suites); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// failureText returns the body of a failed step's <failure>: the evidence, then
// what the step needs and its hint, each under its label.
func failureText(step Step, p *locales.Printer) string {
	var b strings.Builder
	for _, line := range step.Evidence {
		b.WriteString(line + "\n")
	}
	if step.Expected != "" {
		b.WriteString(p.T("ReportExpected", nil) + " " + step.Expected + "\n")
	}
	if step.Hint != "" {
		b.WriteString(p.T("ReportHint", nil) + " " + step.Hint + "\n")
	}
	return b.String()
}

// junitTimestamp converts an RFC 3339 time to the JUnit form, which has no zone
// offset; the time stays the student's local time.
func junitTimestamp(rfc3339 string) string {
	t, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		return ""
	}
	return t.Format("2006-01-02T15:04:05")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
