package tutor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/rt-lab/rt-lab/checker"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/locales"
)

// TestEveryReadyStageSolvable checks that every ready lesson can be solved step
// by step. For each ready stage, on a fresh root, it runs each step's solution
// and grades that step right after it in Indonesian and in English, on the same
// houses. Every step must pass in both languages. The grading texts, including
// the failures before each solution, must have no template hole and no message
// id missing from the catalogs. At the end `rt-lab check` must give full marks
// in both languages. A new ready stage is covered once lessons.All returns it.
func TestEveryReadyStageSolvable(t *testing.T) {
	requireRoot(t)
	stages, err := lessons.All()
	if err != nil {
		t.Fatal(err)
	}
	bin := buildStaticRTLab(t)
	ids := catalogIDs(t)
	ready := 0
	for _, stage := range stages {
		if !stage.Ready() {
			continue
		}
		ready++
		t.Run(stage.ID, func(t *testing.T) { solveStage(t, bin, stage, ids) })
	}
	if ready == 0 {
		t.Fatal("no ready stage in the lessons")
	}
}

// solveStage runs the solutions of stage one step at a time in a fresh root.
func solveStage(t *testing.T, bin string, stage *lessons.Stage, ids map[string]bool) {
	c := newStageCLI(t, bin, "en")
	runner := c.newRunner()
	r := c.runtime()
	envs := map[locales.Lang]*checker.Env{}
	for _, lang := range locales.Langs {
		envs[lang] = &checker.Env{Runtime: r, P: locales.For(lang), Answers: map[string]string{}}
	}

	for index, step := range stage.Steps {
		where := fmt.Sprintf("%s step %d (%s)", stage.ID, index+1, step.ID)
		for _, lang := range locales.Langs {
			res := checker.GradeStep(envs[lang], step)
			checkTexts(t, fmt.Sprintf("%s before its solution, %s", where, lang), res, ids)
			if !res.Passed && (res.Expected == "" || len(step.Hints) > 0 && res.Hint == "") {
				t.Errorf("%s fails before its solution without what it needs or a hint in %s: %+v", where, lang, res)
			}
		}

		var out bytes.Buffer
		if err := runner.RunSolution(step.Solution, &out, &out); err != nil {
			t.Fatalf("%s: solution failed: %v\n%s", where, err, out.String())
		}
		if step.Question != nil {
			answerQuestion(t, where, envs, step, ids)
		}
		for _, lang := range locales.Langs {
			res := checker.GradeStep(envs[lang], step)
			checkTexts(t, fmt.Sprintf("%s after its solution, %s", where, lang), res, ids)
			if !res.Passed || res.Points != step.Points {
				t.Errorf("%s does not pass right after its solution in %s (%d/%d points):\n%s\nexpected: %s\nsolution output:\n%s",
					where, lang, res.Points, res.Max, strings.Join(res.Evidence, "\n"), res.Expected, out.String())
			}
		}
	}

	// The answers are saved as the lesson saves them, so that `rt-lab check`
	// grades the question steps too.
	if _, err := UpdateProgress(c.root, func(p *Progress) error {
		for id, answer := range envs[locales.EN].Answers {
			p.Stage(stage.ID).Step(id).Answer = answer
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, lang := range locales.Langs {
		c.lang = string(lang)
		stdout, stderr, code := c.run("check", stage.ID, "--format", "json")
		var report checkJSON
		if err := json.Unmarshal([]byte(stdout), &report); err != nil {
			t.Fatalf("check in %s: output is not JSON: %v\n%s", lang, err, stdout)
		}
		if code != 0 || !report.Passed || report.Score != stage.MaxPoints() {
			t.Errorf("check in %s after every solution: exit %d, score %d/%d, want full marks\nstderr:\n%s",
				lang, code, report.Score, report.Max, stderr)
		}
		if strings.Contains(stdout, "<no value>") {
			t.Errorf("check in %s: the report has a template hole:\n%s", lang, stdout)
		}
	}
}

// answerQuestion reads the right answer to a question step from the kernel, as
// "run it for me" does, and stores it in every language's Env. A wrong answer
// must fail first, with its texts complete.
func answerQuestion(t *testing.T, where string, envs map[locales.Lang]*checker.Env, step *lessons.Step,
	ids map[string]bool) {
	t.Helper()
	answer, res, ok := checker.Answer(envs[locales.EN], step)
	if !ok {
		t.Fatalf("%s: no answer from the kernel:\n%s", where, strings.Join(res.Evidence, "\n"))
	}
	for _, lang := range locales.Langs {
		envs[lang].Answers[step.ID] = answer + "1"
		res := checker.GradeStep(envs[lang], step)
		checkTexts(t, fmt.Sprintf("%s with a wrong answer, %s", where, lang), res, ids)
		if res.Passed {
			t.Errorf("%s passes with the wrong answer %s1 in %s", where, answer, lang)
		}
		envs[lang].Answers[step.ID] = answer
	}
}

// catalogIDs returns the message ids of the catalogs that are CamelCase words
// of five or more letters, such as CheckHostnameWrong. These never occur in a
// rendered text, so a text that contains one shows a message that was missing
// when it was rendered. Shorter ids such as MiB are units that texts contain.
func catalogIDs(t *testing.T) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, lang := range locales.Langs {
		cat, err := locales.Catalog(lang)
		if err != nil {
			t.Fatal(err)
		}
		for id := range cat {
			upper := strings.Count(strings.Map(func(r rune) rune {
				if unicode.IsUpper(r) {
					return 'A'
				}
				return -1
			}, id), "A")
			if upper >= 2 && len(id) >= 5 {
				ids[id] = true
			}
		}
	}
	return ids
}

// wordPattern splits a text into the words that a message id could be.
var wordPattern = regexp.MustCompile(`[A-Za-z0-9_]+`)

// checkTexts fails when a text of res has a template hole, a fmt verb error or
// a message id in place of a message.
func checkTexts(t *testing.T, where string, res checker.StepResult, ids map[string]bool) {
	t.Helper()
	texts := append([]string{res.Title, res.Expected, res.Hint}, res.Evidence...)
	if res.Title == "" {
		t.Errorf("%s: the step has no title", where)
	}
	for _, text := range texts {
		if strings.Contains(text, "<no value>") || strings.Contains(text, "%!") {
			t.Errorf("%s: template hole in %q", where, text)
		}
		for _, word := range wordPattern.FindAllString(text, -1) {
			if ids[word] {
				t.Errorf("%s: message id %s instead of a message in %q", where, word, text)
			}
		}
	}
}
