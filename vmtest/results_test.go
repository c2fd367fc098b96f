package main

import (
	"bytes"
	"slices"
	"testing"
)

func TestResultCounter(t *testing.T) {
	var out bytes.Buffer
	counter := &resultCounter{w: &out}
	input := "=== RUN   TestA\n--- PASS: TestA (0.00s)\n" +
		"--- FAIL: TestB (1.00s)\n    --- PASS: TestB/one (0.00s)\n    --- FAIL: TestB/two (0.00s)\n" +
		"--- SKIP: TestC (0.00s)\n    x_test.go:1: needs a thing\nPASS\n"
	// Write in small pieces, as a serial port delivers them.
	for i := 0; i < len(input); i += 7 {
		counter.Write([]byte(input[i:min(i+7, len(input))]))
	}
	if out.String() != input {
		t.Errorf("output passed on = %q, want the input", out.String())
	}
	if counter.passed != 2 {
		t.Errorf("passed = %d, want 2", counter.passed)
	}
	if counter.failed != 2 {
		t.Errorf("failed = %d, want 2", counter.failed)
	}
	if want := []string{"TestB", "TestB/two"}; !slices.Equal(counter.failing, want) {
		t.Errorf("failing = %q, want %q", counter.failing, want)
	}
	if want := []string{"TestC"}; !slices.Equal(counter.skipped, want) {
		t.Errorf("skipped = %q, want %q", counter.skipped, want)
	}
}
