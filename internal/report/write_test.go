package report

import (
	"encoding/csv"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/locales"
)

// parsedSuites is the JUnit layout as a CI viewer reads it, decoded separately
// from the types that write it.
type parsedSuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Name       string `xml:"name,attr"`
		Tests      int    `xml:"tests,attr"`
		Failures   int    `xml:"failures,attr"`
		Skipped    int    `xml:"skipped,attr"`
		Timestamp  string `xml:"timestamp,attr"`
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct {
				Text string `xml:",chardata"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnitParsesBack(t *testing.T) {
	r := fakeReport(`Siti "<&>"`, 3, at(0))
	var b strings.Builder
	if err := WriteJUnit(&b, r, locales.For(locales.EN)); err != nil {
		t.Fatal(err)
	}
	var got parsedSuites
	if err := xml.Unmarshal([]byte(b.String()), &got); err != nil {
		t.Fatalf("JUnit output does not parse: %v\n%s", err, b.String())
	}
	if !strings.HasPrefix(b.String(), `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("no XML declaration:\n%s", b.String())
	}
	if got.Tests != 6 || got.Failures != 2 {
		t.Errorf("totals tests=%d failures=%d, want 6, 2", got.Tests, got.Failures)
	}
	if len(got.Suites) != 2 {
		t.Fatalf("%d test suites, want one per stage (2)", len(got.Suites))
	}
	if got.Suites[0].Skipped != 0 || got.Suites[1].Skipped != 1 {
		t.Errorf("skipped per suite = %d, %d; want 0 and 1 (the outline stage)", got.Suites[0].Skipped, got.Suites[1].Skipped)
	}

	stage := got.Suites[0]
	if stage.Tests != 5 || stage.Failures != 2 || len(stage.Cases) != 5 {
		t.Errorf("tahap-1 suite: tests=%d failures=%d cases=%d, want 5, 2, 5", stage.Tests, stage.Failures, len(stage.Cases))
	}
	if stage.Timestamp != "2026-03-02T09:00:00" {
		t.Errorf("timestamp = %q, want 2026-03-02T09:00:00", stage.Timestamp)
	}
	props := map[string]string{}
	for _, p := range stage.Properties {
		props[p.Name] = p.Value
	}
	for key, want := range map[string]string{"student": `Siti "<&>"`, "kernel": "6.1.0-test",
		"cgroup_version": "v1", "rt_lab_version": "0.1.0-test", "score": "30", "max": "50"} {
		if props[key] != want {
			t.Errorf("property %s = %q, want %q", key, props[key], want)
		}
	}
	failed := stage.Cases[4]
	if failed.Failure == nil {
		t.Fatalf("case %q has no failure", failed.Name)
	}
	for _, want := range []string{"no process named sleep", "Needed: a sleep process", "Hint: run sleep"} {
		if !strings.Contains(failed.Failure.Text, want) {
			t.Errorf("failure text %q does not contain %q", failed.Failure.Text, want)
		}
	}
	if failed.Classname != "tahap-1" || !strings.HasPrefix(failed.Name, "telepon-rumah: ") {
		t.Errorf("case = %s / %s, want tahap-1 / telepon-rumah: ...", failed.Classname, failed.Name)
	}
	if stage.Cases[0].Failure != nil {
		t.Errorf("passed case %q has a failure", stage.Cases[0].Name)
	}
	if outline := got.Suites[1]; len(outline.Cases) != 1 || outline.Cases[0].Skipped == nil {
		t.Errorf("outline stage suite = %+v, want one skipped case", outline)
	} else if want := locales.For(locales.EN).T("ReportStageOutline", nil); outline.Cases[0].Skipped.Text != want {
		t.Errorf("skipped text = %q, want %q", outline.Cases[0].Skipped.Text, want)
	}
}

func TestCSVOneRowPerStep(t *testing.T) {
	r := fakeReport("=HYPERLINK(\"http://x\")", 1, at(0))
	var b strings.Builder
	if err := WriteCSV(&b, r); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Fatalf("%d rows, want a header and 5 steps", len(rows))
	}
	if strings.Join(rows[0], ",") != strings.Join(csvHeader, ",") {
		t.Errorf("header = %v", rows[0])
	}
	if rows[1][0] != `'=HYPERLINK("http://x")` {
		t.Errorf("student cell %q: a formula must be quoted with '", rows[1][0])
	}
	if got := rows[1][6:12]; strings.Join(got, ",") != "tahap-1,bangun-rumah,Build the house,true,10,10" {
		t.Errorf("first step row = %v", got)
	}
	if got := rows[5][9:12]; strings.Join(got, ",") != "false,0,10" {
		t.Errorf("last step row = %v, want failed 0/10", got)
	}
	if !strings.Contains(rows[5][12], " | ") {
		t.Errorf("evidence cell %q does not join the lines with |", rows[5][12])
	}
}

func TestSafeCellsKeepsNumbers(t *testing.T) {
	got := safeCells([]string{"-5", "-x", "+1", "@a", "plain", ""})
	want := []string{"-5", "'-x", "+1", "'@a", "plain", ""}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("cell %q became %q, want %q", []string{"-5", "-x", "+1", "@a", "plain", ""}[i], got[i], want[i])
		}
	}
}
