package cli

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rt-lab/rt-lab/internal/report"
)

// writeFakeReport writes a report for student with one stage of two steps, the
// first `passed` of them passed, and returns its path.
func writeFakeReport(t *testing.T, dir, file, student string, passed int, at time.Time) string {
	t.Helper()
	r := report.New(at)
	r.Student, r.Machine, r.Kernel, r.CgroupVersion, r.RTLabVersion, r.Lang = student, "lab", "6.1.0", "v1", "test", "en"
	st := report.Stage{ID: "tahap-1", Number: 1, Title: "One house", Status: report.StatusReady}
	for i, id := range []string{"bangun-rumah", "ayah-pid-1"} {
		step := report.Step{ID: id, Title: "title " + id, Max: 10, Evidence: []string{"evidence " + id}}
		if i < passed {
			step.Passed, step.Points = true, 10
		} else {
			step.Expected = "needs " + id
		}
		st.Steps = append(st.Steps, step)
		st.Score += step.Points
		st.Max += step.Max
	}
	r.AddStage(st)
	path := filepath.Join(dir, file)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := report.WriteJSON(f, r); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReportUsageErrors(t *testing.T) {
	dir := t.TempDir()
	siti := writeFakeReport(t, dir, "siti.json", "Siti", 2, time.Now())
	env := map[string]string{"RT_LAB_ROOT": t.TempDir(), "RT_LAB_LANG": "en"}
	tests := []struct {
		name string
		args []string
		want []string // texts stderr must contain
	}{
		{"no files", []string{"report"}, []string{"at least one report file"}},
		{"bad format", []string{"report", siti, "--format", "pdf"}, []string{"pdf", "markdown, csv, html"}},
		{"output is a folder", []string{"report", siti, "--output", dir}, []string{dir, "is a folder"}},
		{"output folder missing", []string{"report", siti, "-o", filepath.Join(dir, "no", "kelas.html")},
			[]string{filepath.Join(dir, "no"), "does not exist"}},
		{"output is an input", []string{"report", siti, "--output", siti}, []string{siti, "destroy"}},
		{"only bad files", []string{"report", filepath.Join(dir, "missing.json"), dir},
			[]string{"missing.json", "none of the 2 files", "left out"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, env, tt.args...)
			if code != 2 {
				t.Errorf("exit status %d, want 2 (stderr %q)", code, errOut)
			}
			for _, want := range tt.want {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr %q does not contain %q", errOut, want)
				}
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
		})
	}
	if data, err := os.ReadFile(siti); err != nil || !strings.Contains(string(data), `"student": "Siti"`) {
		t.Errorf("the input report changed: %v\n%s", err, data)
	}
}

func TestReportMergesGoodFiles(t *testing.T) {
	dir := t.TempDir()
	files := []string{
		writeFakeReport(t, dir, "siti.json", "Siti", 2, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)),
		writeFakeReport(t, dir, "budi-1.json", "Budi", 0, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)),
		writeFakeReport(t, dir, "budi-2.json", "Budi", 1, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)),
	}
	env := map[string]string{"RT_LAB_ROOT": t.TempDir(), "RT_LAB_LANG": "en"}

	code, out, errOut := runCLI(t, env, append([]string{"report", "--format", "csv"}, files...)...)
	if code != 0 {
		t.Fatalf("exit status %d, want 0 (stderr %q)", code, errOut)
	}
	if !strings.Contains(errOut, "two reports for Budi: kept "+files[2]) {
		t.Errorf("stderr %q does not say which Budi report was kept", errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v\n%s", err, out)
	}
	if len(rows) != 3 || rows[1][0] != "Budi" || rows[1][7] != "10" || rows[2][0] != "Siti" || rows[2][7] != "20" {
		t.Errorf("rows = %v, want Budi with 10 points (the newer report) and Siti with 20", rows)
	}

	// A bad file is reported and left out, the rest is still written, and the
	// exit status says that something was left out.
	bad := filepath.Join(dir, "rusak.json")
	if err := os.WriteFile(bad, []byte(`{"format": "rt-lab-report", "schema": 1, "student": "An`), 0o644); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "kelas.html")
	code, out, errOut = runCLI(t, env, "--lang", "id", "report", files[0], bad, "--output", page)
	if code != 1 {
		t.Errorf("with a truncated file: exit status %d, want 1 (stderr %q)", code, errOut)
	}
	if !strings.Contains(errOut, "rusak.json") || !strings.Contains(errOut, "terpotong") {
		t.Errorf("stderr %q does not name the truncated file in Indonesian", errOut)
	}
	if out != "" {
		t.Errorf("stdout %q, want nothing with --output", out)
	}
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatalf("--output with .html: %v", err)
	}
	for _, want := range []string{`<html lang="id">`, "Siti", "Ringkasan kelas rt-lab"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("%s does not contain %q", page, want)
		}
	}

	code, out, _ = runCLI(t, env, "report", files[0])
	if code != 0 || !strings.Contains(out, "| Siti | 20/20 | 100 |") {
		t.Errorf("default format: exit status %d, output:\n%s\nwant a Markdown table", code, out)
	}
}

func TestFormatFromName(t *testing.T) {
	for name, want := range map[string]string{"": "markdown", "kelas.CSV": "csv", "a/b.html": "html",
		"x.htm": "html", "x.md": "markdown", "x.txt": "markdown"} {
		if got := formatFromName(name); got != want {
			t.Errorf("formatFromName(%q) = %q, want %q", name, got, want)
		}
	}
}
