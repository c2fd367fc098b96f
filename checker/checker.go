// Package checker grades lesson steps by probing the kernel: /proc, /sys, netlink
// and the namespaces of a container's processes. It uses the runtime's records only
// to find a PID, and verifies that PID before trusting it.
package checker

import (
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/locales"
	"github.com/rt-lab/rt-lab/runtime"
)

// Env is what a check needs: where the containers' state lives and the language.
type Env struct {
	Runtime *runtime.Runtime
	P       *locales.Printer
	// Answers maps a question step's id to the student's answer, for the stage
	// being graded. The answer check compares it with the kernel.
	Answers map[string]string
}

func (env *Env) printer() *locales.Printer {
	if env.P == nil {
		return locales.For(locales.ID)
	}
	return env.P
}

// Result is the outcome of one check.
type Result struct {
	Passed   bool
	Evidence []string // what was observed, in the printer's language
	Expected string   // on failure: what the step needs
}

// newResult returns a passing result and fail, which records a failed
// observation in it as message id with its fields, in p's language.
func newResult(p *locales.Printer) (*Result, func(id string, kv ...any)) {
	res := &Result{Passed: true}
	fail := func(id string, kv ...any) {
		res.Passed = false
		res.Evidence = append(res.Evidence, p.Tf(id, kv...))
	}
	return res, fail
}

// houseDirExists reports whether the folder of house name exists, and records
// what it found in res: as evidence, or through fail when it is missing.
func houseDirExists(env *Env, name string, res *Result, fail func(id string, kv ...any)) bool {
	dir := env.Runtime.ContainerDir(name)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		fail("CheckNoHouseDir", "Name", name, "Path", dir)
		return false
	}
	res.Evidence = append(res.Evidence, env.printer().Tf("CheckHouseDir", "Name", name, "Path", dir))
	return true
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

// StageResult is the outcome of every step of one stage.
type StageResult struct {
	ID    string       `json:"id"`
	Title string       `json:"title"`
	Score int          `json:"score"`
	Max   int          `json:"max"`
	Steps []StepResult `json:"steps"`
}

// probe is one check: the parameters it requires and the function that runs it
// once they are present and valid.
type probe struct {
	params []string
	run    func(env *Env, with map[string]string) Result
}

var probes = map[string]probe{
	"house-built":     {[]string{"name", "hostname"}, checkHouseBuilt},
	"house-running":   {[]string{"name"}, checkHouseRunning},
	"family-member":   {[]string{"name", "comm"}, checkFamilyMember},
	"ps-shows-family": {[]string{"name"}, checkPsShowsFamily},
	"hostname":        {[]string{"name", "hostname"}, checkHostname},
	"own-namespace":   {[]string{"name", "ns"}, checkOwnNamespace},
	"own-links":       {[]string{"name"}, checkOwnLinks},
	"memory-limit":    {[]string{"name", "mib"}, checkMemoryLimit},
	"cpu-limit":       {[]string{"name", "percent"}, checkCPULimit},
	"pids-limit":      {[]string{"name", "max"}, checkPidsLimit},
	"oom-kill":        {[]string{"name"}, checkOOMKill},
	"cpu-throttled":   {[]string{"name"}, checkCPUThrottled},
	"answer":          {[]string{"name", "value"}, checkAnswer},
	"veth-to-bridge":  {[]string{"name"}, checkVethToBridge},
	"can-reach":       {[]string{"name", "target"}, checkCanReach},
	"resolves":        {[]string{"name", "target"}, checkResolves},
	"tcp-listening":   {[]string{"name", "port"}, checkTCPListening},
	"tcp-reachable":   {[]string{"name", "target", "port"}, checkTCPReachable},
	"default-route":   {[]string{"name"}, checkDefaultRoute},

	// Isolation between two houses (check_isolation*.go).
	"pid-isolated":      {[]string{"name", "other"}, checkPIDIsolated},
	"own-proc":          {[]string{"name"}, checkOwnProc},
	"file-private":      {[]string{"name", "path", "other"}, checkFilePrivate},
	"ns-separate":       {[]string{"name", "other", "ns"}, checkNSSeparate},
	"ipc-queue-private": {[]string{"name", "other"}, checkIPCQueuePrivate},
	"user-mapped":       {[]string{"name"}, checkUserMapped},
	"user-ranges-apart": {[]string{"name", "other"}, checkUserRangesApart},
	"caps-reduced":      {[]string{"name"}, checkCapsReduced},

	// A house's life and the emergency (check_recover.go).
	"house-recovered": {[]string{"name"}, checkHouseRecovered},
	"house-gone":      {[]string{"name"}, checkHouseGone},

	// What a house wrote and whether its father changed since (check_letter.go).
	"house-file":        {[]string{"name", "path"}, checkHouseFile},
	"father-after-file": {[]string{"name", "path"}, checkFatherAfterFile},
}

// numericParams are the parameters whose value must be a whole number above 0.
var numericParams = []string{"mib", "percent", "max"}

// IDs returns the known check ids, sorted.
func IDs() []string {
	ids := make([]string, 0, len(probes))
	for id := range probes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Params returns the parameter names check id requires, and false for an unknown id.
func Params(id string) ([]string, bool) {
	p, ok := probes[id]
	if !ok {
		return nil, false
	}
	return slices.Clone(p.params), true
}

// Run executes one check. An unknown check id, a missing parameter or an invalid
// parameter value fails with evidence saying so.
func Run(env *Env, c lessons.Check) Result {
	if bad := lessonProblem(env.printer(), c); bad != nil {
		return *bad
	}
	return probes[c.Check].run(env, c.With)
}

// lessonProblem returns a failed Result when c names an unknown check or lacks
// a valid parameter: a mistake in the lesson file, not in the student's work.
func lessonProblem(p *locales.Printer, c lessons.Check) *Result {
	pr, ok := probes[c.Check]
	if !ok {
		return &Result{
			Evidence: []string{p.Tf("CheckUnknown", "Check", c.Check, "Known", strings.Join(IDs(), ", "))},
			Expected: p.T("CheckExpectLessonFix", nil),
		}
	}
	var missing []string
	for _, name := range pr.params {
		if strings.TrimSpace(c.With[name]) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return &Result{
			Evidence: []string{p.Tf("CheckMissingParams", "Check", c.Check, "Missing", strings.Join(missing, ", "),
				"Required", strings.Join(pr.params, ", "))},
			Expected: p.T("CheckExpectLessonFix", nil),
		}
	}
	if msg := validateParams(p, c.Check, c.With); msg != "" {
		return &Result{Evidence: []string{msg}, Expected: p.T("CheckExpectLessonFix", nil)}
	}
	return nil
}

// validateParams returns a message for the first invalid parameter value, or "".
func validateParams(p *locales.Printer, check string, with map[string]string) string {
	if name, ok := with["name"]; ok {
		if err := runtime.ValidateName(name); err != nil {
			return p.Tf("CheckBadParam", "Check", check, "Param", "name", "Value", name)
		}
	}
	for _, key := range numericParams {
		if v, ok := with[key]; ok {
			if n, err := strconv.ParseInt(v, 10, 64); err != nil || n <= 0 || strconv.FormatInt(n, 10) != v {
				return p.Tf("CheckBadParam", "Check", check, "Param", key, "Value", v)
			}
		}
	}
	if v, ok := with["value"]; ok && !slices.Contains(answerValues, v) {
		return p.Tf("CheckBadParamChoice", "Check", check, "Param", "value", "Value", v,
			"Choices", strings.Join(answerValues, ", "))
	}
	if ns, ok := with["ns"]; ok && !slices.Contains(namespaceKinds, ns) {
		return p.Tf("CheckBadParamChoice", "Check", check, "Param", "ns", "Value", ns,
			"Choices", strings.Join(namespaceKinds, ", "))
	}
	return ""
}

// GradeStep runs every check of step and sums its points: all of them, or none
// when any check fails. A step without checks fails, because nothing shows it
// was done.
func GradeStep(env *Env, step *lessons.Step) StepResult {
	p := env.printer()
	res := StepResult{
		ID:       step.ID,
		Title:    step.Title.In(p.Lang),
		Passed:   len(step.Checks) > 0,
		Max:      step.Points,
		Evidence: []string{},
	}
	if len(step.Checks) == 0 {
		res.Evidence = append(res.Evidence, p.Tf("CheckStepNoChecks", "Step", step.ID))
		res.Expected = p.T("CheckExpectLessonFix", nil)
	}
	var expected []string
	for _, c := range step.Checks {
		r := Run(env, withAnswer(env, step, c))
		res.Evidence = appendNew(res.Evidence, r.Evidence...)
		if !r.Passed {
			res.Passed = false
			expected = appendNew(expected, r.Expected)
		}
	}
	if res.Passed {
		res.Points = step.Points
		return res
	}
	if len(expected) > 0 {
		res.Expected = strings.Join(expected, "\n")
	}
	if len(step.Hints) > 0 {
		res.Hint = step.Hints[0].In(p.Lang)
	}
	return res
}

// GradeStage grades every step of stage in order.
func GradeStage(env *Env, stage *lessons.Stage) StageResult {
	res := StageResult{ID: stage.ID, Title: stage.Title.In(env.printer().Lang), Steps: []StepResult{}}
	for _, step := range stage.Steps {
		sr := GradeStep(env, step)
		res.Steps = append(res.Steps, sr)
		res.Score += sr.Points
		res.Max += sr.Max
	}
	return res
}

// appendNew appends the non-empty lines of add that list does not contain yet, so
// several checks of one step report a shared observation once.
func appendNew(list []string, add ...string) []string {
	for _, s := range add {
		if s != "" && !slices.Contains(list, s) {
			list = append(list, s)
		}
	}
	return list
}
