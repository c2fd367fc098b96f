package main

import (
	"slices"
	"strings"
	"testing"
)

func TestKernelCmdline(t *testing.T) {
	got, err := kernelCmdline([]string{"CI=true"}, []string{"-test.v", "-test.run=^TestX$"})
	if err != nil {
		t.Fatal(err)
	}
	want := "console=ttyS0 quiet panic=-1 cgroup_no_v1=all CI=true -- -test.v -test.run=^TestX$"
	if got != want {
		t.Errorf("kernelCmdline = %q, want %q", got, want)
	}
}

func TestKernelCmdlineRejects(t *testing.T) {
	tests := []struct {
		name     string
		env      []string
		testArgs []string
		want     string
	}{
		{"space in flag", nil, []string{"-test.run=A B"}, "must not be empty or contain spaces"},
		{"quote in flag", nil, []string{`-test.run="A"`}, "must not be empty or contain spaces"},
		{"empty flag", nil, []string{""}, "must not be empty"},
		{"env without value", []string{"CI"}, nil, "want NAME=value"},
		{"env with dot", []string{"a.b=1"}, nil, "no dot or dash"},
		{"too long", nil, []string{"-test.run=" + strings.Repeat("x", 2048)}, "more than the 2047"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kernelCmdline(tt.env, tt.testArgs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("kernelCmdline error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestQemuArgs(t *testing.T) {
	args := qemuArgs(vmSpec{vmlinuz: "/k", initrd: "/i", consoleLog: "/log", memoryMiB: 1024, cpus: 2}, "quiet")
	line := strings.Join(args, " ")
	for _, want := range []string{
		"-accel tcg", "-cpu max", "-m 1024", "-smp 2", "-nic none", "-no-reboot",
		"-serial file:/log", "-device isa-debug-exit,iobase=0xf4,iosize=0x04",
		"-kernel /k", "-initrd /i", "-append quiet",
	} {
		if !strings.Contains(line, want) {
			t.Errorf("qemu arguments lack %q: %s", want, line)
		}
	}
	if slices.Contains(args, "kvm") || strings.Contains(line, "-enable-kvm") {
		t.Errorf("qemu arguments ask for KVM: %s", line)
	}
}
