package tutor

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/rt-lab/rt-lab/internal/fsutil"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/lessons"
)

// ProgressVersion is the schema version of progress.json. A file with a newer
// version is rejected rather than rewritten, so an older rt-lab never drops fields
// it does not know.
const ProgressVersion = 1

// How tells how a step was finished or left.
type How string

// Ways a step ends.
const (
	HowChecked  How = "checked"  // the student's own work passed the checks
	HowSolution How = "solution" // rt-lab ran the solution, then the checks passed
	HowSkipped  How = "skipped"  // the student moved on without passing
)

// Progress is a student's progress in one root folder (ROOT/progress.json).
type Progress struct {
	Version      int                       `json:"version"`
	CurrentStage string                    `json:"current_stage,omitempty"`
	Stages       map[string]*StageProgress `json:"stages,omitempty"`
}

// StageProgress is the progress in one stage.
type StageProgress struct {
	CurrentStep string                   `json:"current_step,omitempty"`
	Steps       map[string]*StepProgress `json:"steps,omitempty"`
}

// StepProgress is the progress in one step.
type StepProgress struct {
	Done       bool      `json:"done"`
	How        How       `json:"how,omitempty"`
	Points     int       `json:"points,omitempty"` // awarded when the checks passed
	HintsShown int       `json:"hints_shown,omitempty"`
	Answer     string    `json:"answer,omitempty"` // a question step's last answer
	At         time.Time `json:"at,omitzero"`      // when Done or How last changed
}

// ProgressPath returns the progress file of root.
func ProgressPath(root string) string { return filepath.Join(root, "progress.json") }

func progressLockPath(root string) string { return filepath.Join(root, "progress.lock") }

// LoadProgress reads ROOT/progress.json. A missing file is empty progress. A file
// that does not parse, lacks its version or comes from a newer rt-lab is an error
// that names the path and the fix, and the file is left as it is.
func LoadProgress(root string) (*Progress, error) {
	path := ProgressPath(root)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Progress{Version: ProgressVersion}, nil
	}
	if err != nil {
		return nil, usererr.Wrap(err, usererr.Failed, "ErrProgressRead", "Path", path)
	}
	return parseProgress(path, data)
}

func parseProgress(path string, data []byte) (*Progress, error) {
	var p Progress
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&p); err != nil {
		return nil, usererr.New(usererr.Failed, "ErrProgressCorrupt", "Path", path, "Detail", err.Error())
	}
	if dec.More() {
		return nil, usererr.New(usererr.Failed, "ErrProgressCorrupt", "Path", path, "Detail", "data after the JSON object")
	}
	switch {
	case p.Version == 0:
		return nil, usererr.New(usererr.Failed, "ErrProgressCorrupt", "Path", path, "Detail", "no version field")
	case p.Version > ProgressVersion:
		return nil, usererr.New(usererr.Failed, "ErrProgressNewer", "Path", path, "Version", p.Version, "Max", ProgressVersion)
	}
	return &p, nil
}

// Save writes the progress atomically, creating the root folder if needed.
func (p *Progress) Save(root string) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return usererr.Wrap(err, usererr.Failed, "ErrProgressSave", "Path", ProgressPath(root))
	}
	p.Version = ProgressVersion
	if err := fsutil.WriteJSONAtomic(ProgressPath(root), p, 0o644); err != nil {
		return usererr.Wrap(err, usererr.Failed, "ErrProgressSave", "Path", ProgressPath(root))
	}
	return nil
}

// UpdateProgress loads the progress under an exclusive lock, lets change modify
// it and saves it. The lock keeps a concurrent `rt-lab hint` from losing an update
// of a running lesson, and the other way round. When change returns an error,
// nothing is saved.
func UpdateProgress(root string, change func(*Progress) error) (*Progress, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, usererr.Wrap(err, usererr.Failed, "ErrProgressSave", "Path", ProgressPath(root))
	}
	lock, err := fsutil.LockFile(progressLockPath(root), true)
	if err != nil {
		return nil, usererr.Wrap(err, usererr.Failed, "ErrProgressSave", "Path", ProgressPath(root))
	}
	defer lock.Unlock()

	p, err := LoadProgress(root)
	if err != nil {
		return nil, err
	}
	if err := change(p); err != nil {
		return nil, err
	}
	if err := p.Save(root); err != nil {
		return nil, err
	}
	return p, nil
}

// RemoveProgress deletes the progress file of root; a missing file is fine.
func RemoveProgress(root string) error {
	err := os.Remove(ProgressPath(root))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return usererr.Wrap(err, usererr.Failed, "ErrProgressSave", "Path", ProgressPath(root))
	}
	return nil
}

// Stage returns the progress of stage id, creating it.
func (p *Progress) Stage(id string) *StageProgress {
	if p.Stages == nil {
		p.Stages = map[string]*StageProgress{}
	}
	sp := p.Stages[id]
	if sp == nil {
		sp = &StageProgress{}
		p.Stages[id] = sp
	}
	return sp
}

// Step returns the progress of step id, creating it.
func (sp *StageProgress) Step(id string) *StepProgress {
	if sp.Steps == nil {
		sp.Steps = map[string]*StepProgress{}
	}
	st := sp.Steps[id]
	if st == nil {
		st = &StepProgress{}
		sp.Steps[id] = st
	}
	return st
}

// Lookup returns the progress of one step, or the zero value when there is none.
// It changes nothing, so read-only commands can use it.
func (p *Progress) Lookup(stageID, stepID string) StepProgress {
	sp := p.Stages[stageID]
	if sp == nil || sp.Steps[stepID] == nil {
		return StepProgress{}
	}
	return *sp.Steps[stepID]
}

// ResumeIndex returns the index of the step to work on in stage: the saved
// current step while it is not done, else the first step not done. It returns -1
// when every step is done.
func (p *Progress) ResumeIndex(stage *lessons.Stage) int {
	if sp := p.Stages[stage.ID]; sp != nil && sp.CurrentStep != "" {
		if i := stage.StepIndex(sp.CurrentStep); i >= 0 && !p.Lookup(stage.ID, sp.CurrentStep).Done {
			return i
		}
	}
	for i, st := range stage.Steps {
		if !p.Lookup(stage.ID, st.ID).Done {
			return i
		}
	}
	return -1
}

// Score returns the points awarded in stage, the maximum, and how many steps
// are done.
func (p *Progress) Score(stage *lessons.Stage) (points, max, done int) {
	for _, st := range stage.Steps {
		max += st.Points
		if sp := p.Lookup(stage.ID, st.ID); sp.Done {
			points += sp.Points
			done++
		}
	}
	return points, max, done
}

// Started reports whether the student has done, skipped or asked a hint for
// any step of stage. Opening a stage and quitting at once does not count.
func (p *Progress) Started(stageID string) bool {
	sp := p.Stages[stageID]
	return sp != nil && len(sp.Steps) > 0
}

// finish records the end of one step and moves the stage's current step to the
// next step after it that is not done.
func (p *Progress) finish(stage *lessons.Stage, index int, how How, points int, now time.Time) {
	sp := p.Stage(stage.ID)
	st := sp.Step(stage.Steps[index].ID)
	st.How, st.At = how, now
	st.Done = how != HowSkipped
	st.Points = 0
	if st.Done {
		st.Points = points
	}
	sp.CurrentStep = ""
	for i := index + 1; i < len(stage.Steps); i++ {
		if !p.Lookup(stage.ID, stage.Steps[i].ID).Done {
			sp.CurrentStep = stage.Steps[i].ID
			break
		}
	}
}

// Answers returns the saved answers of stageID's question steps, by step id.
func (p *Progress) Answers(stageID string) map[string]string {
	out := map[string]string{}
	if sp := p.Stages[stageID]; sp != nil {
		for id, st := range sp.Steps {
			if st != nil && st.Answer != "" {
				out[id] = st.Answer
			}
		}
	}
	return out
}
