package checker

import (
	"maps"
	"strconv"
	"strings"

	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/locales"
)

// answerValues are the values of the answer check's value parameter: each names
// a live kernel value, of the house or of the machine (cgroup-version), or a
// file the house wrote (letter: the first line of /root/surat.txt in its upper
// layer), that a question step asks about.
var answerValues = []string{"memory-mib", "cpu-percent", "pids-max", "cgroup-version", "letter",
	"root-host-uid", "host-hostname"}

// letterPath is the file the letter answer value reads inside the house.
const letterPath = "/root/surat.txt"

// answerParam is the parameter GradeStep adds to an answer check: the student's
// answer from Env.Answers.
const answerParam = "answer"

// kernelValue reads value (one of answerValues) for house name from the kernel.
// On failure it returns the failed Result instead.
func kernelValue(env *Env, name, value string) (string, []string, *Result) {
	p := env.printer()
	expected := p.Tf("CheckExpectAnswer", "Name", name)
	switch value {
	case "memory-mib":
		dir, v2, ev, fail := houseCgroup(env, name, "memory", expected)
		if fail != nil {
			return "", nil, fail
		}
		v, err := memoryLimit(dir, v2)
		if err != nil {
			r := readFailed(p, ev, err, expected)
			return "", nil, &r
		}
		if v.Unlimited {
			return "", nil, &Result{Evidence: append(ev, p.Tf("CheckMemUnlimited", "File", v.File, "Raw", v.Raw)),
				Expected: expected}
		}
		return strconv.FormatInt(v.N/mib, 10), append(ev, p.Tf("CheckCgroupFile", "File", v.File, "Raw", v.Raw)), nil
	case "cpu-percent":
		dir, v2, ev, fail := houseCgroup(env, name, "cpu", expected)
		if fail != nil {
			return "", nil, fail
		}
		quota, period, err := cpuQuota(dir, v2)
		if err != nil {
			r := readFailed(p, ev, err, expected)
			return "", nil, &r
		}
		if quota.Unlimited || period.N <= 0 {
			return "", nil, &Result{Evidence: append(ev, p.Tf("CheckCPUUnlimited", "File", quota.File, "Raw", quota.Raw)),
				Expected: expected}
		}
		got := strconv.FormatInt(quota.N*100/period.N, 10)
		return got, append(ev, p.Tf("CheckCPULimit", "File", quota.File, "Quota", quota.N, "Period", period.N,
			"Percent", got)), nil
	case "cgroup-version":
		return cgroupVersion(env)
	case "letter":
		return letterText(env, name, letterPath)
	case "root-host-uid":
		return rootHostUID(env, name)
	case "host-hostname":
		return hostHostname(env)
	default: // pids-max
		dir, _, ev, fail := houseCgroup(env, name, "pids", expected)
		if fail != nil {
			return "", nil, fail
		}
		v, err := readCgroupInt(dir + "/pids.max")
		if err != nil {
			r := readFailed(p, ev, err, expected)
			return "", nil, &r
		}
		return v.Raw, append(ev, p.Tf("CheckCgroupFile", "File", v.File, "Raw", v.Raw)), nil
	}
}

// checkAnswer compares the student's answer with the kernel's value. Leading
// zeros do not matter ("064" is 64).
func checkAnswer(env *Env, with map[string]string) Result {
	p := env.printer()
	name, answer := with["name"], strings.TrimSpace(with[answerParam])
	want, ev, fail := kernelValue(env, name, with["value"])
	if fail != nil {
		return *fail
	}
	expected := expectedAnswer(p, name, with["value"])
	if answer == "" {
		return Result{Evidence: append(ev, p.T("CheckAnswerMissing", nil)), Expected: expected}
	}
	if with["value"] == "memory-mib" {
		answer = lessons.TrimMiB(answer)
	}
	if n, err := strconv.ParseInt(answer, 10, 64); err == nil {
		answer = strconv.FormatInt(n, 10)
		// A byte count of the right size is the limit read from the cgroup
		// file without converting it, so the message says which unit is asked.
		if w, err := strconv.ParseInt(want, 10, 64); err == nil && with["value"] == "memory-mib" && n != w && n == w*mib {
			return Result{Evidence: append(ev, p.Tf("CheckAnswerBytes", "Answer", answer, "MiB", want)), Expected: expected}
		}
	}
	if v := with["value"]; v == "letter" || v == "host-hostname" {
		// Text answers ignore case, spacing and quotes around them.
		answer = normalizeText(strings.Trim(answer, `"'`))
		if strings.EqualFold(answer, want) {
			answer = want
		}
	}
	if answer != want {
		return Result{Evidence: append(ev, p.Tf("CheckAnswerWrong", "Answer", answer)), Expected: expected}
	}
	return Result{Passed: true, Evidence: append(ev, p.Tf("CheckAnswerRight", "Answer", answer))}
}

// expectedAnswer returns what a question step about value needs, naming the
// command that shows the value.
func expectedAnswer(p *locales.Printer, name, value string) string {
	switch value {
	case "cgroup-version":
		return p.T("CheckExpectAnswerSystem", nil)
	case "letter":
		return p.Tf("CheckExpectAnswerLetter", "Name", name, "Path", letterPath)
	case "root-host-uid":
		return p.Tf("CheckExpectAnswerRootUID", "Name", name)
	case "host-hostname":
		return p.T("CheckExpectAnswerHostname", nil)
	}
	return p.Tf("CheckExpectAnswer", "Name", name)
}

// withAnswer returns c with the student's answer to step added, for an answer
// check; other checks come back unchanged.
func withAnswer(env *Env, step *lessons.Step, c lessons.Check) lessons.Check {
	if c.Check != lessons.AnswerCheck {
		return c
	}
	with := maps.Clone(c.With)
	if with == nil {
		with = map[string]string{}
	}
	with[answerParam] = env.Answers[step.ID]
	return lessons.Check{Check: c.Check, With: with}
}

// Answer returns the right answer to question step, read from the kernel now:
// what --auto and "run it for me" type for the student. ok is false when the
// step has no answer check or the value cannot be read; res then says why.
func Answer(env *Env, step *lessons.Step) (answer string, res Result, ok bool) {
	for _, c := range step.Checks {
		if c.Check != lessons.AnswerCheck {
			continue
		}
		if bad := lessonProblem(env.printer(), c); bad != nil {
			return "", *bad, false
		}
		want, _, fail := kernelValue(env, c.With["name"], c.With["value"])
		if fail != nil {
			return "", *fail, false
		}
		return want, Result{}, true
	}
	return "", Result{}, false
}
