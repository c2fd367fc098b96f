package tutor

import (
	"fmt"
	"io"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/locales"
)

// HintTaken is the hint that TakeHint chose.
type HintTaken struct {
	Step    int   // index of the step in the stage
	Number  int   // the hint to show, from 1
	Last    bool  // no hint comes after this one
	SaveErr error // the count could not be saved; the hint is still valid
}

// TakeHint picks the next hint of the step the student is on in stage and saves
// that one more hint was shown. Once every hint was shown it returns the last
// again. When the progress file cannot be written (the student ran rt-lab hint
// without sudo), it still returns the hint, with SaveErr set. A stage with every
// step done is a usage error.
func TakeHint(root string, stage *lessons.Stage) (HintTaken, error) {
	prog, err := LoadProgress(root)
	if err != nil {
		return HintTaken{}, err
	}
	index := prog.ResumeIndex(stage)
	if index < 0 {
		return HintTaken{}, usererr.New(usererr.Usage, "ErrHintStageDone", "Number", stage.Number)
	}
	step := stage.Steps[index]
	if len(step.Hints) == 0 {
		return HintTaken{}, usererr.New(usererr.Usage, "ErrHintNone", "Step", step.ID)
	}

	next := func(p *Progress) {
		st := p.Stage(stage.ID).Step(step.ID)
		if st.HintsShown < len(step.Hints) {
			st.HintsShown++
		}
	}
	saved, err := UpdateProgress(root, func(p *Progress) error {
		next(p)
		return nil
	})
	taken := HintTaken{Step: index}
	switch {
	case err == nil:
		taken.Number = saved.Lookup(stage.ID, step.ID).HintsShown
	case usererr.Is(err, "ErrProgressSave"):
		next(prog)
		taken.Number, taken.SaveErr = prog.Lookup(stage.ID, step.ID).HintsShown, err
	default:
		return HintTaken{}, err
	}
	taken.Last = taken.Number >= len(step.Hints)
	return taken, nil
}

// WriteHint prints a hint that TakeHint chose: the step it belongs to, the hint,
// and after the last hint where the solution is. command is how the student runs
// rt-lab, such as "sudo rt-lab".
func WriteHint(w io.Writer, p *locales.Printer, color bool, stage *lessons.Stage, taken HintTaken, command string) {
	s := style{on: color}
	step := stage.Steps[taken.Step]
	fmt.Fprintln(w, s.bold(p.Tf("HintHeader", "Number", stage.Number, "Step", taken.Step+1,
		"Steps", len(stage.Steps), "Title", step.Title.In(p.Lang))))
	fmt.Fprintln(w, s.yellow(p.Tf("TutorHint", "Number", taken.Number, "Total", len(step.Hints))))
	fmt.Fprint(w, indent(step.Hints[taken.Number-1].In(p.Lang), "  "))
	if taken.Last {
		fmt.Fprintln(w, s.dim(p.Tf("HintLast", "Command", command+" start "+stage.ID)))
	}
}
