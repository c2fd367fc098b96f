// Package lessons loads the lesson files: one YAML file per stage (tahap), embedded
// in the binary, each step with its text in Indonesian and English, the commands the
// student runs, the solution, the checks and progressive hints.
package lessons

import (
	"strings"

	"github.com/rt-lab/rt-lab/locales"
)

// Text is one piece of lesson text in both languages.
type Text struct {
	ID string `yaml:"id" json:"id"`
	EN string `yaml:"en" json:"en"`
}

// In returns the text in lang.
func (t Text) In(lang locales.Lang) string {
	if lang == locales.EN {
		return t.EN
	}
	return t.ID
}

// Stage is one lesson file.
type Stage struct {
	ID         string   `yaml:"id"`     // "tahap-1"
	Number     int      `yaml:"number"` // 1
	Status     string   `yaml:"status"` // "ready" or "outline"
	Title      Text     `yaml:"title"`
	Intro      Text     `yaml:"intro"`      // the analogy, shown when the stage starts
	Containers []string `yaml:"containers"` // houses the stage builds; reset deletes them
	Steps      []*Step  `yaml:"steps"`

	File string `yaml:"-"` // the lesson file it came from, set by Parse
}

// Step is one checked task.
type Step struct {
	ID       string   `yaml:"id"`
	Points   int      `yaml:"points"`
	Title    Text     `yaml:"title"`
	Text     Text     `yaml:"text"`
	Commands []string `yaml:"commands"` // what the student is asked to run on the host
	// Inside lists what the student types in the container's shell, which the last
	// of Commands opens (rt-lab run-container NAME).
	Inside   []string `yaml:"inside"`
	Solution []string `yaml:"solution"` // run by --auto and "run it for me"
	Checks   []Check  `yaml:"checks"`   // all must pass
	Hints    []Text   `yaml:"hints"`    // shown one more at a time
	// Question, when set, makes the step a question: the student types an answer,
	// and an "answer" check compares it with a value read from the kernel.
	Question *Question `yaml:"question"`
}

// Question is what a question step asks, the form its answer must take, and the
// message for an answer in another form.
type Question struct {
	Text    Text   `yaml:"text"`
	Format  string `yaml:"format"`  // one of AnswerFormats
	Invalid Text   `yaml:"invalid"` // shown when an answer does not match Format
}

// AnswerFormats are the forms a question's answer can take: "integer" is a whole
// number of decimal digits (leading zeros allowed, no sign, no unit), "mib" is
// such a number optionally followed by the unit MiB in any case, with or
// without a space, and "text" is any text that is not empty.
var AnswerFormats = []string{"integer", "mib", "text"}

// TrimMiB returns answer without spaces around it and without a trailing MiB
// unit in any case, so "64 MiB", "64mib" and "64" all become "64".
func TrimMiB(answer string) string {
	answer = strings.TrimSpace(answer)
	if n := len(answer) - len("mib"); n >= 0 && strings.EqualFold(answer[n:], "mib") {
		answer = strings.TrimSpace(answer[:n])
	}
	return answer
}

// Accepts reports whether answer has the question's form. Spaces around it are
// ignored.
func (q *Question) Accepts(answer string) bool {
	answer = strings.TrimSpace(answer)
	if answer == "" {
		return false
	}
	switch q.Format {
	case "integer":
	case "mib":
		answer = TrimMiB(answer)
		if answer == "" {
			return false
		}
	default:
		return true
	}
	for _, r := range answer {
		if r < '0' || r > '9' {
			return false
		}
	}
	return len(answer) <= 18
}

// Check is one kernel probe with its parameters.
type Check struct {
	Check string            `yaml:"check"`
	With  map[string]string `yaml:"with"`
}
