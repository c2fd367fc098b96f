package report

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

func TestLoadClassMergesAndReportsFiles(t *testing.T) {
	dir := t.TempDir()
	noName := fakeReport("", 2, at(0))
	files := []string{
		writeReport(t, dir, "siti.json", fakeReport("Siti Aminah", 5, at(10))),
		writeReport(t, dir, "budi-old.json", fakeReport("Budi", 1, at(0))),
		writeReport(t, dir, "budi.json", fakeReport("budi ", 4, at(20))),
		writeReport(t, dir, "budi-older.json", fakeReport("BUDI", 0, at(5))),
		writeReport(t, dir, "ani-lab3.json", noName),
		writeFile(t, dir, "cut.json", []byte(`{"format": "rt-lab-report", "schema": 1, "stu`)),
		writeFile(t, dir, "notes.txt", []byte("not a report\n")),
		filepath.Join(dir, "missing.json"),
	}
	c := LoadClass(files)

	var names []string
	for _, s := range c.Students {
		names = append(names, s.Name+"="+filepath.Base(s.File))
	}
	if got := strings.Join(names, " "); got != "ani-lab3=ani-lab3.json budi=budi.json Siti Aminah=siti.json" {
		t.Errorf("students = %s; want ani-lab3 (file name), the newest budi and Siti Aminah, sorted", got)
	}

	var rejected []string
	for _, e := range c.Rejected {
		rejected = append(rejected, e.ID)
	}
	if got := strings.Join(rejected, " "); got != "ErrReportTruncated ErrReportNotJSON ErrReportRead" {
		t.Errorf("rejected = %s, want truncated, not JSON and unreadable in file order", got)
	}

	var notes []string
	for _, e := range c.Notes {
		notes = append(notes, e.Error())
	}
	if len(notes) != 3 {
		t.Fatalf("notes = %q, want one for the missing name and two for the duplicates", notes)
	}
	if !strings.Contains(notes[0], "ani-lab3.json has no student name") {
		t.Errorf("note %q does not name the file without a student", notes[0])
	}
	for _, n := range notes[1:] {
		if !strings.Contains(n, "kept "+files[2]) {
			t.Errorf("duplicate note %q does not keep the newest report %s", n, files[2])
		}
	}
	if !strings.Contains(notes[1], files[1]) || !strings.Contains(notes[2], files[3]) {
		t.Errorf("duplicate notes %q do not name the older files", notes[1:])
	}
}

func TestLoadClassColumns(t *testing.T) {
	dir := t.TempDir()
	later := fakeReport("Rina", 5, at(0))
	later.Stages[1] = Stage{ID: "tahap-2", Number: 2, Title: "Walls", Status: StatusReady, Score: 0, Max: 10,
		Steps: []Step{fakeStep("rak", "Shelves", false)}}
	later.Max += 10
	later.Passed = false
	c := LoadClass([]string{
		writeReport(t, dir, "rina.json", later),
		writeReport(t, dir, "siti.json", fakeReport("Siti", 2, at(0))),
	})
	if len(c.Rejected) > 0 {
		t.Fatalf("rejected: %v", c.Rejected)
	}
	if len(c.Stages) != 2 || c.Stages[0].ID != "tahap-1" || c.Stages[1].ID != "tahap-2" {
		t.Fatalf("stages = %+v, want tahap-1 and tahap-2", c.Stages)
	}
	if got := c.Stages[0].Steps[1].Label; got != "1.2" {
		t.Errorf("label of tahap-1's second step = %q, want 1.2", got)
	}
	if got := c.Stages[1].Steps[0].Label; got != "2.1" {
		t.Errorf("label of tahap-2's first step = %q, want 2.1", got)
	}

	siti := c.Students[1]
	if siti.Step("tahap-2", "rak") != nil {
		t.Errorf("Siti's report has tahap-2 as an outline, but Step returned a result")
	}
	if pc, ok := siti.Percent(); !ok || pc != 40 {
		t.Errorf("Siti's percent = %d, %t; want 40", pc, ok)
	}
	var failed []string
	for _, f := range c.Students[0].Failed(c) {
		failed = append(failed, f.Label)
	}
	if strings.Join(failed, ",") != "2.1" {
		t.Errorf("Rina's failed steps = %v, want [2.1]", failed)
	}
}

func TestLoadClassRejectsEveryBadFile(t *testing.T) {
	dir := t.TempDir()
	newer := fakeReport("Siti", 1, at(0))
	newer.Schema = SchemaVersion + 1
	c := LoadClass([]string{writeReport(t, dir, "siti.json", newer), dir})
	if len(c.Students) != 0 {
		t.Errorf("%d students merged from bad files", len(c.Students))
	}
	if len(c.Rejected) != 2 || !usererr.Is(c.Rejected[0], "ErrReportNewer") || !usererr.Is(c.Rejected[1], "ErrReportRead") {
		t.Errorf("rejected = %v, want a newer schema and an unreadable folder", c.Rejected)
	}
}
