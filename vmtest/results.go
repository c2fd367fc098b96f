package main

import (
	"bytes"
	"io"
	"regexp"
	"sync"
)

// testResultLine matches the result lines that `go test -v` prints for each
// test and subtest, such as "    --- PASS: TestX/case (0.01s)".
var testResultLine = regexp.MustCompile(`^\s*--- (PASS|FAIL|SKIP): (\S+)`)

// resultCounter passes the test output on and counts the result lines in it.
type resultCounter struct {
	w       io.Writer
	mu      sync.Mutex
	partial []byte
	passed  int
	failed  int
	skipped []string
	failing []string
}

func (r *resultCounter) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.partial = append(r.partial, p...)
	for {
		end := bytes.IndexByte(r.partial, '\n')
		if end < 0 {
			break
		}
		r.count(r.partial[:end])
		r.partial = r.partial[end+1:]
	}
	r.mu.Unlock()
	return r.w.Write(p)
}

func (r *resultCounter) count(line []byte) {
	m := testResultLine.FindSubmatch(line)
	if m == nil {
		return
	}
	switch string(m[1]) {
	case "PASS":
		r.passed++
	case "FAIL":
		r.failed++
		r.failing = append(r.failing, string(m[2]))
	case "SKIP":
		r.skipped = append(r.skipped, string(m[2]))
	}
}
