package checker

import (
	"fmt"
	"strconv"

	"github.com/rt-lab/rt-lab/locales"
)

const mib = 1 << 20

// houseCgroup finds the running house's PID 1 and the host folder of its group
// for controller. On failure it returns the failed Result to hand back directly.
func houseCgroup(env *Env, name, controller, expected string) (dir string, v2 bool, ev []string, fail *Result) {
	p := env.printer()
	h, ev, fail := houseEvidence(env, name)
	if fail != nil {
		return "", false, nil, fail
	}
	view, err := readCgroupView(h.PID)
	if err != nil {
		ev = append(ev, p.Tf("CheckProcError", "Error", err.Error()))
		return "", false, nil, &Result{Evidence: ev, Expected: expected}
	}
	dir, ok := view.Dirs[controller]
	if !ok {
		ev = append(ev, p.Tf("CheckCgroupMissing", "PID", h.PID, "Controller", controller))
		return "", false, nil, &Result{Evidence: ev, Expected: expected}
	}
	ev = append(ev, p.Tf("CheckCgroupDir", "PID", h.PID, "Controller", controller, "Dir", dir))
	return dir, view.V2[controller], ev, nil
}

func readFailed(p *locales.Printer, ev []string, err error, expected string) Result {
	return Result{Evidence: append(ev, p.Tf("CheckCgroupRead", "Error", err.Error())), Expected: expected}
}

// checkMemoryLimit checks that the house's memory group has a limit of mib MiB.
func checkMemoryLimit(env *Env, with map[string]string) Result {
	p := env.printer()
	name, want := with["name"], with["mib"]
	expected := p.Tf("CheckExpectMemLimit", "Name", name, "Want", want)
	dir, v2, ev, fail := houseCgroup(env, name, "memory", expected)
	if fail != nil {
		return *fail
	}
	v, err := memoryLimit(dir, v2)
	if err != nil {
		return readFailed(p, ev, err, expected)
	}
	if v.Unlimited {
		return Result{Evidence: append(ev, p.Tf("CheckMemUnlimited", "File", v.File, "Raw", v.Raw)), Expected: expected}
	}
	got := fmt.Sprintf("%.1f", float64(v.N)/mib)
	if v.N%mib == 0 {
		got = strconv.FormatInt(v.N/mib, 10)
	}
	ev = append(ev, p.Tf("CheckMemLimit", "File", v.File, "Raw", v.Raw, "MiB", got))
	if n, _ := strconv.ParseInt(want, 10, 64); v.N != n*mib {
		return Result{Evidence: append(ev, p.Tf("CheckMemWrong", "Got", got, "Want", want)), Expected: expected}
	}
	return Result{Passed: true, Evidence: ev}
}

// checkCPULimit checks that the house's cpu group allows percent of one CPU.
func checkCPULimit(env *Env, with map[string]string) Result {
	p := env.printer()
	name, want := with["name"], with["percent"]
	expected := p.Tf("CheckExpectCPULimit", "Name", name, "Want", want)
	dir, v2, ev, fail := houseCgroup(env, name, "cpu", expected)
	if fail != nil {
		return *fail
	}
	quota, period, err := cpuQuota(dir, v2)
	if err != nil {
		return readFailed(p, ev, err, expected)
	}
	if quota.Unlimited || period.N <= 0 {
		return Result{Evidence: append(ev, p.Tf("CheckCPUUnlimited", "File", quota.File, "Raw", quota.Raw)),
			Expected: expected}
	}
	got := strconv.FormatFloat(float64(quota.N)*100/float64(period.N), 'f', -1, 64)
	ev = append(ev, p.Tf("CheckCPULimit", "File", quota.File, "Quota", quota.N, "Period", period.N, "Percent", got))
	if got != want {
		return Result{Evidence: append(ev, p.Tf("CheckCPUWrong", "Got", got, "Want", want)), Expected: expected}
	}
	return Result{Passed: true, Evidence: ev}
}

// checkPidsLimit checks that the house's pids group allows max processes.
func checkPidsLimit(env *Env, with map[string]string) Result {
	p := env.printer()
	name, want := with["name"], with["max"]
	expected := p.Tf("CheckExpectPidsLimit", "Name", name, "Want", want)
	dir, _, ev, fail := houseCgroup(env, name, "pids", expected)
	if fail != nil {
		return *fail
	}
	v, err := readCgroupInt(dir + "/pids.max")
	if err != nil {
		return readFailed(p, ev, err, expected)
	}
	ev = append(ev, p.Tf("CheckCgroupFile", "File", v.File, "Raw", v.Raw))
	if v.Unlimited || strconv.FormatInt(v.N, 10) != want {
		return Result{Evidence: append(ev, p.Tf("CheckPidsWrong", "Got", v.Raw, "Want", want)), Expected: expected}
	}
	return Result{Passed: true, Evidence: ev}
}

// checkOOMKill checks that the OOM killer ended at least one process of the
// house while its PID 1 kept running: the house survives a greedy resident.
func checkOOMKill(env *Env, with map[string]string) Result {
	p := env.printer()
	name := with["name"]
	expected := p.Tf("CheckExpectOOM", "Name", name)
	dir, v2, ev, fail := houseCgroup(env, name, "memory", expected)
	if fail != nil {
		return *fail
	}
	v, err := oomKills(dir, v2)
	if err != nil {
		return readFailed(p, ev, err, expected)
	}
	ev = append(ev, p.Tf("CheckCgroupFile", "File", v.File, "Raw", v.Raw))
	if v.N < 1 {
		return Result{Evidence: append(ev, p.T("CheckOOMNone", nil)), Expected: expected}
	}
	return Result{Passed: true, Evidence: append(ev, p.Tf("CheckOOMSurvived", "N", v.N))}
}

// checkCPUThrottled checks that the kernel held the house back at least once
// because it used up its CPU quota.
func checkCPUThrottled(env *Env, with map[string]string) Result {
	p := env.printer()
	name := with["name"]
	expected := p.Tf("CheckExpectThrottled", "Name", name)
	dir, _, ev, fail := houseCgroup(env, name, "cpu", expected)
	if fail != nil {
		return *fail
	}
	v, err := readKeyed(dir+"/cpu.stat", "nr_throttled")
	if err != nil {
		return readFailed(p, ev, err, expected)
	}
	ev = append(ev, p.Tf("CheckCgroupFile", "File", v.File, "Raw", v.Raw))
	if v.N < 1 {
		return Result{Evidence: append(ev, p.T("CheckNotThrottled", nil)), Expected: expected}
	}
	return Result{Passed: true, Evidence: ev}
}
