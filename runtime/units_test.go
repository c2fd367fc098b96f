package runtime

import (
	"testing"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

const testHostMemory = 4 << 30 // 4 GiB

func TestParseRAM(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"256", 256 * MiB, ""},
		{"0512", 512 * MiB, ""},
		{"08", 8 * MiB, ""},
		{"0", 0, "ErrMemoryZero"},
		{"-1", 0, "ErrRAMInvalid"},
		{"abc", 0, "ErrRAMInvalid"},
		{"1e3", 0, "ErrRAMInvalid"},
		{"512MB", 0, "ErrRAMInvalid"},
		{"0.5", 0, "ErrRAMInvalid"},
		{" 256", 0, "ErrRAMInvalid"},
		{"", 0, "ErrRAMInvalid"},
		{"5", 0, "ErrMemoryTooSmall"},
		{"4097", 0, "ErrMemoryTooLarge"},
		{"99999999999999999999", 0, "ErrRAMInvalid"},
	}
	for _, tt := range tests {
		got, err := ParseRAM(tt.in, testHostMemory)
		checkParse(t, "ParseRAM", tt.in, got, tt.want, err, tt.wantErr)
	}
}

func TestParseMemory(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		// units.TestParseSize covers the syntax. These cases check that a
		// bare number means bytes and that each error gets its message.
		{"512M", 512 * MiB, ""},
		{"512MiB", 512 * MiB, ""},
		{"1G", 1 << 30, ""},
		{"10485760", 10 * MiB, ""},
		{"0.5G", 0, "ErrMemoryInvalid"},
		{"-1M", 0, "ErrMemoryInvalid"},
		{"512T", 0, "ErrMemoryInvalid"},
		{"0M", 0, "ErrMemoryZero"},
		{"1M", 0, "ErrMemoryTooSmall"},
		{"5G", 0, "ErrMemoryTooLarge"},
	}
	for _, tt := range tests {
		got, err := ParseMemory(tt.in, testHostMemory)
		checkParse(t, "ParseMemory", tt.in, got, tt.want, err, tt.wantErr)
	}
}

func TestParseCPU(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr string
	}{
		{"50", 50, ""},
		{"050", 50, ""},
		{"1", 1, ""},
		{"200", 200, ""},
		{"50%", 50, ""},
		{"0", 0, "ErrCPURange"},
		{"201", 0, "ErrCPURange"},
		{"abc", 0, "ErrCPUInvalid"},
		{"-5", 0, "ErrCPUInvalid"},
		{"1.5", 0, "ErrCPUInvalid"},
	}
	for _, tt := range tests {
		got, err := ParseCPU(tt.in, 2)
		checkParse(t, "ParseCPU", tt.in, int64(got), int64(tt.want), err, tt.wantErr)
	}
}

func checkParse(t *testing.T, fn, in string, got, want int64, err error, wantErr string) {
	t.Helper()
	if wantErr == "" {
		if err != nil {
			t.Errorf("%s(%q) failed: %v", fn, in, err)
		} else if got != want {
			t.Errorf("%s(%q) = %d, want %d", fn, in, got, want)
		}
		return
	}
	if !usererr.Is(err, wantErr) {
		t.Errorf("%s(%q) error = %v, want %s", fn, in, err, wantErr)
	}
	if usererr.ExitCode(err) != usererr.ExitUsage {
		t.Errorf("%s(%q) exit status = %d, want %d", fn, in, usererr.ExitCode(err), usererr.ExitUsage)
	}
}

func TestParsePids(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"512", 512, ""},
		{"016", 16, ""},
		{"4194304", MaxPids, ""},
		{"15", 0, "ErrPidsRange"},
		{"0", 0, "ErrPidsRange"},
		{"4194305", 0, "ErrPidsRange"},
		{"-1", 0, "ErrPidsInvalid"},
		{"1e3", 0, "ErrPidsInvalid"},
		{"max", 0, "ErrPidsInvalid"},
		{"", 0, "ErrPidsInvalid"},
	}
	for _, tt := range tests {
		got, err := ParsePids(tt.in)
		checkParse(t, "ParsePids", tt.in, got, tt.want, err, tt.wantErr)
	}
}
