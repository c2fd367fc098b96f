package main

import (
	"fmt"
	"os"
	"sync"
)

// cleanups is a stack of undo steps. Every step that creates a kernel object or
// a folder pushes its undo right away, so an error, a panic or Ctrl-C in the
// middle of a measurement still removes every house, runc container, cgroup,
// veth pair and bridge the benchmark made.
type cleanups struct {
	mu    sync.Mutex
	steps []cleanupStep
}

type cleanupStep struct {
	what string
	undo func() error
}

// push adds an undo step; steps run in reverse order.
func (c *cleanups) push(what string, undo func() error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.steps = append(c.steps, cleanupStep{what, undo})
}

// run runs and forgets every step, newest first, and reports the failures on
// stderr. It returns the number of failed steps.
func (c *cleanups) run() int {
	c.mu.Lock()
	steps := c.steps
	c.steps = nil
	c.mu.Unlock()
	failed := 0
	for i := len(steps) - 1; i >= 0; i-- {
		if err := steps[i].undo(); err != nil {
			fmt.Fprintf(os.Stderr, "bench: cleanup: %s: %v\n", steps[i].what, err)
			failed++
		}
	}
	return failed
}
