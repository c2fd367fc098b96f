package tutor

import (
	"bytes"
	"fmt"
	"strings"
)

// Auto runs the solution and then the checks of every step not yet done, without
// prompts, and prints one line per step to Out. The output of a step that fails
// goes to Err. It returns false when any step failed.
func (t *Tutor) Auto() (bool, error) {
	t.setup()
	p, s := t.P, t.style
	if _, err := UpdateProgress(t.Root, func(pr *Progress) error {
		pr.CurrentStage = t.Stage.ID
		return nil
	}); err != nil {
		return false, err
	}
	t.printf("%s\n", s.bold(p.Tf("TutorBanner", "Number", t.Stage.Number, "Title", t.Stage.Title.In(p.Lang))))

	allPassed := true
	for index, step := range t.Stage.Steps {
		prog, err := LoadProgress(t.Root)
		if err != nil {
			return false, err
		}
		place := fmt.Sprintf("%d/%d", index+1, len(t.Stage.Steps))
		title := step.Title.In(p.Lang)
		if sp := prog.Lookup(t.Stage.ID, step.ID); sp.Done {
			t.printf("%s %s %s  %s\n", s.green(markPass), place, title, s.dim(p.T("TutorAutoDoneBefore", nil)))
			continue
		}

		var output bytes.Buffer
		runErr := t.Runner.RunSolution(step.Solution, &output, &output)
		if err := t.fillAnswer(step); err != nil {
			return false, err
		}
		res := t.Grade(step)
		score := fmt.Sprintf("%d/%d", res.Points, res.Max)
		if res.Passed {
			if _, err := UpdateProgress(t.Root, func(pr *Progress) error {
				pr.finish(t.Stage, index, HowSolution, res.Points, t.now())
				return nil
			}); err != nil {
				return false, err
			}
			t.printf("%s %s %s  %s\n", s.green(markPass), place, title, score)
			continue
		}

		allPassed = false
		// The checker joins the needs of several failed checks with newlines;
		// this report keeps one line per step.
		expected := strings.ReplaceAll(res.Expected, "\n", "; ")
		t.printf("%s %s %s  %s  %s\n", s.red(markFail), place, title, score, expected)
		fmt.Fprintf(t.Err, "%s", indent(output.String(), "    "))
		if runErr != nil {
			fmt.Fprintf(t.Err, "    %s\n", p.Tf("TutorRunFailed", "Error", runErr.Error()))
		}
		for _, e := range res.Evidence {
			fmt.Fprintf(t.Err, "%s", bullet(e, "    "))
		}
	}

	prog, err := t.endStage()
	if err != nil {
		return false, err
	}
	points, max, done := prog.Score(t.Stage)
	t.printf("%s\n", p.Tf("TutorScore", "Points", points, "Max", max, "Done", done, "Steps", len(t.Stage.Steps)))
	return allPassed, nil
}
