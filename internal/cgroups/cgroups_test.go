package cgroups

import (
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

func TestParentNameDiffersPerRoot(t *testing.T) {
	a, b := ParentName("/var/lib/rt-lab"), ParentName("/tmp/other")
	if a == b {
		t.Fatalf("two roots share parent %s", a)
	}
	if !strings.HasPrefix(a, "rt-lab-") || len(a) != len("rt-lab-")+8 {
		t.Errorf("parent name %q, want rt-lab- and 8 hex digits", a)
	}
	if err := ValidateName(a); err != nil {
		t.Errorf("parent name %q rejected: %v", a, err)
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"rumah-jakarta", true},
		{"rt-lab-1a2b3c4d", true},
		{"", false},
		{".", false},
		{"..", false},
		{"a/b", false},
		{"../../etc", false},
		{"memory.max", false},
		{"tasks", false},
		{"release_agent", false},
		{"notify_on_release", false},
		{"a\nb", false},
		{strings.Repeat("a", 256), false},
	}
	for _, tt := range tests {
		err := ValidateName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateName(%q) = %v, want ok %v", tt.name, err, tt.ok)
		}
		if err != nil && usererr.ExitCode(err) != usererr.ExitUsage {
			t.Errorf("ValidateName(%q): exit status %d, want usage", tt.name, usererr.ExitCode(err))
		}
	}
}

func TestParseProcGroup(t *testing.T) {
	hybrid := "9:name=systemd:/\n8:pids:/rt-lab-1/r\n4:memory:/rt-lab-1/r\n2:cpu,cpuacct:/rt-lab-1/r\n0::/\n"
	g, err := ParseProcGroup(hybrid)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"memory": "/rt-lab-1/r", "cpu": "/rt-lab-1/r", "cpuacct": "/rt-lab-1/r",
		"pids": "/rt-lab-1/r", "name=systemd": "/", "": "/"}
	for k, v := range want {
		if g[k] != v {
			t.Errorf("hybrid: group[%q] = %q, want %q", k, g[k], v)
		}
	}

	g, err = ParseProcGroup("0::/rt-lab-1/r\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != 1 || g[""] != "/rt-lab-1/r" {
		t.Errorf("v2: groups %v, want only the unified path", g)
	}

	for _, bad := range []string{"garbage", "1:memory", "1:memory:relative"} {
		if _, err := ParseProcGroup(bad); err == nil {
			t.Errorf("ParseProcGroup(%q) succeeded", bad)
		}
	}
}

func TestLimitsValidate(t *testing.T) {
	tests := []struct {
		limits Limits
		ok     bool
	}{
		{Limits{}, true},
		{Limits{MemoryBytes: 64 << 20, CPUPercent: 1, Pids: 1}, true},
		{Limits{MemoryBytes: -1}, false},
		{Limits{CPUPercent: -5}, false},
		{Limits{Pids: -1}, false},
	}
	for _, tt := range tests {
		if err := tt.limits.Validate(); (err == nil) != tt.ok {
			t.Errorf("%+v: Validate() = %v, want ok %v", tt.limits, err, tt.ok)
		}
	}
	if q := (Limits{CPUPercent: 25}).CPUQuota(); q != 25000 {
		t.Errorf("25 percent quota = %d, want 25000", q)
	}
	if q := (Limits{CPUPercent: 200}).CPUQuota(); q != 200000 {
		t.Errorf("200 percent quota = %d, want 200000", q)
	}
	if q := (Limits{}).CPUQuota(); q != -1 {
		t.Errorf("no CPU limit quota = %d, want -1", q)
	}
}
