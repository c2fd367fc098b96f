package lessons_test

import (
	"testing"

	"github.com/rt-lab/rt-lab/checker"
	"github.com/rt-lab/rt-lab/lessons"
)

// TestTahap2ValidAsReady validates tahap 2 as a ready stage and checks its
// steps: one per namespace, each with checks and two or three hints.
func TestTahap2ValidAsReady(t *testing.T) {
	st, err := lessons.Find("tahap-2")
	if err != nil {
		t.Fatal(err)
	}
	draft := *st
	draft.Status = lessons.StatusReady
	for _, pr := range lessons.Validate([]*lessons.Stage{&draft}, checker.Params) {
		t.Errorf("lesson problem: %s", pr)
	}
	wantSteps := []string{"penomoran-keluarga", "rak-dan-lemari", "dua-papan-nama", "papan-tulis",
		"identitas-penghuni", "telepon-terpisah"}
	if len(st.Steps) != len(wantSteps) {
		t.Fatalf("got %d steps, want %d", len(st.Steps), len(wantSteps))
	}
	for i, step := range st.Steps {
		if step.ID != wantSteps[i] {
			t.Errorf("step %d is %s, want %s", i+1, step.ID, wantSteps[i])
		}
		if len(step.Checks) == 0 {
			t.Errorf("step %s has no checks", step.ID)
		}
		if n := len(step.Hints); n < 2 || n > 3 {
			t.Errorf("step %s: %d hints, want 2 or 3", step.ID, n)
		}
	}
}
