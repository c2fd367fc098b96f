// Package checker grades lesson steps by probing the kernel: /proc, /sys, netlink
// and the namespaces of a container's processes. It uses the runtime's records only
// to find a PID, and verifies that PID before trusting it.
package checker

import (
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/locales"
	"github.com/rt-lab/rt-lab/runtime"
)

// Env is what a check needs: where the containers' state lives and the language.
type Env struct {
	Runtime *runtime.Runtime
	P       *locales.Printer
}

// Result is the outcome of one check.
type Result struct {
	Passed   bool
	Evidence []string // what was observed, in the printer's language
	Expected string   // on failure: what the step needs
}

// StepResult is the outcome of one lesson step: passed when every check passed.
type StepResult struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Passed   bool     `json:"passed"`
	Points   int      `json:"points"`
	Max      int      `json:"max"`
	Evidence []string `json:"evidence"`
	Expected string   `json:"expected,omitempty"`
	Hint     string   `json:"hint,omitempty"`
}

// Run executes one check. An unknown check id fails with evidence saying so.
func Run(env *Env, c lessons.Check) Result { panic("TODO") }

// Params returns the parameter names check id requires, and false for an unknown id.
func Params(id string) ([]string, bool) { panic("TODO") }

// GradeStep runs every check of step and sums its points.
func GradeStep(env *Env, step *lessons.Step) StepResult { panic("TODO") }
