package lessons

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// Stage statuses. An outline stage has its intro and step titles but no checks
// yet, so it can be listed but not started.
const (
	StatusReady   = "ready"
	StatusOutline = "outline"
)

//go:embed tahap-*.yaml
var files embed.FS

// Ready reports whether the stage can be started.
func (s *Stage) Ready() bool { return s.Status == StatusReady }

// MaxPoints returns the sum of the points of every step.
func (s *Stage) MaxPoints() int {
	total := 0
	for _, st := range s.Steps {
		total += st.Points
	}
	return total
}

// StepIndex returns the index of step id, or -1.
func (s *Stage) StepIndex(id string) int {
	return slices.IndexFunc(s.Steps, func(st *Step) bool { return st.ID == id })
}

// All parses every embedded lesson file and returns the stages sorted by number.
// Each call returns fresh values, so callers may change them.
func All() ([]*Stage, error) {
	names, err := fs.Glob(files, "tahap-*.yaml")
	if err != nil {
		return nil, err
	}
	stages := make([]*Stage, 0, len(names))
	for _, name := range names {
		data, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		st, err := Parse(name, data)
		if err != nil {
			return nil, err
		}
		stages = append(stages, st)
	}
	slices.SortFunc(stages, func(a, b *Stage) int { return a.Number - b.Number })
	return stages, nil
}

// Parse decodes one lesson file. Unknown keys are errors, so a misspelt key such
// as "tittle" is reported instead of leaving the title empty.
func Parse(name string, data []byte) (*Stage, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var st Stage
	if err := dec.Decode(&st); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("parse lesson file %q: file is empty", name)
		}
		return nil, fmt.Errorf("parse lesson file %q: %w", name, err)
	}
	st.File = name
	return &st, nil
}

// Find returns the stage named by arg: "tahap-1", "1" or "Tahap-1". An unknown
// stage is a usage error that lists the valid choices.
func Find(arg string) (*Stage, error) {
	stages, err := All()
	if err != nil {
		return nil, err
	}
	want := strings.ToLower(strings.TrimSpace(arg))
	if n, err := strconv.Atoi(want); err == nil {
		want = fmt.Sprintf("tahap-%d", n)
	}
	for _, st := range stages {
		if st.ID == want {
			return st, nil
		}
	}
	return nil, usererr.New(usererr.Usage, "ErrStageUnknown", "Stage", arg, "Choices", Choices(stages))
}

// Choices returns the stage ids as a comma-separated list, for messages.
func Choices(stages []*Stage) string {
	ids := make([]string, len(stages))
	for i, st := range stages {
		ids[i] = st.ID
	}
	return strings.Join(ids, ", ")
}
