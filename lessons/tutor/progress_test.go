package tutor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/lessons"
)

// threeSteps is a ready stage with steps a, b and c worth 10, 20 and 30 points.
func threeSteps() *lessons.Stage {
	st := &lessons.Stage{ID: "tahap-1", Number: 1, Status: lessons.StatusReady}
	for i, id := range []string{"a", "b", "c"} {
		st.Steps = append(st.Steps, &lessons.Step{ID: id, Points: 10 * (i + 1),
			Hints: []lessons.Text{{ID: "h1", EN: "h1"}, {ID: "h2", EN: "h2"}}})
	}
	return st
}

func TestProgressMissingFileIsEmpty(t *testing.T) {
	p, err := LoadProgress(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != ProgressVersion || len(p.Stages) != 0 || p.CurrentStage != "" {
		t.Errorf("progress = %+v, want empty at version %d", p, ProgressVersion)
	}
}

func TestProgressRoundTrip(t *testing.T) {
	root := filepath.Join(t.TempDir(), "not-yet-created")
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	want := &Progress{CurrentStage: "tahap-1"}
	sp := want.Stage("tahap-1")
	sp.CurrentStep = "b"
	*sp.Step("a") = StepProgress{Done: true, How: HowChecked, Points: 10, HintsShown: 2, At: at}
	*sp.Step("b") = StepProgress{How: HowSkipped, At: at}
	if err := want.Save(root); err != nil {
		t.Fatal(err)
	}

	got, err := LoadProgress(root)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != ProgressVersion {
		t.Errorf("version = %d, want %d", got.Version, ProgressVersion)
	}
	if got.CurrentStage != "tahap-1" || got.Stages["tahap-1"].CurrentStep != "b" {
		t.Errorf("current = %s/%s, want tahap-1/b", got.CurrentStage, got.Stages["tahap-1"].CurrentStep)
	}
	if a := got.Lookup("tahap-1", "a"); a != *sp.Steps["a"] {
		t.Errorf("step a = %+v, want %+v", a, *sp.Steps["a"])
	}
	if b := got.Lookup("tahap-1", "b"); b != *sp.Steps["b"] {
		t.Errorf("step b = %+v, want %+v", b, *sp.Steps["b"])
	}
	if c := got.Lookup("tahap-1", "c"); c != (StepProgress{}) {
		t.Errorf("step c = %+v, want the zero value", c)
	}
}

func TestProgressFileHasVersionField(t *testing.T) {
	root := t.TempDir()
	if err := (&Progress{}).Save(root); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(ProgressPath(root))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"version": 1`) {
		t.Errorf("progress.json = %s, want a version field", data)
	}
}

func TestProgressCorruptFileKept(t *testing.T) {
	tests := []struct {
		name    string
		content string
		msgID   string
	}{
		{"not JSON", "{\"version\": 1, \"stages\": {", "ErrProgressCorrupt"},
		{"truncated to nothing", "", "ErrProgressCorrupt"},
		{"no version", `{"current_stage": "tahap-1"}`, "ErrProgressCorrupt"},
		{"wrong type", `{"version": "one"}`, "ErrProgressCorrupt"},
		{"two objects", `{"version": 1} {"version": 1}`, "ErrProgressCorrupt"},
		{"newer version", `{"version": 99}`, "ErrProgressNewer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			path := ProgressPath(root)
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}

			_, err := LoadProgress(root)
			if !usererr.Is(err, tt.msgID) {
				t.Fatalf("LoadProgress error = %v, want %s", err, tt.msgID)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			// The reset command is added by the command line, which has the
			// state folder (see internal/cli errorFix).
			if !strings.Contains(err.Error(), "by hand") && !strings.Contains(err.Error(), "newer rt-lab") {
				t.Errorf("error %q does not name the fix", err)
			}

			_, err = UpdateProgress(root, func(p *Progress) error { p.CurrentStage = "tahap-2"; return nil })
			if !usererr.Is(err, tt.msgID) {
				t.Errorf("UpdateProgress error = %v, want %s", err, tt.msgID)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != tt.content {
				t.Errorf("the damaged file was changed to %q", data)
			}
		})
	}
}

func TestUpdateProgressSavesOnlyOnSuccess(t *testing.T) {
	root := t.TempDir()
	if _, err := UpdateProgress(root, func(p *Progress) error { p.CurrentStage = "tahap-1"; return nil }); err != nil {
		t.Fatal(err)
	}
	stop := usererr.New(usererr.Usage, "ErrHintNone", "Step", "x")
	if _, err := UpdateProgress(root, func(p *Progress) error { p.CurrentStage = "tahap-2"; return stop }); err != stop {
		t.Fatalf("UpdateProgress error = %v, want the change's error", err)
	}
	p, err := LoadProgress(root)
	if err != nil {
		t.Fatal(err)
	}
	if p.CurrentStage != "tahap-1" {
		t.Errorf("current stage = %q after a failed change, want tahap-1", p.CurrentStage)
	}
}

func TestResumeIndex(t *testing.T) {
	stage := threeSteps()
	now := time.Now()
	tests := []struct {
		name string
		set  func(p *Progress)
		want int
	}{
		{"fresh", func(p *Progress) {}, 0},
		{"first done", func(p *Progress) { p.finish(stage, 0, HowChecked, 10, now) }, 1},
		{"first skipped", func(p *Progress) { p.finish(stage, 0, HowSkipped, 0, now) }, 1},
		{"all passed", func(p *Progress) {
			for i := range stage.Steps {
				p.finish(stage, i, HowSolution, 1, now)
			}
		}, -1},
		{"skipped first, finished the rest", func(p *Progress) {
			p.finish(stage, 0, HowSkipped, 0, now)
			p.finish(stage, 1, HowChecked, 20, now)
			p.finish(stage, 2, HowChecked, 30, now)
		}, 0},
		{"saved step unknown", func(p *Progress) {
			p.finish(stage, 0, HowChecked, 10, now)
			p.Stage(stage.ID).CurrentStep = "removed-step"
		}, 1},
		{"saved step already done", func(p *Progress) {
			p.finish(stage, 1, HowChecked, 20, now)
			p.Stage(stage.ID).CurrentStep = "b"
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Progress{Version: ProgressVersion}
			tt.set(p)
			if got := p.ResumeIndex(stage); got != tt.want {
				t.Errorf("ResumeIndex = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestFinishAndScore(t *testing.T) {
	stage := threeSteps()
	p := &Progress{Version: ProgressVersion}
	now := time.Now()
	p.finish(stage, 0, HowChecked, 10, now)
	p.finish(stage, 1, HowSkipped, 20, now)
	p.finish(stage, 2, HowSolution, 30, now)

	points, max, done := p.Score(stage)
	if points != 40 || max != 60 || done != 2 {
		t.Errorf("Score = %d, %d, %d; want 40, 60, 2", points, max, done)
	}
	if b := p.Lookup(stage.ID, "b"); b.Done || b.Points != 0 || b.How != HowSkipped {
		t.Errorf("skipped step = %+v, want not done, no points", b)
	}
	if sp := p.Stages[stage.ID]; sp.CurrentStep != "" {
		t.Errorf("current step after the last = %q, want empty", sp.CurrentStep)
	}
	if got := p.ResumeIndex(stage); got != 1 {
		t.Errorf("ResumeIndex = %d, want 1 (the skipped step)", got)
	}
}

func TestTakeHintCountsAndStops(t *testing.T) {
	root := t.TempDir()
	stage := threeSteps()
	for i, want := range []struct {
		number int
		last   bool
	}{{1, false}, {2, true}, {2, true}} {
		taken, err := TakeHint(root, stage)
		if err != nil {
			t.Fatal(err)
		}
		if taken.Step != 0 || taken.Number != want.number || taken.Last != want.last || taken.SaveErr != nil {
			t.Errorf("call %d: %+v, want step 0, hint %d, last %v", i+1, taken, want.number, want.last)
		}
	}
	p, err := LoadProgress(root)
	if err != nil {
		t.Fatal(err)
	}
	if n := p.Lookup(stage.ID, "a").HintsShown; n != 2 {
		t.Errorf("hints shown = %d, want 2", n)
	}
}

func TestTakeHintStageDone(t *testing.T) {
	root := t.TempDir()
	stage := threeSteps()
	if _, err := UpdateProgress(root, func(p *Progress) error {
		for i := range stage.Steps {
			p.finish(stage, i, HowChecked, 1, time.Now())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := TakeHint(root, stage); !usererr.Is(err, "ErrHintStageDone") {
		t.Errorf("TakeHint error = %v, want ErrHintStageDone", err)
	}
}

// A progress file that cannot be saved (as for a student without sudo) still
// gives the hint. A folder in place of the lock file makes saving fail even for
// root.
func TestTakeHintCannotSave(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(progressLockPath(root), 0o755); err != nil {
		t.Fatal(err)
	}
	taken, err := TakeHint(root, threeSteps())
	if err != nil {
		t.Fatal(err)
	}
	if taken.Number != 1 || taken.SaveErr == nil {
		t.Errorf("taken = %+v, want hint 1 with a save error", taken)
	}
}
