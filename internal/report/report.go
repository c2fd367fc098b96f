// Package report reads, writes and merges the reports of `rt-lab check`. A report
// holds one student's score for every lesson step. A class summary merges many
// reports into one table, written as CSV, Markdown or a self-contained HTML page.
// The package reads no kernel state, so it builds and runs on any system.
package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Format is the value of the "format" key that marks a JSON file as an rt-lab
// report.
const Format = "rt-lab-report"

// SchemaVersion is the version of the report layout. It changes only when a key
// is removed or changes meaning, so a reader ignores keys it does not know and
// rejects a report with a higher version.
const SchemaVersion = 1

// Stage statuses in a report. An outline stage is listed with its id and title
// but has no steps and no points, because its lesson has no checks yet.
const (
	StatusReady   = "ready"
	StatusOutline = "outline"
)

// Report is the outcome of one `rt-lab check` run. docs/report-schema.json
// describes its JSON form.
type Report struct {
	Format        string  `json:"format"`
	Schema        int     `json:"schema"`
	Student       string  `json:"student"`
	Machine       string  `json:"machine"`
	Kernel        string  `json:"kernel"`
	CgroupVersion string  `json:"cgroup_version"` // "v1", "v2" or "" when unknown
	RTLabVersion  string  `json:"rt_lab_version"`
	Time          string  `json:"time"` // RFC 3339
	Lang          string  `json:"lang"` // language of the titles and evidence
	Passed        bool    `json:"passed"`
	Score         int     `json:"score"`
	Max           int     `json:"max"`
	Stages        []Stage `json:"stages"`
}

// Stage is the outcome of one lesson stage.
type Stage struct {
	ID     string `json:"id"`
	Number int    `json:"number"`
	Title  string `json:"title"`
	Status string `json:"status"`
	Score  int    `json:"score"`
	Max    int    `json:"max"`
	Steps  []Step `json:"steps"`
}

// Step is the outcome of one lesson step. Its fields and JSON keys match
// checker.StepResult, so a StepResult converts to a Step.
type Step struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Passed   bool     `json:"passed"`
	Points   int      `json:"points"`
	Max      int      `json:"max"`
	Evidence []string `json:"evidence"`
	Expected string   `json:"expected,omitempty"`
	Hint     string   `json:"hint,omitempty"`
}

// New returns an empty report with its format, schema version and time set.
func New(now time.Time) *Report {
	return &Report{
		Format: Format,
		Schema: SchemaVersion,
		Time:   now.Format(time.RFC3339),
		Passed: true,
		Stages: []Stage{},
	}
}

// AddStage appends stage and adds its score to the totals. A failed step of a
// ready stage makes the report fail.
func (r *Report) AddStage(stage Stage) {
	if stage.Steps == nil {
		stage.Steps = []Step{}
	}
	r.Stages = append(r.Stages, stage)
	r.Score += stage.Score
	r.Max += stage.Max
	for _, step := range stage.Steps {
		r.Passed = r.Passed && step.Passed
	}
}

// StepCounts returns how many graded steps passed and how many there are.
func (r *Report) StepCounts() (passed, total int) {
	for _, st := range r.Stages {
		for _, step := range st.Steps {
			total++
			if step.Passed {
				passed++
			}
		}
	}
	return passed, total
}

// ParsedTime returns the report's time.
func (r *Report) ParsedTime() (time.Time, error) {
	return time.Parse(time.RFC3339, r.Time)
}

// StageNumber returns the stage's number, taken from an id such as "tahap-3"
// when the report has none (reports written before the "number" key).
func (s *Stage) StageNumber() int {
	if s.Number > 0 {
		return s.Number
	}
	_, num, ok := strings.Cut(s.ID, "-")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// consistent returns a description of the first total that does not add up, or
// "". A report edited by hand to raise a score usually fails here.
func (r *Report) consistent() string {
	score, max := 0, 0
	for _, st := range r.Stages {
		stageScore, stageMax := 0, 0
		for _, step := range st.Steps {
			want := 0
			if step.Passed {
				want = step.Max
			}
			if step.Points != want || step.Max < 0 {
				return fmt.Sprintf("step %s/%s has %d of %d points while passed is %t",
					st.ID, step.ID, step.Points, step.Max, step.Passed)
			}
			stageScore += step.Points
			stageMax += step.Max
		}
		if st.Score != stageScore || st.Max != stageMax {
			return fmt.Sprintf("stage %s has score %d/%d but its steps add up to %d/%d",
				st.ID, st.Score, st.Max, stageScore, stageMax)
		}
		score += stageScore
		max += stageMax
	}
	if r.Score != score || r.Max != max {
		return fmt.Sprintf("the report has score %d/%d but its stages add up to %d/%d", r.Score, r.Max, score, max)
	}
	return ""
}
