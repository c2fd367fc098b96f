package housetools

import (
	"reflect"
	"testing"
	"time"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

func TestParseSize(t *testing.T) {
	const host = 4 << 30
	tests := []struct {
		in   string
		want int64
		err  string // message id, "" for success
	}{
		// units.TestParseSize covers the syntax. These cases check that a
		// bare number means MiB and that each error gets its message.
		{"200", 200 * mib, ""},
		{"0512", 512 * mib, ""},
		{"512k", 512 << 10, ""},
		{"4096b", 4096, ""},
		{"4g", 4 << 30, ""},
		{"0", 0, "ErrEatMemorySizeZero"},
		{"0k", 0, "ErrEatMemorySizeZero"},
		{"5g", 0, "ErrEatMemorySizeTooLarge"},
		{"999999999999999", 0, "ErrEatMemorySizeTooLarge"},
		{"", 0, "ErrEatMemorySize"},
		{"-1", 0, "ErrEatMemorySize"},
		{"1.5", 0, "ErrEatMemorySize"},
		{"1t", 0, "ErrEatMemorySize"},
		{"1234567890123456", 0, "ErrEatMemorySize"},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in, host)
		if tt.err == "" {
			if err != nil || got != tt.want {
				t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
			continue
		}
		if !usererr.Is(err, tt.err) {
			t.Errorf("parseSize(%q) error = %v, want %s", tt.in, err, tt.err)
		}
		if usererr.ExitCode(err) != usererr.ExitUsage {
			t.Errorf("parseSize(%q) exit status = %d, want %d", tt.in, usererr.ExitCode(err), usererr.ExitUsage)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in        string
		allowZero bool
		want      time.Duration
		err       string
	}{
		{"10", false, 10 * time.Second, ""},
		{"010", false, 10 * time.Second, ""},
		{"1.5s", false, 1500 * time.Millisecond, ""},
		{"500ms", false, 500 * time.Millisecond, ""},
		{"2m", false, 2 * time.Minute, ""},
		{"86400", false, 24 * time.Hour, ""},
		{"0", true, 0, ""},
		{"0s", true, 0, ""},
		{"0", false, 0, "ErrHouseToolDurationZero"},
		{"-1s", true, 0, "ErrHouseToolDurationNegative"},
		{"-1", true, 0, "ErrHouseToolDuration"},
		{"86401", false, 0, "ErrHouseToolDurationTooLong"},
		{"25h", false, 0, "ErrHouseToolDurationTooLong"},
		{"999999999999999", false, 0, "ErrHouseToolDurationTooLong"},
		{"1.5", false, 0, "ErrHouseToolDuration"},
		{"1e3", false, 0, "ErrHouseToolDuration"},
		{"ten", false, 0, "ErrHouseToolDuration"},
		{"", false, 0, "ErrHouseToolDuration"},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in, "--hold", tt.allowZero)
		if tt.err == "" {
			if err != nil || got != tt.want {
				t.Errorf("parseDuration(%q, %v) = %v, %v; want %v", tt.in, tt.allowZero, got, err, tt.want)
			}
			continue
		}
		if !usererr.Is(err, tt.err) {
			t.Errorf("parseDuration(%q, %v) error = %v, want %s", tt.in, tt.allowZero, err, tt.err)
		}
	}
}

func TestParseWorkers(t *testing.T) {
	for _, in := range []string{"1", "02", "256"} {
		if _, err := parseWorkers(in); err != nil {
			t.Errorf("parseWorkers(%q) = %v, want success", in, err)
		}
	}
	for _, in := range []string{"0", "257", "-1", "two", "1.0", ""} {
		if _, err := parseWorkers(in); !usererr.Is(err, "ErrBurnCPUWorkers") {
			t.Errorf("parseWorkers(%q) error = %v, want ErrBurnCPUWorkers", in, err)
		}
	}
}

func TestParseMode(t *testing.T) {
	tests := map[string]uint32{"644": 0o644, "0600": 0o600, "0": 0, "777": 0o777}
	for in, want := range tests {
		if got, err := parseMode(in); err != nil || got != want {
			t.Errorf("parseMode(%q) = %o, %v; want %o", in, got, err, want)
		}
	}
	for _, in := range []string{"800", "1000", "rw", "-644", "+644", "", "0x1ff"} {
		if _, err := parseMode(in); !usererr.Is(err, "ErrIpcmkMode") {
			t.Errorf("parseMode(%q) error = %v, want ErrIpcmkMode", in, err)
		}
	}
}

func TestParseQueueID(t *testing.T) {
	if got, err := parseQueueID("0"); err != nil || got != 0 {
		t.Errorf("parseQueueID(0) = %d, %v", got, err)
	}
	if got, err := parseQueueID("2147483647"); err != nil || got != 1<<31-1 {
		t.Errorf("parseQueueID(max) = %d, %v", got, err)
	}
	for _, in := range []string{"2147483648", "-1", "0x10", "", "id"} {
		if _, err := parseQueueID(in); !usererr.Is(err, "ErrIpcrmID") {
			t.Errorf("parseQueueID(%q) error = %v, want ErrIpcrmID", in, err)
		}
	}
}

func TestParseArgs(t *testing.T) {
	spec := []option{
		{names: []string{"--workers", "-w"}, value: true},
		{names: []string{"-Q"}},
	}
	tests := []struct {
		name       string
		args       []string
		positional []string
		values     map[string][]string
		err        string
	}{
		{"value as next argument", []string{"5", "--workers", "2"}, []string{"5"}, map[string][]string{"--workers": {"2"}}, ""},
		{"value after equals", []string{"--workers=3"}, nil, map[string][]string{"--workers": {"3"}}, ""},
		{"short alias", []string{"-w", "4"}, nil, map[string][]string{"--workers": {"4"}}, ""},
		{"repeats kept in order", []string{"-w", "1", "-w", "2"}, nil, map[string][]string{"--workers": {"1", "2"}}, ""},
		{"flag without value", []string{"-Q"}, nil, map[string][]string{"-Q": {""}}, ""},
		{"negative number is positional", []string{"-5"}, []string{"-5"}, map[string][]string{}, ""},
		{"lone dash is positional", []string{"-"}, []string{"-"}, map[string][]string{}, ""},
		{"after double dash", []string{"--", "-Q"}, []string{"-Q"}, map[string][]string{}, ""},
		{"unknown option", []string{"--memory", "5"}, nil, nil, "ErrHouseToolOption"},
		{"missing value", []string{"--workers"}, nil, nil, "ErrHouseToolOptionValue"},
		{"value on flag", []string{"-Q=1"}, nil, nil, "ErrHouseToolOptionNoValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			positional, values, err := parseArgs(tt.args, spec)
			if tt.err != "" {
				if !usererr.Is(err, tt.err) {
					t.Fatalf("error = %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(positional, tt.positional) {
				t.Errorf("positional = %q, want %q", positional, tt.positional)
			}
			if !reflect.DeepEqual(values, tt.values) {
				t.Errorf("values = %q, want %q", values, tt.values)
			}
		})
	}
}

func TestFormatMiB(t *testing.T) {
	tests := map[int64]string{16 * mib: "16", 0: "0", mib + mib/2: "1.5", 512 << 10: "0.5", 4096: "0.00391"}
	for in, want := range tests {
		if got := formatMiB(in); got != want {
			t.Errorf("formatMiB(%d) = %q, want %q", in, got, want)
		}
	}
}
