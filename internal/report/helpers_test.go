package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fakeStep returns a step result; a failed step has evidence, what it needs and
// a hint, as the checker writes them.
func fakeStep(id, title string, passed bool) Step {
	s := Step{ID: id, Title: title, Passed: passed, Max: 10, Evidence: []string{"saw " + id}}
	if passed {
		s.Points = 10
		return s
	}
	s.Evidence = append(s.Evidence, "no process named sleep in house rumah-jakarta")
	s.Expected = "a sleep process in house rumah-jakarta"
	s.Hint = "run sleep 1000 & inside the house"
	return s
}

// fakeReport returns a report for student that passed the first `passed` of the
// five steps of tahap-1, with tahap-2 as an outline stage.
func fakeReport(student string, passed int, at time.Time) *Report {
	r := New(at)
	r.Student, r.Machine, r.Kernel, r.CgroupVersion = student, "lab-"+student, "6.1.0-test", "v1"
	r.RTLabVersion, r.Lang = "0.1.0-test", "en"
	ids := []string{"bangun-rumah", "ayah-pid-1", "keluarga", "nama-rumah", "telepon-rumah"}
	titles := []string{"Build the house", "Father is PID 1", "The family", "The house name", "The house phone"}
	st := Stage{ID: "tahap-1", Number: 1, Title: "One house", Status: StatusReady}
	for i, id := range ids {
		step := fakeStep(id, titles[i], i < passed)
		st.Steps = append(st.Steps, step)
		st.Score += step.Points
		st.Max += step.Max
	}
	r.AddStage(st)
	r.AddStage(Stage{ID: "tahap-2", Number: 2, Title: "Walls", Status: StatusOutline})
	return r
}

// writeReport writes r as JSON to dir/name and returns the path.
func writeReport(t *testing.T, dir, name string, r *Report) string {
	t.Helper()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, name, data)
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// at returns a fixed time on 2 March 2026, plus minutes.
func at(minutes int) time.Time {
	return time.Date(2026, 3, 2, 9, minutes, 0, 0, time.FixedZone("WIB", 7*3600))
}
