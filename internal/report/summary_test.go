package report

import (
	"encoding/csv"
	"regexp"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/locales"
)

// fakeClass returns a class of three students (all five steps, three, none), a
// rejected file and a note.
func fakeClass(t *testing.T) *Class {
	t.Helper()
	dir := t.TempDir()
	return LoadClass([]string{
		writeReport(t, dir, "siti.json", fakeReport("Siti Aminah", 5, at(1))),
		writeReport(t, dir, "budi.json", fakeReport("Budi | <b>Santoso</b>", 3, at(2))),
		writeReport(t, dir, "citra.json", fakeReport("Citra", 0, at(3))),
		writeFile(t, dir, "rusak.json", []byte(`{"format": "rt-lab-report",`)),
	})
}

func TestClassCSV(t *testing.T) {
	var b strings.Builder
	if err := WriteClassCSV(&b, fakeClass(t)); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("%d rows, want a header and 3 students", len(rows))
	}
	header := strings.Join(rows[0], ",")
	if !strings.HasPrefix(header, "student,file,time,machine,kernel,cgroup_version,rt_lab_version,score,max,percent,failed_steps,tahap-1,tahap-1/bangun-rumah,") {
		t.Errorf("header = %s", header)
	}
	want := map[string]string{"Budi | <b>Santoso</b>": "30,50,60,2,30,10,10,10,0,0", "Citra": "0,50,0,5,0,0,0,0,0,0",
		"Siti Aminah": "50,50,100,0,50,10,10,10,10,10"}
	for _, row := range rows[1:] {
		if got := strings.Join(row[7:], ","); got != want[row[0]] {
			t.Errorf("%s: scores %s, want %s", row[0], got, want[row[0]])
		}
	}
}

func TestClassMarkdown(t *testing.T) {
	var b strings.Builder
	if err := WriteClassMarkdown(&b, fakeClass(t), locales.For(locales.EN), at(30)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"# rt-lab class summary",
		"| Student | Score | % | Stage 1 | 1.1 | 1.2 | 1.3 | 1.4 | 1.5 | Checked at |",
		"| Budi \\| &lt;b&gt;Santoso&lt;/b&gt; | 30/50 | 60 | 30/50 | ✓ | ✓ | ✓ | ✗ | ✗ |",
		"| Citra | 0/50 | 0 |",
		"- **1.4** tahap-1/nama-rumah: The house name (10 points)",
		"### Citra",
		"  - *Needed:* a sleep process in house rumah-jakarta",
		"Students who passed every step their report grades: 1.",
		"rusak.json ends in the middle of the JSON",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Markdown does not contain %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "### Siti") {
		t.Errorf("Siti passed every step but has a failed-steps section:\n%s", out)
	}
	table := regexp.MustCompile(`(?m)^\|.*\|$`).FindAllString(out, -1)
	for _, line := range table {
		if cells := len(regexp.MustCompile(`[^\\]\|`).FindAllString(line, -1)); cells != 10 {
			t.Errorf("table line has %d cell borders, want 10: %s", cells, line)
		}
	}
}

func TestClassHTMLIsSelfContained(t *testing.T) {
	for _, lang := range locales.Langs {
		var b strings.Builder
		if err := WriteClassHTML(&b, fakeClass(t), locales.For(lang), at(30)); err != nil {
			t.Fatal(err)
		}
		page := b.String()
		if !strings.Contains(page, `<html lang="`+string(lang)+`">`) {
			t.Errorf("%s page has no lang attribute %q", lang, lang)
		}
		title := locales.For(lang).T("ReportTitle", nil)
		if !strings.Contains(page, "<title>"+title+"</title>") {
			t.Errorf("%s page title is not %q", lang, title)
		}
		for _, bad := range []string{"<b>Santoso", `src="`, "<link", "@import", "url(", "http://", "https://"} {
			if strings.Contains(page, bad) {
				t.Errorf("%s page contains %q: untrusted text unescaped or an outside asset", lang, bad)
			}
		}
		if !strings.Contains(page, "Budi | &lt;b&gt;Santoso&lt;/b&gt;") {
			t.Errorf("%s page does not show the escaped name", lang)
		}
		if n := strings.Count(page, `<tbody class="student"`); n != 3 {
			t.Errorf("%s page has %d student rows, want 3", lang, n)
		}
	}
}
