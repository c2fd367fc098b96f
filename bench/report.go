package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Targets that rt-lab aims for. The report marks each one met or not met.
const (
	targetLifecycleRatio = 0.5                    // at most this share of runc run's time
	targetCheck          = 300 * time.Millisecond // full rt-lab check
	targetHouses         = 250                    // houses up and reachable at once
	targetMemory         = 1 << 20                // bytes of added host memory per idle house
	targetDisk           = 100 << 10              // bytes of disk per house
	// superLinear is the growth of one operation's time, from when few
	// houses exist to when N exist, above which the operation counts as O(N)
	// and bringing up N houses as growing faster than linearly.
	superLinear = 1.5
)

// report collects every result of one run.
type report struct {
	machine      machine
	runs         int
	baselineName string
	lifecycle    *lifecycleResult
	blocks       []block
	enter        *enterResult
	grade        *gradeResult
	scale        []*scaleResult
}

func (rep *report) print(w io.Writer) {
	m := rep.machine
	fmt.Fprintf(w, "\n## rt-lab benchmark, %s\n\n", m.Date)
	fmt.Fprintf(w, "- machine: %s\n", m)
	fmt.Fprintf(w, "- load average (1, 5, 15 min): %s at the start, %s at the end\n", m.LoadStart, m.LoadEnd)
	fmt.Fprintf(w, "- rt-lab: %s; runc: %s; bench built with %s\n", m.RTLab, m.Runc, m.Go)
	fmt.Fprintf(w, "- state folders on %s (%s); medians of %d runs after one warm-up run\n", m.StateMount, m.StateFS, rep.runs)
	if rep.lifecycle != nil {
		rep.printLifecycle(w)
	}
	if len(rep.blocks) > 0 {
		rep.printBlocks(w)
	}
	if rep.enter != nil {
		rep.printEnter(w)
	}
	if rep.grade != nil {
		rep.printGrade(w)
	}
	if len(rep.scale) > 0 {
		rep.printScale(w)
	}
	rep.printTargets(w)
}

func row(w io.Writer, cells ...string) {
	fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
}

func header(w io.Writer, cells ...string) {
	row(w, cells...)
	seps := make([]string, len(cells))
	for i := range seps {
		seps[i] = "---"
	}
	row(w, seps...)
}

func spreadOf(s samples) string {
	lo, hi := s.spread()
	return fmt.Sprintf("%.1f–%.1f", float64(lo)/1e6, float64(hi)/1e6)
}

func (rep *report) printLifecycle(w io.Writer) {
	l := rep.lifecycle
	refs := []samples{l.runc, l.runcUserNS, l.runcNet}
	line := func(name string, s samples) {
		if len(s) == 0 {
			return
		}
		cells := []string{name, ms(s.median()), spreadOf(s)}
		for _, ref := range refs {
			cells = append(cells, ratio(s.median(), ref.median()))
		}
		row(w, cells...)
	}
	fmt.Fprintf(w, "\n### Lifecycle: create, start, run `true`, delete (limits %d MiB, %d %% CPU)\n\n", benchRAMMiB, benchCPUPercent)
	header(w, "variant", "median", "min–max ms", "÷ runc run", "÷ runc run + userns", "÷ runc run + veth")
	line("runc run /bin/true: pid, mount, uts, ipc and network namespaces, lo only (reference)", l.runc)
	line("runc run /bin/true, with a user namespace too", l.runcUserNS)
	line("runc run /bin/true + veth on a bridge, address, route", l.runcNet)
	line("rt-lab CLI: create-container, run-container -- true, delete-container", l.cli)
	line("rt-lab CLI, houses created with --userns=false", l.cliNoUserNS)
	line("rt-lab CLI, first house of its root (bridge made and removed each run)", l.cliAlone)
	line("rt-lab Go API: Create, Start, Exec true, Stop, Delete", l.api)
	line("baseline CLI ("+rep.baselineName+")", l.baseline)
	fmt.Fprintf(w, "\nPhases (medians): CLI create-container %s, run-container -- true (start) %s, delete-container --force %s;"+
		" API Create %s, Start %s, Exec %s, Stop %s, Delete %s. Peak RSS of one rt-lab command: %s.\n",
		ms(l.cliCreate.median()), ms(l.cliRun.median()), ms(l.cliDelete.median()),
		ms(l.apiCreate.median()), ms(l.apiStart.median()), ms(l.apiExec.median()), ms(l.apiStop.median()),
		ms(l.apiDelete.median()),
		mib(float64(l.cliMaxRSS)))
}

func (rep *report) printBlocks(w io.Writer) {
	fmt.Fprintf(w, "\n### Building blocks of a lifecycle, each timed alone\n\n")
	header(w, "step", "median", "min–max ms", "where rt-lab does it")
	for _, b := range rep.blocks {
		row(w, b.name, ms(b.samples.median()), spreadOf(b.samples), blockNote(b))
	}
}

func (rep *report) printEnter(w io.Writer) {
	e := rep.enter
	line := func(name string, s samples) {
		if len(s) > 0 {
			row(w, name, ms(s.median()), spreadOf(s), ratio(s.median(), e.runcExec.median()),
				ratio(s.median(), e.runcExecUserNS.median()))
		}
	}
	fmt.Fprintf(w, "\n### Entering a running house: run `true`\n\n")
	header(w, "variant", "median", "min–max ms", "÷ runc exec", "÷ runc exec + userns")
	line("runc exec ID /bin/true, busybox init as PID 1 (reference)", e.runcExec)
	line("runc exec in a container with a user namespace too", e.runcExecUserNS)
	line("rt-lab run-container NAME -- true", e.cli)
	line("rt-lab run-container, house created with --userns=false", e.cliNoUserNS)
	line("rt-lab Go API: Exec true", e.api)
}

func (rep *report) printGrade(w io.Writer) {
	g := rep.grade
	fmt.Fprintf(w, "\n### Grading a finished lab (%s, %d houses running)\n\n", strings.Join(g.stages, ", "), g.houses)
	header(w, "command", "median", "min–max ms", "note")
	passed := "all steps passed"
	if !g.passed {
		passed = "some steps failed"
	}
	row(w, "rt-lab check", ms(g.check.median()), spreadOf(g.check), passed)
	for i, id := range g.stages {
		row(w, "rt-lab check "+id, ms(g.perStage[i].median()), spreadOf(g.perStage[i]),
			"start "+id+" --auto took "+ms(g.auto[i]))
	}
}

func (rep *report) printScale(w io.Writer) {
	fmt.Fprintf(w, "\n### Scale: N houses on one bridge (CLI), per house\n\n")
	header(w, "N", "create", "start", "delete", "up, wall / N", "reachable",
		"PSS", "cgroup memory", "MemAvailable drop", "kernel memory", "disk")
	for _, s := range rep.scale {
		row(w, fmt.Sprint(s.n), ms(s.create.median()), ms(s.start.median()), ms(s.delete.median()),
			ms(s.upWall/time.Duration(s.n)), fmt.Sprintf("%d/%d", s.reachable, pingCount(s)),
			kib(s.pss), kib(s.cgroupUsage), kib(s.memAvailable), kib(s.kernel), kib(s.disk))
	}
	fmt.Fprintf(w, "\nGrowth with the number of houses: median of the first 10 and the last 10 operations, and the"+
		" least-squares slope per house already there (delete runs in creation order, so its first"+
		" deletes see the most houses).\n\n")
	header(w, "N", "create first → last", "create slope", "start first → last", "start slope",
		"delete first → last", "delete slope", "ping median")
	for _, s := range rep.scale {
		cf, cla := s.create.firstLast(growthWindow)
		sf, sla := s.start.firstLast(growthWindow)
		df, dla := s.delete.firstLast(growthWindow)
		row(w, fmt.Sprint(s.n), ms(cf)+" → "+ms(cla), usPerHouse(s.create.slope()),
			ms(sf)+" → "+ms(sla), usPerHouse(s.start.slope()),
			ms(df)+" → "+ms(dla), usPerHouse(-s.delete.slope()), ms(s.ping.median()))
	}
	last := rep.scale[len(rep.scale)-1]
	fmt.Fprintf(w, "\nShared base per root: %s. rt-lab runs no daemon, so it adds no memory while houses idle;"+
		" one rt-lab command peaks at %s resident while it runs.\n", kib(last.base), mib(float64(last.cliMaxRSS)))
}

func pingCount(s *scaleResult) int {
	if s.n < 2 {
		return 0
	}
	return s.n
}

func usPerHouse(d time.Duration) string {
	return fmt.Sprintf("%+.0f µs", float64(d)/float64(time.Microsecond))
}

// printTargets marks each target met or not met from this run's figures.
func (rep *report) printTargets(w io.Writer) {
	fmt.Fprintf(w, "\n### Targets\n\n")
	header(w, "target", "this run", "verdict")
	if l := rep.lifecycle; l != nil {
		got := float64(l.cli.median()) / float64(l.runc.median())
		row(w, fmt.Sprintf("lifecycle (CLI) ≤ %.1f × runc run", targetLifecycleRatio),
			fmt.Sprintf("%.2f × (%s vs %s)", got, ms(l.cli.median()), ms(l.runc.median())), verdict(got <= targetLifecycleRatio))
	}
	if e := rep.enter; e != nil {
		got := float64(e.cli.median()) / float64(e.runcExec.median())
		row(w, "run-container NAME -- true ≤ runc exec",
			fmt.Sprintf("%.2f × (%s vs %s)", got, ms(e.cli.median()), ms(e.runcExec.median())), verdict(got <= 1))
	}
	if g := rep.grade; g != nil {
		row(w, "rt-lab check < "+ms(targetCheck), ms(g.check.median()), verdict(g.check.median() < targetCheck))
	}
	if len(rep.scale) == 0 {
		return
	}
	last := rep.scale[len(rep.scale)-1]
	houses := verdict(last.reachable == last.n)
	if last.n < targetHouses {
		houses = fmt.Sprintf("not measured: largest N was %d; run with BENCH_SCALE=full", last.n)
	}
	row(w, fmt.Sprintf("%d houses up and reachable", targetHouses),
		fmt.Sprintf("%d houses, %d reachable", last.n, last.reachable), houses)
	// PSS and cgroup memory overlap (both count the anonymous pages of the
	// house's processes), so their sum with the kernel's growth is an upper
	// estimate.
	mem := last.pss + last.cgroupUsage + max(last.kernel, 0)
	row(w, "added memory < 1 MiB per idle house (PSS + cgroup memory + kernel memory)",
		fmt.Sprintf("%s at N = %d (MemAvailable drop %s)", kib(mem), last.n, kib(last.memAvailable)), verdict(mem < targetMemory))
	row(w, "disk < 100 KiB per house", kib(last.disk), verdict(last.disk < targetDisk))
	if last.n < 2*growthWindow {
		return
	}
	for _, step := range []struct {
		name      string
		few, many time.Duration
	}{
		{"create", firstOf(last.create), lastOf(last.create)},
		{"start", firstOf(last.start), lastOf(last.start)},
		// Deletes run in creation order, so the first ones see the most houses.
		{"delete", lastOf(last.delete), firstOf(last.delete)},
	} {
		growth := float64(step.many) / float64(step.few)
		row(w, fmt.Sprintf("%s not slower with more houses (≤ %.1f × from the first to the last %d of N = %d)",
			step.name, superLinear, growthWindow, last.n),
			fmt.Sprintf("%.2f × (%s → %s)", growth, ms(step.few), ms(step.many)), verdict(growth <= superLinear))
	}
}

// growthWindow is how many operations at each end of a scale run the
// growth verdict compares.
const growthWindow = 10

func firstOf(s samples) time.Duration {
	first, _ := s.firstLast(growthWindow)
	return first
}

func lastOf(s samples) time.Duration {
	_, last := s.firstLast(growthWindow)
	return last
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "**not met**"
}
