package checker

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/procfs"
)

// userHZ is the unit of the start time in /proc/PID/stat: Linux always reports
// it in USER_HZ ticks, which are 1/100 s on every architecture (proc(5)).
const userHZ = 100

// houseFile returns where file path of house name lives on the host: in the
// overlay's upper layer, which keeps what the house writes while it is stopped.
func houseFile(env *Env, name, path string) string {
	return filepath.Join(env.Runtime.UpperDir(name), filepath.Clean("/"+path))
}

// checkHouseFile checks that the house wrote file path: a regular, non-empty
// file in its upper layer. A file of the busybox image that the house never
// changed is not in the upper layer, so it does not count.
func checkHouseFile(env *Env, with map[string]string) Result {
	p := env.printer()
	name, path := with["name"], with["path"]
	file := houseFile(env, name, path)
	expected := p.Tf("CheckExpectHouseFile", "Name", name, "Path", path)
	fi, err := os.Lstat(file)
	switch {
	case err != nil:
		return Result{Evidence: []string{p.Tf("CheckHouseFileMissing", "Name", name, "Path", path, "File", file)},
			Expected: expected}
	case !fi.Mode().IsRegular() || fi.Size() == 0:
		return Result{Evidence: []string{p.Tf("CheckHouseFileEmpty", "Path", path, "File", file)}, Expected: expected}
	}
	return Result{Passed: true, Evidence: []string{p.Tf("CheckHouseFileFound", "Path", path, "File", file,
		"Size", fi.Size())}}
}

// checkFatherAfterFile checks that the father who lived when the house wrote
// file path is gone: either no father runs now, or the running one started
// after the file was last written. The kernel does not record how a process
// died, so a kill -9 and a stop-container look the same here.
func checkFatherAfterFile(env *Env, with map[string]string) Result {
	p := env.printer()
	name, path := with["name"], with["path"]
	file := houseFile(env, name, path)
	expected := p.Tf("CheckExpectNewFather", "Name", name, "Path", path)
	fi, err := os.Lstat(file)
	if err != nil || !fi.Mode().IsRegular() {
		return Result{Evidence: []string{p.Tf("CheckHouseFileMissing", "Name", name, "Path", path, "File", file)},
			Expected: expected}
	}
	written := fi.ModTime()
	h, _ := findHouse(env, name)
	if h == nil {
		return Result{Passed: true, Evidence: []string{p.Tf("CheckNoFatherNow", "Name", name)}}
	}
	started, err := startedAt(h.PID)
	if err != nil {
		return Result{Evidence: []string{p.Tf("CheckProcError", "Error", err.Error())}, Expected: expected}
	}
	kv := []any{"PID", h.PID, "Started", started.Format(time.TimeOnly), "Path", path,
		"Written", written.Format(time.TimeOnly)}
	if !started.After(written) {
		return Result{Evidence: []string{p.Tf("CheckFatherOlder", kv...)}, Expected: expected}
	}
	return Result{Passed: true, Evidence: []string{p.Tf("CheckFatherNewer", kv...)}}
}

// startedAt returns the wall-clock time at which pid started, to within one
// tick. The start time in /proc counts ticks after boot, so it is placed on
// the wall clock through CLOCK_BOOTTIME, which counts from boot as well.
func startedAt(pid int) (time.Time, error) {
	st, err := procfs.ReadStat(pid)
	if err != nil {
		return time.Time{}, err
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return time.Time{}, err
	}
	now := time.Now()
	sinceBoot := time.Duration(ts.Nano())
	startSinceBoot := time.Duration(st.StartTime) * time.Second / userHZ
	return now.Add(startSinceBoot - sinceBoot), nil
}

// letterText returns the first line of file path of house name, with runs of
// spaces made one: the answer to a question about what the letter says.
func letterText(env *Env, name, path string) (string, []string, *Result) {
	p := env.printer()
	file := houseFile(env, name, path)
	data, err := os.ReadFile(file)
	if err != nil || len(strings.TrimSpace(string(data))) == 0 {
		return "", nil, &Result{Evidence: []string{p.Tf("CheckHouseFileMissing", "Name", name, "Path", path, "File", file)},
			Expected: p.Tf("CheckExpectHouseFile", "Name", name, "Path", path)}
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(data)), "\n")
	return normalizeText(line), []string{p.Tf("CheckHouseFileFound", "Path", path, "File", file, "Size", len(data))}, nil
}

// normalizeText trims s and makes each run of spaces one space.
func normalizeText(s string) string { return strings.Join(strings.Fields(s), " ") }
