package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/locales"
	"github.com/rt-lab/rt-lab/runtime"
)

// t0 is a fixed time for fake readings, so no test here reads the clock.
var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

// fakeReading returns a reading of running house rumah-hemat at t0+at, with
// cpu of CPU time used since its start and a 64 MiB, 25 % limit.
func fakeReading(at, cpu time.Duration) reading {
	return reading{
		At: t0.Add(at), Name: "rumah-hemat", State: runtime.StatusRunning,
		PID: 4242, PIDStart: 777, Started: t0.Add(-10 * time.Second),
		Version: cgroups.V1,
		Paths: []string{
			"/sys/fs/cgroup/memory/rt-lab-1a2b3c4d/rumah-hemat",
			"/sys/fs/cgroup/cpu/rt-lab-1a2b3c4d/rumah-hemat",
		},
		Stats: &cgroups.Stats{
			MemoryUsage: 16 * runtime.MiB, MemoryMaxUsage: 20*runtime.MiB + 512*1024, MemoryLimit: 64 * runtime.MiB,
			CPUUsage: cpu, CPUQuota: 25000, CPUPeriod: 100000,
			NrPeriods: 480, NrThrottled: 120, ThrottledTime: 29500 * time.Millisecond,
			PidsCurrent: 3, PidsMax: 512, OOMKills: 2,
		},
	}
}

func stoppedReading() reading {
	return reading{At: t0, Name: "rumah-hemat", State: runtime.StatusStopped, Version: cgroups.V1,
		MemoryBytes: 64 * runtime.MiB, CPUPercent: 25, Pids: 512}
}

func testApp(lang locales.Lang) *App {
	return &App{P: locales.For(lang), Env: func(string) string { return "" }}
}

func TestCPUBetween(t *testing.T) {
	base := fakeReading(0, 2*time.Second)
	restarted := fakeReading(time.Second, 100*time.Millisecond)
	restarted.PIDStart = 778
	tests := []struct {
		name      string
		prev, cur reading
		want      float64
		ok        bool
	}{
		{"quarter CPU", base, fakeReading(time.Second, 2250*time.Millisecond), 25, true},
		{"two CPUs busy", base, fakeReading(500*time.Millisecond, 3*time.Second), 200, true},
		{"idle", base, fakeReading(time.Second, 2*time.Second), 0, true},
		{"restarted house", base, restarted, 0, false},
		{"stopped before", stoppedReading(), fakeReading(time.Second, time.Second), 0, false},
		{"stopped now", base, stoppedReading(), 0, false},
		{"no time passed", base, fakeReading(0, 3*time.Second), 0, false},
		{"counter went back", base, fakeReading(time.Second, time.Second), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := cpuBetween(tt.prev, tt.cur)
			if ok != tt.ok {
				t.Fatalf("known = %v, want %v", ok, tt.ok)
			}
			if ok && got.Percent != tt.want {
				t.Errorf("percent = %v, want %v", got.Percent, tt.want)
			}
		})
	}
}

func TestCPUSinceStart(t *testing.T) {
	got, ok := cpuSinceStart(fakeReading(0, 2500*time.Millisecond)) // 2.5 s in 10 s
	if !ok || got.Percent != 25 || got.Over != 10*time.Second {
		t.Errorf("cpuSinceStart = %+v, %v; want 25%% over 10s", got, ok)
	}
	unknown := fakeReading(0, time.Second)
	unknown.Started = time.Time{}
	if _, ok := cpuSinceStart(unknown); ok {
		t.Error("a reading without a start time has a known average")
	}
}

func TestBar(t *testing.T) {
	tests := []struct {
		fraction float64
		want     string
	}{
		{0, "[....................]"},
		{0.25, "[#####...............]"},
		{0.35, "[#######.............]"},
		{1, "[####################]"},
		{1.7, "[####################]"},
		{-0.1, "[....................]"},
	}
	for _, tt := range tests {
		if got := bar(tt.fraction); got != tt.want {
			t.Errorf("bar(%v) = %q, want %q", tt.fraction, got, tt.want)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		lang locales.Lang
		n    int64
		want string
	}{
		{locales.EN, 512, "512 B"},
		{locales.EN, 300 * 1024, "300 KiB"},
		{locales.EN, 16*runtime.MiB + 300*1024, "16.3 MiB"},
		{locales.ID, 16*runtime.MiB + 300*1024, "16,3 MiB"},
		{locales.EN, 64 * runtime.MiB, "64 MiB"},
		{locales.EN, 3 * 512 * runtime.MiB, "1.5 GiB"},
	}
	for _, tt := range tests {
		if got := testApp(tt.lang).formatBytes(tt.n); got != tt.want {
			t.Errorf("%s: formatBytes(%d) = %q, want %q", tt.lang, tt.n, got, tt.want)
		}
	}
}

func TestParseInterval(t *testing.T) {
	good := []struct {
		in   string
		want time.Duration
	}{
		{"1s", time.Second},
		{"500ms", 500 * time.Millisecond},
		{"100ms", 100 * time.Millisecond},
		{"2", 2 * time.Second},
	}
	for _, tt := range good {
		if got, err := parseInterval(tt.in); err != nil || got != tt.want {
			t.Errorf("parseInterval(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"99ms", "0", "-1s", "soon", "", "1e3", "1.5"} {
		_, err := parseInterval(in)
		if usererr.ExitCode(err) != usererr.ExitUsage {
			t.Errorf("parseInterval(%q): error %v, want a usage error", in, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, `"`+in+`"`) {
			t.Errorf("parseInterval(%q): message %q does not name the value", in, msg)
		}
		if msg := err.Error(); !strings.Contains(msg, "at least 100ms") {
			t.Errorf("parseInterval(%q): message %q does not name the minimum", in, msg)
		}
	}
}

func TestBillLinesEnglish(t *testing.T) {
	prev, cur := fakeReading(0, 2*time.Second), fakeReading(500*time.Millisecond, 2124*time.Millisecond)
	cpu, ok := cpuBetween(prev, cur)
	got := strings.Join(testApp(locales.EN).billLines(cur, cpu, ok), "\n")
	want := strings.Join([]string{
		"Electricity bill of house rumah-hemat (running, host PID 4242)",
		"  Memory             16 MiB / 64 MiB  [#####...............] 25%",
		"  Peak memory        20.5 MiB",
		"  CPU                24.8% of one CPU over the last 0.5 s / limit 25%",
		"  Processes          3 / 512",
		"  OOM kills          2",
		"  Throttled periods  120 / 480 (nr_throttled / nr_periods)",
		"  Throttled time     29.5 s",
		"  cgroup v1          /sys/fs/cgroup/memory/rt-lab-1a2b3c4d/rumah-hemat",
		"                     /sys/fs/cgroup/cpu/rt-lab-1a2b3c4d/rumah-hemat",
	}, "\n")
	if got != want {
		t.Errorf("bill:\n%s\nwant:\n%s", got, want)
	}
}

func TestBillLinesIndonesian(t *testing.T) {
	prev, cur := fakeReading(0, 2*time.Second), fakeReading(500*time.Millisecond, 2124*time.Millisecond)
	cpu, ok := cpuBetween(prev, cur)
	got := strings.Join(testApp(locales.ID).billLines(cur, cpu, ok), "\n")
	for _, want := range []string{
		"Tagihan listrik rumah rumah-hemat (berjalan, PID host 4242)",
		"Memori puncak",
		"20,5 MiB",
		"24,8% dari satu CPU selama 0,5 s terakhir / batas 25%",
		"Periode throttled",
		"29,5 s",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("bill does not contain %q:\n%s", want, got)
		}
	}
}

func TestBillLinesMeasuring(t *testing.T) {
	got := strings.Join(testApp(locales.EN).billLines(fakeReading(0, 0), cpuUse{}, false), "\n")
	if !strings.Contains(got, "measuring... / limit 25%") {
		t.Errorf("bill without a CPU delta does not say measuring:\n%s", got)
	}
}

func TestBillLinesNoLimits(t *testing.T) {
	cur := fakeReading(0, 0)
	cur.Stats.MemoryLimit, cur.Stats.CPUQuota, cur.Stats.PidsMax = 0, -1, 0
	got := strings.Join(testApp(locales.EN).billLines(cur, cpuUse{Percent: 50, Over: time.Second}, true), "\n")
	for _, want := range []string{"16 MiB / no limit\n", "50.0% of one CPU over the last 1.0 s / no limit", "3 / no limit"} {
		if !strings.Contains(got, want) {
			t.Errorf("bill does not contain %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "[") {
		t.Errorf("bill without a memory limit has a bar:\n%s", got)
	}
}

func TestBillLinesStopped(t *testing.T) {
	a := testApp(locales.EN)
	got := strings.Join(a.billLines(stoppedReading(), cpuUse{}, false), "\n")
	for _, want := range []string{
		"Electricity bill of house rumah-hemat (stopped)",
		"Memory             - / 64 MiB",
		"CPU                - / limit 25%",
		"Processes          - / 512",
		"OOM kills          -",
		"cgroup v1          none: the group exists only while the house runs",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("bill does not contain %q:\n%s", want, got)
		}
	}
	if hint := a.billHint(stoppedReading()); !strings.Contains(hint, "rt-lab run-container rumah-hemat") {
		t.Errorf("hint %q does not say how to start the house", hint)
	}
}

func TestBillHintFiles(t *testing.T) {
	a := testApp(locales.EN)
	v1 := fakeReading(0, 0)
	if got := a.billHint(v1); !strings.HasSuffix(got, "cat /sys/fs/cgroup/memory/rt-lab-1a2b3c4d/rumah-hemat/memory.usage_in_bytes") {
		t.Errorf("v1 hint = %q", got)
	}
	v2 := fakeReading(0, 0)
	v2.Version, v2.Paths = cgroups.V2, []string{"/sys/fs/cgroup/rt-lab-1a2b3c4d/rumah-hemat"}
	if got := a.billHint(v2); !strings.HasSuffix(got, "cat /sys/fs/cgroup/rt-lab-1a2b3c4d/rumah-hemat/memory.current") {
		t.Errorf("v2 hint = %q", got)
	}
}

func TestBillJSON(t *testing.T) {
	prev, cur := fakeReading(0, 2*time.Second), fakeReading(500*time.Millisecond, 2124*time.Millisecond)
	cpu, ok := cpuBetween(prev, cur)
	var got map[string]any
	mustRoundTrip(t, newBillJSON(cur, cpu, ok), &got)
	want := map[string]any{
		"state": "running", "pid": 4242.0, "cgroup_version": "v1",
		"memory_used_bytes": 16777216.0, "memory_limit_bytes": 67108864.0,
		"cpu_usage_ns": 2.124e9, "cpu_percent": 24.8, "cpu_sample_ns": 5e8, "cpu_limit_percent": 25.0,
		"cpu_quota_us": 25000.0, "cpu_period_us": 100000.0, "pids_current": 3.0, "pids_max": 512.0,
		"oom_kills": 2.0, "nr_periods": 480.0, "nr_throttled": 120.0, "throttled_time_ns": 2.95e10,
	}
	for key, value := range want {
		if got[key] != value {
			t.Errorf("%s = %v, want %v", key, got[key], value)
		}
	}

	var stopped map[string]any
	mustRoundTrip(t, newBillJSON(stoppedReading(), cpuUse{}, false), &stopped)
	for _, key := range []string{"memory_used_bytes", "cpu_percent", "pids_current", "oom_kills"} {
		value, present := stopped[key]
		if !present || value != nil {
			t.Errorf("stopped: %s = %v (present %v), want null", key, value, present)
		}
	}
	if stopped["state"] != "stopped" {
		t.Errorf("stopped: state = %v", stopped["state"])
	}
	// The recorded limits, as the text bill shows them.
	for key, value := range map[string]any{
		"memory_limit_bytes": 67108864.0, "pids_max": 512.0, "cpu_limit_percent": 25.0,
	} {
		if stopped[key] != value {
			t.Errorf("stopped: %s = %v, want %v", key, stopped[key], value)
		}
	}
}

func mustRoundTrip(t *testing.T, v any, out *map[string]any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatal(err)
	}
}

// fakeLoop feeds a monitorLoop its readings in order. Its wait returns true
// for the first waits calls and then false, as after Ctrl-C.
type fakeLoop struct {
	readings []reading
	waits    int
	waited   []time.Duration
	emitted  []cpuUse
	known    []bool
}

func (f *fakeLoop) loop(samples int) *monitorLoop {
	return &monitorLoop{
		read: func() (reading, error) {
			if len(f.readings) == 0 {
				return reading{}, errors.New("no more readings")
			}
			r := f.readings[0]
			f.readings = f.readings[1:]
			return r, nil
		},
		emit: func(cur reading, cpu cpuUse, known bool) error {
			f.emitted, f.known = append(f.emitted, cpu), append(f.known, known)
			return nil
		},
		wait: func(d time.Duration) bool {
			f.waited = append(f.waited, d)
			return len(f.waited) <= f.waits
		},
		firstGap: 500 * time.Millisecond,
		interval: 2 * time.Second,
		samples:  samples,
	}
}

func TestMonitorLoopOneSample(t *testing.T) {
	f := &fakeLoop{readings: []reading{fakeReading(500*time.Millisecond, 250*time.Millisecond)}, waits: 10}
	if err := f.loop(1).run(fakeReading(0, 0)); err != nil {
		t.Fatal(err)
	}
	if len(f.emitted) != 1 || !f.known[0] || f.emitted[0].Percent != 50 {
		t.Errorf("emitted %+v (known %v), want one sample of 50%%", f.emitted, f.known)
	}
	if len(f.waited) != 1 || f.waited[0] != 500*time.Millisecond {
		t.Errorf("waited %v, want one wait of the first gap", f.waited)
	}
}

func TestMonitorLoopWatchUntilStopped(t *testing.T) {
	f := &fakeLoop{waits: 3, readings: []reading{
		fakeReading(500*time.Millisecond, 100*time.Millisecond),
		fakeReading(2500*time.Millisecond, 600*time.Millisecond),
		fakeReading(4500*time.Millisecond, 1100*time.Millisecond),
	}}
	if err := f.loop(0).run(fakeReading(0, 0)); err != nil {
		t.Fatal(err)
	}
	if len(f.emitted) != 3 {
		t.Fatalf("emitted %d samples, want 3", len(f.emitted))
	}
	for i, want := range []float64{20, 25, 25} {
		if f.emitted[i].Percent != want {
			t.Errorf("sample %d: %v%%, want %v%%", i, f.emitted[i].Percent, want)
		}
	}
	wantWaits := []time.Duration{500 * time.Millisecond, 2 * time.Second, 2 * time.Second, 2 * time.Second}
	if len(f.waited) != len(wantWaits) {
		t.Fatalf("waited %v, want %v", f.waited, wantWaits)
	}
	for i := range wantWaits {
		if f.waited[i] != wantWaits[i] {
			t.Errorf("wait %d = %v, want %v", i, f.waited[i], wantWaits[i])
		}
	}
}

func TestMonitorLoopStoppedHouseAtOnce(t *testing.T) {
	f := &fakeLoop{waits: 10}
	if err := f.loop(1).run(stoppedReading()); err != nil {
		t.Fatal(err)
	}
	if len(f.emitted) != 1 || f.known[0] {
		t.Errorf("emitted %v (known %v), want one sample without CPU use", f.emitted, f.known)
	}
	if len(f.waited) != 0 {
		t.Errorf("waited %v for a stopped house", f.waited)
	}
}

func TestMonitorLoopCtrlCInFirstGap(t *testing.T) {
	f := &fakeLoop{waits: 0}
	if err := f.loop(0).run(fakeReading(0, 0)); err != nil {
		t.Fatal(err)
	}
	if len(f.emitted) != 0 {
		t.Errorf("emitted %d samples after Ctrl-C", len(f.emitted))
	}
}

func TestMonitorLoopReadError(t *testing.T) {
	f := &fakeLoop{waits: 10}
	if err := f.loop(0).run(fakeReading(0, 0)); err == nil {
		t.Error("a failed reading did not end the loop with an error")
	}
}

func TestFrameWriter(t *testing.T) {
	var out bytes.Buffer
	f := &frameWriter{out: &out, width: func() int { return 11 }}
	if err := f.draw([]string{"first", "a line longer than ten"}); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "first\x1b[K\na line lon\x1b[K\n\x1b[J"; got != want {
		t.Errorf("first frame %q, want %q", got, want)
	}
	out.Reset()
	if err := f.draw([]string{"second"}); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "\r\x1b[2Asecond\x1b[K\n\x1b[J"; got != want {
		t.Errorf("second frame %q, want %q", got, want)
	}
}

func TestMonitorHelpInBothLanguages(t *testing.T) {
	for _, tt := range []struct{ lang, want string }{{"en", "NDJSON"}, {"id", "tagihan listrik"}} {
		code, out, errOut := runCLI(t, map[string]string{"RT_LAB_ROOT": t.TempDir()},
			"--lang", tt.lang, "monitor-resources", "--help")
		if code != 0 {
			t.Errorf("%s help: status %d, stderr %q", tt.lang, code, errOut)
		}
		if !strings.Contains(out, tt.want) {
			t.Errorf("%s help does not contain %q:\n%s", tt.lang, tt.want, out)
		}
	}
}
