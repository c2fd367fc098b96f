package cli

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/rt-lab/rt-lab/internal/cgroups"
)

// barWidth is the number of cells in the memory bar.
const barWidth = 20

// bar draws fraction, from 0 to 1, as barWidth cells of '#' (used) and '.'
// (free) in brackets. Values outside 0 to 1 are clamped.
func bar(fraction float64) string {
	fraction = max(0, min(1, fraction))
	used := int(math.Round(fraction * barWidth))
	return "[" + strings.Repeat("#", used) + strings.Repeat(".", barWidth-used) + "]"
}

// numbers returns a printer that writes numbers the way the user's language
// does: 16.5 in English is 16,5 in Indonesian.
func (a *App) numbers() *message.Printer {
	return message.NewPrinter(language.Make(string(a.P.Lang)))
}

// formatBytes writes n in binary units (B, KiB, MiB, GiB, TiB), with one
// decimal unless the value is whole: "512 KiB", "16.3 MiB", "64 MiB".
func (a *App) formatBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	value, unit := float64(n), ""
	for _, unit = range []string{"KiB", "MiB", "GiB", "TiB"} {
		value /= 1024
		if value < 1024 {
			break
		}
	}
	if value == math.Trunc(value) {
		return a.numbers().Sprintf("%.0f %s", value, unit)
	}
	return a.numbers().Sprintf("%.1f %s", value, unit)
}

// formatPercent writes a percentage with the given number of decimals.
func (a *App) formatPercent(p float64, decimals int) string {
	return a.numbers().Sprintf("%.*f", decimals, p) + "%"
}

// formatSeconds writes d in seconds with one decimal: "0.5 s".
func (a *App) formatSeconds(d time.Duration) string {
	return a.numbers().Sprintf("%.1f s", d.Seconds())
}

// formatCount writes a counter with the user's digit grouping: 12,345 or 12.345.
func (a *App) formatCount(n uint64) string { return a.numbers().Sprintf("%d", n) }

// billTitle returns the first line of the bill, with the electricity-bill
// framing of the lessons.
func (a *App) billTitle(cur reading) string {
	if cur.running() {
		return a.P.Tf("MonitorTitleRunning", "Name", cur.Name, "PID", cur.PID)
	}
	return a.P.Tf("MonitorTitleStopped", "Name", cur.Name)
}

// billLines renders one sample as the lines of the bill: a title, then one row
// per counter with the standard term as its label. cpu is the CPU use since
// the previous reading, when cpuKnown.
func (a *App) billLines(cur reading, cpu cpuUse, cpuKnown bool) []string {
	var rows [][2]string
	add := func(labelID, value string) { rows = append(rows, [2]string{a.P.T(labelID, nil), value}) }

	if cur.running() {
		s := cur.Stats
		add("MonitorMemory", a.memoryValue(s))
		add("MonitorMemoryPeak", a.peakValue(s))
		add("MonitorCPU", a.cpuValue(s, cpu, cpuKnown))
		add("MonitorPids", a.limitedCount(s.PidsCurrent, s.PidsMax))
		add("MonitorOOMKills", a.formatCount(s.OOMKills))
		add("MonitorThrottled", a.P.Tf("MonitorThrottledValue",
			"Throttled", a.formatCount(s.NrThrottled), "Periods", a.formatCount(s.NrPeriods)))
		add("MonitorThrottledTime", a.formatSeconds(s.ThrottledTime))
	} else {
		add("MonitorMemory", "- / "+a.limitBytes(cur.MemoryBytes))
		add("MonitorMemoryPeak", "-")
		add("MonitorCPU", "- / "+a.cpuLimit(float64(cur.CPUPercent)))
		add("MonitorPids", a.limitedCount(-1, cur.Pids))
		for _, id := range []string{"MonitorOOMKills", "MonitorThrottled", "MonitorThrottledTime"} {
			add(id, "-")
		}
	}

	group := a.P.Tf("MonitorCgroup", "Version", cur.Version.String())
	switch {
	case cur.Version == 0:
		rows = append(rows, [2]string{"cgroup", a.P.T("MonitorNoCgroups", nil)})
	case !cur.running():
		rows = append(rows, [2]string{group, a.P.T("MonitorNoGroup", nil)})
	default:
		for i, p := range cur.Paths {
			if i > 0 {
				group = ""
			}
			rows = append(rows, [2]string{group, p})
		}
	}

	var buf bytes.Buffer
	w := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(w, "  %s\t%s\n", r[0], r[1])
	}
	w.Flush()
	lines := []string{a.billTitle(cur)}
	return append(lines, strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")...)
}

// memoryValue renders "used / limit  [bar] percent", or "used / no limit".
func (a *App) memoryValue(s *cgroups.Stats) string {
	value := a.formatBytes(s.MemoryUsage) + " / " + a.limitBytes(s.MemoryLimit)
	if s.MemoryLimit <= 0 {
		return value
	}
	fraction := float64(s.MemoryUsage) / float64(s.MemoryLimit)
	return value + "  " + bar(fraction) + " " + a.formatPercent(100*fraction, 0)
}

// peakValue renders the peak memory use, or "-" where the kernel does not
// record it (cgroup v2 before Linux 5.19 has no memory.peak).
func (a *App) peakValue(s *cgroups.Stats) string {
	if s.MemoryMaxUsage <= 0 {
		return "-"
	}
	return a.formatBytes(s.MemoryMaxUsage)
}

// cpuValue renders the CPU use since the previous reading and the limit.
func (a *App) cpuValue(s *cgroups.Stats, cpu cpuUse, known bool) string {
	limit := a.cpuLimit(cpuLimitPercent(s))
	if !known {
		return a.P.Tf("MonitorCPUMeasuring", "Limit", limit)
	}
	return a.P.Tf("MonitorCPUValue", "Used", a.formatPercent(cpu.Percent, 1),
		"Over", a.formatSeconds(cpu.Over), "Limit", limit)
}

// cpuLimit renders a CPU limit in percent of one CPU, 0 meaning no limit.
func (a *App) cpuLimit(percent float64) string {
	if percent <= 0 {
		return a.P.T("NoLimit", nil)
	}
	return a.P.Tf("MonitorLimit", "Limit", a.formatPercent(percent, 0))
}

// limitBytes renders a memory limit, 0 meaning no limit.
func (a *App) limitBytes(n int64) string {
	if n <= 0 {
		return a.P.T("NoLimit", nil)
	}
	return a.formatBytes(n)
}

// limitedCount renders "current / max". A negative current is unknown and
// shows as "-", and a max of 0 is no limit.
func (a *App) limitedCount(current, limit int64) string {
	value := "-"
	if current >= 0 {
		value = strconv.FormatInt(current, 10)
	}
	if limit <= 0 {
		return value + " / " + a.P.T("NoLimit", nil)
	}
	return value + " / " + strconv.FormatInt(limit, 10)
}

// billHint returns a line with the student's next step: start a stopped
// house, or read a running house's kernel file by hand.
func (a *App) billHint(cur reading) string {
	if !cur.running() {
		return a.P.Tf("MonitorHintStopped", "Name", cur.Name)
	}
	if len(cur.Paths) == 0 {
		return ""
	}
	file := "memory.usage_in_bytes"
	if cur.Version == cgroups.V2 {
		file = "memory.current"
	}
	return a.P.Tf("MonitorHintFiles", "Path", cur.Paths[0]+"/"+file)
}

// billJSON is one sample of `monitor-resources --json`. Its keys are stable.
// The counters are null while the container is stopped, and the limits are
// then the recorded ones. A limit of 0 means no limit.
type billJSON struct {
	Name          string    `json:"name"`
	State         string    `json:"state"`
	PID           int       `json:"pid"` // host PID of init; 0 when stopped
	Time          time.Time `json:"time"`
	CgroupVersion string    `json:"cgroup_version"` // "v1", "v2" or "unknown"
	CgroupPaths   []string  `json:"cgroup_paths"`

	MemoryUsedBytes  *int64 `json:"memory_used_bytes"`
	MemoryLimitBytes *int64 `json:"memory_limit_bytes"`
	MemoryPeakBytes  *int64 `json:"memory_peak_bytes"` // 0: not recorded by the kernel

	CPUUsageNS *int64 `json:"cpu_usage_ns"` // cumulative since the container started
	// CPUPercent is the use of one CPU over the last cpu_sample_ns, null while
	// the first two readings of a run are missing.
	CPUPercent      *float64 `json:"cpu_percent"`
	CPUSampleNS     *int64   `json:"cpu_sample_ns"`
	CPULimitPercent *float64 `json:"cpu_limit_percent"`
	CPUQuotaUS      *int64   `json:"cpu_quota_us"` // -1: no limit
	CPUPeriodUS     *int64   `json:"cpu_period_us"`

	PidsCurrent     *int64  `json:"pids_current"`
	PidsMax         *int64  `json:"pids_max"`
	OOMKills        *uint64 `json:"oom_kills"`
	NrPeriods       *uint64 `json:"nr_periods"`
	NrThrottled     *uint64 `json:"nr_throttled"`
	ThrottledTimeNS *int64  `json:"throttled_time_ns"`
}

// newBillJSON converts one sample for --json.
func newBillJSON(cur reading, cpu cpuUse, cpuKnown bool) billJSON {
	out := billJSON{Name: cur.Name, State: string(cur.State), Time: cur.At.UTC().Round(time.Millisecond),
		CgroupVersion: cur.Version.String(), CgroupPaths: cur.Paths}
	if out.CgroupPaths == nil {
		out.CgroupPaths = []string{}
	}
	if !cur.running() {
		// A stopped house has no cgroup, so the limits come from its state
		// file, as in the text bill.
		out.MemoryLimitBytes, out.PidsMax = new(cur.MemoryBytes), new(cur.Pids)
		out.CPULimitPercent = new(float64(cur.CPUPercent))
		return out
	}
	s := cur.Stats
	out.PID = cur.PID
	out.MemoryUsedBytes, out.MemoryLimitBytes, out.MemoryPeakBytes = new(s.MemoryUsage), new(s.MemoryLimit), new(s.MemoryMaxUsage)
	out.CPUUsageNS = new(s.CPUUsage.Nanoseconds())
	if cpuKnown {
		out.CPUPercent = new(math.Round(cpu.Percent*100) / 100)
		out.CPUSampleNS = new(cpu.Over.Nanoseconds())
	}
	out.CPULimitPercent = new(cpuLimitPercent(s))
	out.CPUQuotaUS, out.CPUPeriodUS = new(s.CPUQuota), new(s.CPUPeriod)
	out.PidsCurrent, out.PidsMax = new(s.PidsCurrent), new(s.PidsMax)
	out.OOMKills, out.NrPeriods, out.NrThrottled = new(s.OOMKills), new(s.NrPeriods), new(s.NrThrottled)
	out.ThrottledTimeNS = new(s.ThrottledTime.Nanoseconds())
	return out
}
