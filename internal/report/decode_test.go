package report

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/locales"
)

func TestDecodeRejectsBadInput(t *testing.T) {
	good, err := json.Marshal(fakeReport("Siti", 3, at(0)))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(change func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		change(m)
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	tests := []struct {
		name string
		data string
		id   string // expected message id
	}{
		{"empty file", "  \n", "ErrReportEmpty"},
		{"not JSON", "student,score\nSiti,30\n", "ErrReportNotJSON"},
		{"truncated", string(good[:len(good)/2]), "ErrReportTruncated"},
		{"data after object", string(good) + "{}", "ErrReportNotJSON"},
		{"array", "[1, 2]", "ErrReportNotRTLab"},
		{"null", "null", "ErrReportNotRTLab"},
		{"other JSON object", `{"name": "x", "version": 1}`, "ErrReportNotRTLab"},
		{"other format", edit(func(m map[string]any) { m["format"] = "junit" }), "ErrReportNotRTLab"},
		{"schema as text", edit(func(m map[string]any) { m["schema"] = "rt-lab-report/1" }), "ErrReportNotRTLab"},
		{"schema zero", edit(func(m map[string]any) { m["schema"] = 0 }), "ErrReportNotRTLab"},
		{"newer schema", edit(func(m map[string]any) { m["schema"] = SchemaVersion + 1 }), "ErrReportNewer"},
		{"score as text", edit(func(m map[string]any) { m["score"] = "30" }), "ErrReportInvalid"},
		{"no stages", edit(func(m map[string]any) { delete(m, "stages") }), "ErrReportInvalid"},
		{"bad time", edit(func(m map[string]any) { m["time"] = "yesterday" }), "ErrReportInvalid"},
		{"raised total", edit(func(m map[string]any) { m["score"] = 50 }), "ErrReportInconsistent"},
		{"raised stage", edit(func(m map[string]any) {
			m["stages"].([]any)[0].(map[string]any)["score"] = 50
		}), "ErrReportInconsistent"},
		{"points on failed step", edit(func(m map[string]any) {
			steps := m["stages"].([]any)[0].(map[string]any)["steps"].([]any)
			steps[4].(map[string]any)["points"] = 10
		}), "ErrReportInconsistent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode("laporan/siti.json", []byte(tt.data))
			if !usererr.Is(err, tt.id) {
				t.Fatalf("error = %v, want message %s", err, tt.id)
			}
			if usererr.ExitCode(err) != usererr.ExitUsage {
				t.Errorf("exit status %d, want %d", usererr.ExitCode(err), usererr.ExitUsage)
			}
			for _, lang := range locales.Langs {
				msg := usererr.Render(err, locales.For(lang))
				if !strings.Contains(msg, "laporan/siti.json") {
					t.Errorf("%s message %q does not name the file", lang, msg)
				}
				if strings.Contains(msg, "<no value>") || strings.Contains(msg, tt.id) {
					t.Errorf("%s message %q has a missing field or no translation", lang, msg)
				}
			}
		})
	}
}

func TestDecodeAcceptsReportWithoutFormatKey(t *testing.T) {
	// The layout rt-lab check wrote before the "format", "number", "status" and
	// "cgroup_version" keys existed.
	old := `{"schema": 1, "student": "Budi", "machine": "lab-3", "kernel": "6.1.0",
		"rt_lab_version": "0.1.0", "time": "2026-03-02T09:00:00+07:00", "lang": "id",
		"passed": false, "score": 10, "max": 20, "stages": [{"id": "tahap-1", "title": "Satu rumah",
		"score": 10, "max": 20, "steps": [
			{"id": "a", "title": "A", "passed": true, "points": 10, "max": 10, "evidence": []},
			{"id": "b", "title": "B", "passed": false, "points": 0, "max": 10, "evidence": ["x"], "hint": "h"}]}]}`
	r, err := Decode("budi.json", []byte(old))
	if err != nil {
		t.Fatal(err)
	}
	if r.Format != Format {
		t.Errorf("format = %q, want %q", r.Format, Format)
	}
	if r.Stages[0].Status != StatusReady {
		t.Errorf("stage status = %q, want %q", r.Stages[0].Status, StatusReady)
	}
	if n := r.Stages[0].StageNumber(); n != 1 {
		t.Errorf("stage number from id = %d, want 1", n)
	}
}

func TestDecodeIgnoresUnknownKeys(t *testing.T) {
	data, err := json.Marshal(fakeReport("Siti", 2, at(0)))
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.Replace(string(data), `{"format"`, `{"signature": "abc", "format"`, 1))
	r, err := Decode("siti.json", data)
	if err != nil {
		t.Fatal(err)
	}
	if r.Score != 20 {
		t.Errorf("score = %d, want 20", r.Score)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	want := fakeReport("Siti", 4, at(5))
	var b strings.Builder
	if err := WriteJSON(&b, want); err != nil {
		t.Fatal(err)
	}
	got, err := Decode("siti.json", []byte(b.String()))
	if err != nil {
		t.Fatalf("decode what WriteJSON wrote: %v\n%s", err, b.String())
	}
	if got.Student != want.Student || got.Score != 40 || got.Max != 50 || got.Passed {
		t.Errorf("round trip = %s %d/%d passed %t, want Siti 40/50 not passed", got.Student, got.Score, got.Max, got.Passed)
	}
	if len(got.Stages) != 2 || got.Stages[1].Status != StatusOutline || got.Stages[1].Max != 0 {
		t.Errorf("stages = %+v, want tahap-1 and an outline tahap-2 with max 0", got.Stages)
	}
	for _, key := range []string{`"format": "rt-lab-report"`, `"schema": 1`, `"cgroup_version": "v1"`, `"status": "outline"`} {
		if !strings.Contains(b.String(), key) {
			t.Errorf("JSON has no %s", key)
		}
	}
}
