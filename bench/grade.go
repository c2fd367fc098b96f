package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"

	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/runtime"
)

// gradeResult holds the samples of the grading benchmark.
type gradeResult struct {
	stages   []string        // ready stages, in order
	auto     []time.Duration // wall time of `start STAGE --auto`, per stage
	check    samples         // `rt-lab check` of every stage
	passed   bool            // the last `rt-lab check` exited with status 0
	perStage []samples       // `rt-lab check STAGE`, per stage
	houses   int             // houses running while check ran
}

// benchGrade finishes every ready stage with `rt-lab start STAGE --auto` on
// a fresh state folder, then times `rt-lab check` of the finished lab.
func benchGrade(ctx context.Context, e *env) (*gradeResult, error) {
	all, err := lessons.All()
	if err != nil {
		return nil, err
	}
	root, err := newRoot(e.cl, e.tmp, "grade")
	if err != nil {
		return nil, err
	}
	cli := rtlabCLI{bin: e.bin, root: root}
	res := &gradeResult{}
	for _, s := range all {
		if !s.Ready() {
			continue
		}
		progress("grade: start %s --auto", s.ID)
		r, err := cli.run("start", s.ID, "--auto")
		if err != nil {
			return nil, err
		}
		res.stages = append(res.stages, s.ID)
		res.auto = append(res.auto, r.wall)
	}
	r, err := runtime.New(runtime.Options{Root: root})
	if err != nil {
		return nil, err
	}
	cs, err := r.List()
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.Status == runtime.StatusRunning {
			res.houses++
		}
	}

	res.perStage = make([]samples, len(res.stages))
	for i := 0; i <= e.runs; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		progress("grade round %d of %d", i, e.runs)
		d, code, err := cli.runStatus("check")
		if err != nil {
			return nil, err
		}
		res.passed = code == 0
		if i > 0 {
			res.check = append(res.check, d)
		}
		for j, id := range res.stages {
			d, _, err := cli.runStatus("check", id)
			if err != nil {
				return nil, err
			}
			if i > 0 {
				res.perStage[j] = append(res.perStage[j], d)
			}
		}
	}
	return res, nil
}

// runStatus runs rt-lab with args and returns its wall time and exit status.
// Only a command that could not run, or was killed, is an error, so a check
// that grades a step as failed still counts as a run.
func (c rtlabCLI) runStatus(args ...string) (time.Duration, int, error) {
	full := append([]string{"--root", c.root, "--lang", "en"}, args...)
	cmd := exec.Command(c.bin, full...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start)
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() > 0 {
		return wall, exit.ExitCode(), nil
	}
	if err != nil {
		return wall, -1, fmt.Errorf("rt-lab %v: %w\n%s", args, err, out)
	}
	return wall, 0, nil
}
