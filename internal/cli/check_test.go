package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rt-lab/rt-lab/internal/report"
	"github.com/rt-lab/rt-lab/internal/report/browsertest"
	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/internal/testutil/rttest"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/lessons/tutor"
	"github.com/rt-lab/rt-lab/runtime"
)

// firstStage returns the first stage with status, or skips when the lessons have
// none.
func firstStage(t *testing.T, status string) *lessons.Stage {
	t.Helper()
	stages, err := lessons.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range stages {
		if st.Status == status {
			return st
		}
	}
	t.Skipf("no %s stage in the lessons", status)
	return nil
}

func TestCheckUsageErrors(t *testing.T) {
	env := map[string]string{"RT_LAB_ROOT": t.TempDir(), "RT_LAB_LANG": "en"}
	tests := []struct {
		name string
		args []string
		want []string // texts stderr must contain
	}{
		{"bad format", []string{"check", "--format", "yaml"}, []string{"yaml", "text, json, junit, csv"}},
		{"unknown stage", []string{"check", "tahap-9"}, []string{"tahap-9"}},
		{"unknown stage number", []string{"check", "1", "99"}, []string{"99"}},
		{"unknown flag", []string{"check", "--json"}, []string{"--json"}},
		{"student with a line break", []string{"check", "--student", "Siti\nAminah"}, []string{"Siti", "line breaks"}},
		{"student too long", []string{"check", "--student", strings.Repeat("a", 101)}, []string{"1 to 100 characters"}},
		{"save without student", []string{"check", "--save-student"}, []string{"--save-student", "--student NAME"}},
		{"watch with json", []string{"check", "--watch", "--format", "json"}, []string{"--watch", "--format json"}},
		{"watch two stages", []string{"check", "--watch", "1", "1"}, []string{"one stage"}},
		{"watch without terminal", []string{"check", "--watch"}, []string{"--watch", "terminal", "leave out --watch"}},
	}
	if outline := firstOutline(); outline != "" {
		tests = append(tests, struct {
			name string
			args []string
			want []string
		}{"outline stage", []string{"check", outline}, []string{outline, "not ready"}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, env, tt.args...)
			if code != 2 {
				t.Errorf("exit status %d, want 2 (stderr %q)", code, errOut)
			}
			for _, want := range tt.want {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr %q does not contain %q", errOut, want)
				}
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
		})
	}
}

func firstOutline() string {
	stages, _ := lessons.All()
	for _, st := range stages {
		if st.Status == lessons.StatusOutline {
			return st.ID
		}
	}
	return ""
}

func TestSelectStages(t *testing.T) {
	ready := firstStage(t, lessons.StatusReady)
	got, err := selectStages([]string{ready.ID, ready.ID, strings.TrimPrefix(ready.ID, "tahap-")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != ready.ID {
		t.Errorf("repeated stage: got %d stages, want only %s", len(got), ready.ID)
	}

	// No arguments: every stage in order, outlines too, so a report names all.
	all, err := selectStages(nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := lessons.All()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(want) {
		t.Fatalf("no arguments selected %d stages, want all %d", len(all), len(want))
	}
	for i := range all {
		if all[i].ID != want[i].ID {
			t.Errorf("stage %d is %s, want %s", i, all[i].ID, want[i].ID)
		}
	}
}

func TestColorsOnlyWhenEnabled(t *testing.T) {
	if got := newColors(true).red("gagal"); got != "\x1b[31mgagal\x1b[0m" {
		t.Errorf("enabled red = %q", got)
	}
	if got := newColors(false).red("gagal"); got != "gagal" {
		t.Errorf("disabled red = %q", got)
	}
}

// houseParams collects, from the checks of stage, each house's hostname and the
// commands that must run in it.
func houseParams(stage *lessons.Stage) (hostnames map[string]string, comms map[string][]string) {
	hostnames, comms = map[string]string{}, map[string][]string{}
	for _, step := range stage.Steps {
		for _, c := range step.Checks {
			name := c.With["name"]
			if name == "" {
				continue
			}
			if h := c.With["hostname"]; h != "" {
				hostnames[name] = h
			} else if _, ok := hostnames[name]; !ok {
				hostnames[name] = ""
			}
			if comm := c.With["comm"]; comm != "" {
				comms[name] = append(comms[name], comm)
			}
		}
	}
	return hostnames, comms
}

func decodeReport(t *testing.T, out string) (report.Report, map[string]any) {
	t.Helper()
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("decode report: %v\n%s", err, out)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	return rep, raw
}

func TestCheckReportOnRealHouses(t *testing.T) {
	testutil.RequireRoot(t)
	stage := firstStage(t, lessons.StatusReady)
	root := t.TempDir()
	env := map[string]string{"RT_LAB_ROOT": root, "RT_LAB_LANG": "en"}
	r := rttest.NewRuntime(t, root)
	if err := SaveSettings(root, Settings{Student: "Siti"}); err != nil {
		t.Fatal(err)
	}

	// Nothing built yet: every step fails with what it needs and a hint.
	code, out, errOut := runCLI(t, env, "check", stage.ID, "--format", "json")
	if code != 1 {
		t.Fatalf("empty root: exit status %d, want 1 (stderr %q)", code, errOut)
	}
	rep, raw := decodeReport(t, out)
	for _, key := range []string{"format", "schema", "student", "machine", "kernel", "cgroup_version",
		"rt_lab_version", "time", "lang", "score", "max", "stages"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("report has no key %q", key)
		}
	}
	if rep.Format != "rt-lab-report" || rep.Schema != 1 || rep.Student != "Siti" || rep.Lang != "en" ||
		rep.Kernel == "" {
		t.Errorf("report header = format %q, schema %d, student %q, lang %q, kernel %q", rep.Format, rep.Schema,
			rep.Student, rep.Lang, rep.Kernel)
	}
	if want := cgroupVersionOf(t, "/sys/fs/cgroup"); rep.CgroupVersion != want {
		t.Errorf("cgroup_version = %q, want %q from /proc/self/mountinfo", rep.CgroupVersion, want)
	}
	if _, err := time.Parse(time.RFC3339, rep.Time); err != nil {
		t.Errorf("time %q is not RFC 3339: %v", rep.Time, err)
	}
	if len(rep.Stages) != 1 || rep.Stages[0].ID != stage.ID {
		t.Fatalf("stages = %+v, want only %s", rep.Stages, stage.ID)
	}
	if rep.Score != 0 || rep.Max != stage.MaxPoints() {
		t.Errorf("score = %d/%d, want 0/%d", rep.Score, rep.Max, stage.MaxPoints())
	}
	for _, step := range rep.Stages[0].Steps {
		if step.Passed || step.Expected == "" || step.Hint == "" || len(step.Evidence) == 0 {
			t.Errorf("step %s on an empty root: %+v; want failed with evidence, expected and hint", step.ID, step)
		}
	}
	steps := raw["stages"].([]any)[0].(map[string]any)["steps"].([]any)
	for _, key := range []string{"id", "title", "passed", "points", "max", "evidence", "expected", "hint"} {
		if _, ok := steps[0].(map[string]any)[key]; !ok {
			t.Errorf("step has no key %q", key)
		}
	}

	// Build and start every house the stage names, with the commands its checks
	// look for, the way a student following the lesson would.
	hostnames, comms := houseParams(stage)
	for name, hostname := range hostnames {
		if _, err := r.Create(runtime.CreateOptions{Name: name, Hostname: hostname}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Start(name); err != nil {
			t.Fatal(err)
		}
		for _, comm := range comms[name] {
			if comm != "sleep" {
				t.Skipf("stage %s looks for %s, which this test cannot start", stage.ID, comm)
			}
			if code, err := r.Exec(name, runtime.Process{Args: []string{"sh", "-c", "sleep 100000 >/dev/null 2>&1 &"}}); err != nil || code != 0 {
				t.Fatalf("start sleep in %s: status %d, %v", name, code, err)
			}
		}
	}

	code, out, errOut = runCLI(t, env, "check", stage.ID, "--format", "json", "--student", "Budi")
	rep, _ = decodeReport(t, out)
	if code != 0 {
		t.Errorf("built houses: exit status %d, want 0 (stderr %q)", code, errOut)
		for _, step := range rep.Stages[0].Steps {
			if !step.Passed {
				t.Errorf("step %s failed: %q, expected %q", step.ID, step.Evidence, step.Expected)
			}
		}
	}
	if rep.Student != "Budi" || rep.Score != rep.Max {
		t.Errorf("student %q, score %d/%d; want Budi and full marks", rep.Student, rep.Score, rep.Max)
	}

	code, out, _ = runCLI(t, env, "check", stage.ID)
	if code != 0 {
		t.Errorf("text format: exit status %d, want 0", code)
	}
	for _, want := range []string{"Siti", "✓", stage.ID, "Total:"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report does not contain %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("text report to a buffer has colour codes:\n%q", out)
	}

	// A stopped house fails the running checks again.
	for name := range hostnames {
		if err := r.Stop(name, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	code, out, _ = runCLI(t, env, "--lang", "id", "check", stage.ID)
	if code != 1 {
		t.Errorf("stopped houses: exit status %d, want 1", code)
	}
	for _, want := range []string{"✗", "Dibutuhkan:", "Petunjuk:"} {
		if !strings.Contains(out, want) {
			t.Errorf("Indonesian report of a failure does not contain %q:\n%s", want, out)
		}
	}
}

// TestCheckNeedsRoot runs the real binary as an unprivileged user.
func TestCheckNeedsRoot(t *testing.T) {
	testutil.RequireRoot(t)
	ready := firstStage(t, lessons.StatusReady)
	bin := testutil.BuildRTLab(t, true)

	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--lang", "en", "check"}, 3, "sudo"},
		{[]string{"--lang", "en", "check", ready.ID, "--format", "json"}, 3, "sudo"},
		{[]string{"--lang", "en", "check", "--format", "xml"}, 2, "xml"},
	}
	for _, tt := range tests {
		cmd := exec.Command(bin, tt.args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		cmd.Env = []string{"RT_LAB_ROOT=" + t.TempDir()}
		out, _ := cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != tt.code || !strings.Contains(string(out), tt.want) {
			t.Errorf("%v as nobody: status %d, output %q; want %d and %q", tt.args,
				cmd.ProcessState.ExitCode(), out, tt.code, tt.want)
		}
	}
}

// cgroupVersionOf returns "v2" when /proc/self/mountinfo lists a cgroup2 file
// system at dir and "v1" for any other file system there: the rule that the
// report's cgroup_version follows, found here without statfs.
func cgroupVersionOf(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	version := ""
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		_, after, ok := strings.Cut(line, " - ")
		if !ok || len(fields) < 5 || fields[4] != dir {
			continue
		}
		version = "v1"
		if strings.HasPrefix(after, "cgroup2 ") {
			version = "v2"
		}
	}
	if version == "" {
		t.Fatalf("nothing is mounted at %s", dir)
	}
	return version
}

// newTestRuntime opens a runtime in a fresh root and deletes every container
// in it when the test ends.
func newTestRuntime(t *testing.T) (*runtime.Runtime, string) {
	t.Helper()
	root := t.TempDir()
	r := rttest.NewRuntime(t, root)
	return r, root
}

// buildHouses creates every house that stage's checks name. With start it also
// starts them, and with family it runs the commands the checks look for.
func buildHouses(t *testing.T, r *runtime.Runtime, stage *lessons.Stage, start, family bool) {
	t.Helper()
	hostnames, comms := houseParams(stage)
	for name, hostname := range hostnames {
		if _, err := r.Create(runtime.CreateOptions{Name: name, Hostname: hostname}); err != nil {
			t.Fatal(err)
		}
		if !start {
			continue
		}
		if _, err := r.Start(name); err != nil {
			t.Fatal(err)
		}
		if !family {
			continue
		}
		for _, comm := range comms[name] {
			if comm != "sleep" {
				t.Skipf("stage %s looks for %s, which this test cannot start", stage.ID, comm)
			}
			if code, err := r.Exec(name, runtime.Process{Args: []string{"sh", "-c", "sleep 100000 >/dev/null 2>&1 &"}}); err != nil || code != 0 {
				t.Fatalf("start sleep in %s: status %d, %v", name, code, err)
			}
		}
	}
}

// pointsFor returns the points of stage's steps whose checks all have an id in
// allowed: the score of a student whose houses pass exactly those checks.
func pointsFor(stage *lessons.Stage, allowed ...string) int {
	points, _ := passingSteps(stage, allowed...)
	return points
}

// passingSteps returns the points and the number of stage's steps whose checks
// all have an id in allowed.
func passingSteps(stage *lessons.Stage, allowed ...string) (points, steps int) {
	for _, step := range stage.Steps {
		ok := len(step.Checks) > 0
		for _, c := range step.Checks {
			ok = ok && slices.Contains(allowed, c.Check)
		}
		if ok {
			points += step.Points
			steps++
		}
	}
	return points, steps
}

func TestCheckAllStagesListsOutlines(t *testing.T) {
	testutil.RequireRoot(t)
	_, root := newTestRuntime(t)
	env := map[string]string{"RT_LAB_ROOT": root, "RT_LAB_LANG": "en"}
	code, out, errOut := runCLI(t, env, "check", "--format", "json")
	if code != 1 {
		t.Errorf("empty root: exit status %d, want 1 (stderr %q)", code, errOut)
	}
	if !strings.Contains(errOut, "no student name") {
		t.Errorf("stderr %q does not warn that the report has no student name", errOut)
	}
	rep, err := report.Decode("stdout", []byte(out))
	if err != nil {
		t.Fatalf("the report does not decode: %v", err)
	}
	all, err := lessons.All()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Stages) != len(all) {
		t.Fatalf("%d stages in the report, want all %d", len(rep.Stages), len(all))
	}
	max := 0
	for i, st := range all {
		got := rep.Stages[i]
		switch {
		case st.Ready() && (got.Status != report.StatusReady || len(got.Steps) != len(st.Steps)):
			t.Errorf("ready %s: status %q with %d steps, want ready with %d", st.ID, got.Status, len(got.Steps), len(st.Steps))
		case !st.Ready() && (got.Status != report.StatusOutline || got.Max != 0 || len(got.Steps) != 0):
			t.Errorf("outline %s: status %q, max %d, %d steps; want outline, 0, none", st.ID, got.Status, got.Max, len(got.Steps))
		}
		if st.Ready() {
			max += st.MaxPoints()
		}
	}
	if rep.Max != max {
		t.Errorf("max = %d, want %d: the points of the ready stages only", rep.Max, max)
	}

	code, out, _ = runCLI(t, env, "check")
	if code != 1 || !strings.Contains(out, "not ready yet: the lesson is still an outline") && firstOutline() != "" {
		t.Errorf("text report: exit status %d, outline stages not marked:\n%s", code, out)
	}
}

func TestCheckFormatsParseBack(t *testing.T) {
	testutil.RequireRoot(t)
	stage := firstStage(t, lessons.StatusReady)
	r, root := newTestRuntime(t)
	buildHouses(t, r, stage, true, false)
	env := map[string]string{"RT_LAB_ROOT": root, "RT_LAB_LANG": "en"}
	want, passing := passingSteps(stage, "house-built", "house-running", "hostname", "own-namespace", "own-links")

	code, out, errOut := runCLI(t, env, "check", stage.ID, "--format", "junit", "--student", "Siti")
	if code != 1 {
		t.Errorf("junit: exit status %d, want 1 (stderr %q)", code, errOut)
	}
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(out), &suites); err != nil {
		t.Fatalf("JUnit output does not parse: %v\n%s", err, out)
	}
	if len(suites.Suites) != 1 || len(suites.Suites[0].Cases) != len(stage.Steps) {
		t.Fatalf("JUnit suites = %+v, want one suite with %d cases", suites.Suites, len(stage.Steps))
	}
	failed := 0
	for _, c := range suites.Suites[0].Cases {
		if c.Failure != nil {
			failed++
		}
	}
	if wantFailed := len(stage.Steps) - passing; failed != suites.Failures || failed != wantFailed {
		t.Errorf("%d failed cases, failures attribute %d, want %d", failed, suites.Failures, wantFailed)
	}

	code, out, _ = runCLI(t, env, "check", stage.ID, "--format", "csv", "--student", "Siti")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || code != 1 {
		t.Fatalf("csv: exit status %d, %v\n%s", code, err, out)
	}
	points := 0
	for _, row := range rows[1:] {
		if row[0] != "Siti" || row[6] != stage.ID {
			t.Errorf("row %v: want student Siti and stage %s", row, stage.ID)
		}
		n, _ := strconv.Atoi(row[10])
		points += n
	}
	if len(rows) != len(stage.Steps)+1 || points != want {
		t.Errorf("csv: %d rows with %d points, want %d steps and %d points", len(rows)-1, points, len(stage.Steps), want)
	}
}

func TestCheckSaveStudent(t *testing.T) {
	testutil.RequireRoot(t)
	stage := firstStage(t, lessons.StatusReady)
	_, root := newTestRuntime(t)
	if err := SaveSettings(root, Settings{Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"RT_LAB_ROOT": root}
	_, _, errOut := runCLI(t, env, "check", stage.ID, "--student", "  Siti Aminah ", "--save-student")
	if !strings.Contains(errOut, "Saved the student name Siti Aminah") {
		t.Errorf("stderr %q does not confirm the saved name", errOut)
	}
	if s := LoadSettings(root); s.Student != "Siti Aminah" || s.Lang != "en" {
		t.Errorf("settings = %+v, want student Siti Aminah and the language kept", s)
	}
	_, out, _ := runCLI(t, env, "check", stage.ID, "--format", "json")
	if rep, _ := decodeReport(t, out); rep.Student != "Siti Aminah" {
		t.Errorf("student = %q, want the saved name", rep.Student)
	}
}

// TestCheckWatchOnTerminal runs --watch on a pseudo-terminal, builds the first
// house while it watches, and stops it with SIGINT as Ctrl-C would.
func TestCheckWatchOnTerminal(t *testing.T) {
	testutil.RequireRoot(t)
	stage := firstStage(t, lessons.StatusReady)
	r, root := newTestRuntime(t)
	term := openTestTerminal(t, 40, 160)
	waitForText := func(want string) {
		t.Helper()
		term.waitFor(t, strconv.Quote(want), func(raw string) bool { return strings.Contains(stripANSI(raw), want) })
	}

	var stderr bytes.Buffer
	app := &App{Stdin: term.tty, Stdout: term.tty, Stderr: &stderr,
		Env: func(k string) string { return map[string]string{"RT_LAB_ROOT": root, "RT_LAB_LANG": "en"}[k] }}
	done := make(chan int)
	go func() { done <- app.Run([]string{"check", "--watch", stage.ID}) }()

	first := stage.Steps[0].Title.EN
	waitForText("Step 1: " + first + " (not passed yet)")
	if !strings.Contains(term.seen.String(), seqEnterScreen) {
		t.Errorf("--watch did not switch to the alternate screen")
	}
	buildHouses(t, r, stage, false, false)
	waitForText("Step 1 passed: " + first)
	waitForText("Step 2: ")

	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != 0 {
		t.Errorf("exit status after Ctrl-C %d, want 0 (stderr %q)", code, stderr.String())
	}
	// After the normal screen is back, the last frame is printed once more.
	term.waitFor(t, "the last frame after the alternate screen", func(raw string) bool {
		_, after, ok := strings.Cut(raw, seqLeaveScreen)
		return ok && strings.Contains(stripANSI(after), "Stopped. Last check")
	})
	_, after, _ := strings.Cut(term.seen.String(), seqLeaveScreen)
	if !strings.Contains(stripANSI(after), "Step 2: ") {
		t.Errorf("the last frame on the normal screen does not show step 2:\n%s", stripANSI(after))
	}
}

// TestGradeScriptedClass grades seven students, each in a root of their own,
// and merges their reports. The students have full marks, houses running
// without the family, houses built but not started, nothing done, a progress
// file edited to claim every step, a state file pointed at a host process, and
// the kernel state reached by hand with nsenter (check_tamper_test.go).
func TestGradeScriptedClass(t *testing.T) {
	testutil.RequireRoot(t)
	stage, err := lessons.Find("tahap-1")
	if err != nil {
		t.Fatal(err)
	}
	students := []struct {
		name  string
		setup func(t *testing.T, r *runtime.Runtime, root string)
		want  int
	}{
		{"Ani Lengkap", func(t *testing.T, r *runtime.Runtime, _ string) { buildHouses(t, r, stage, true, true) },
			stage.MaxPoints()},
		{"Budi Sebagian", func(t *testing.T, r *runtime.Runtime, _ string) { buildHouses(t, r, stage, true, false) },
			pointsFor(stage, "house-built", "house-running", "hostname", "own-namespace", "own-links")},
		{"Citra Fondasi", func(t *testing.T, r *runtime.Runtime, _ string) { buildHouses(t, r, stage, false, false) },
			pointsFor(stage, "house-built")},
		{"Dedi Kosong", func(*testing.T, *runtime.Runtime, string) {}, 0},
		{"Eka Curang", func(t *testing.T, _ *runtime.Runtime, root string) {
			prog := &tutor.Progress{CurrentStage: stage.ID}
			for _, step := range stage.Steps {
				sp := prog.Stage(stage.ID).Step(step.ID)
				sp.Done, sp.How, sp.Points = true, tutor.HowChecked, step.Points
			}
			if err := prog.Save(root); err != nil {
				t.Fatal(err)
			}
		}, 0},
		{"Fajar Palsu", setupTamperedState, pointsFor(stage, "house-built")},
		{"Gita Manual", setupReachedByHand,
			pointsFor(stage, "house-running", "family-member", "ps-shows-family", "hostname", "own-namespace", "own-links")},
	}
	if students[1].want <= students[2].want || students[1].want >= students[0].want || students[2].want == 0 {
		t.Fatalf("scores %d, %d, %d do not tell the partial students apart; update the scenarios for %s",
			students[0].want, students[1].want, students[2].want, stage.ID)
	}

	dir := t.TempDir()
	var files []string
	for _, s := range students {
		r, root := newTestRuntime(t)
		s.setup(t, r, root)
		env := map[string]string{"RT_LAB_ROOT": root, "RT_LAB_LANG": "en"}
		code, out, errOut := runCLI(t, env, "check", stage.ID, "--format", "json", "--student", s.name)
		wantCode := 1
		if s.want == stage.MaxPoints() {
			wantCode = 0
		}
		if code != wantCode {
			t.Errorf("%s: exit status %d, want %d (stderr %q)", s.name, code, wantCode, errOut)
		}
		rep, err := report.Decode(s.name, []byte(out))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if rep.Score != s.want || rep.Max != stage.MaxPoints() {
			t.Errorf("%s: score %d/%d, want %d/%d", s.name, rep.Score, rep.Max, s.want, stage.MaxPoints())
		}
		file := filepath.Join(dir, strings.Fields(s.name)[0]+".json")
		if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, file)
	}

	env := map[string]string{"RT_LAB_ROOT": t.TempDir(), "RT_LAB_LANG": "en"}
	code, out, errOut := runCLI(t, env, append([]string{"report", "--format", "csv"}, files...)...)
	if code != 0 {
		t.Fatalf("report: exit status %d (stderr %q)", code, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != len(students)+1 {
		t.Fatalf("report CSV: %v, %d rows, want %d:\n%s", err, len(rows), len(students)+1, out)
	}
	for i, s := range students { // the names sort in the order of the table
		if rows[i+1][0] != s.name || rows[i+1][7] != strconv.Itoa(s.want) {
			t.Errorf("CSV row %v, want %s with %d points", rows[i+1], s.name, s.want)
		}
	}

	_, out, _ = runCLI(t, env, append([]string{"report", "--format", "markdown"}, files...)...)
	for _, s := range students {
		if !strings.Contains(out, fmt.Sprintf("| %s | %d/%d |", s.name, s.want, stage.MaxPoints())) {
			t.Errorf("Markdown has no row for %s with %d points:\n%s", s.name, s.want, out)
		}
	}

	page := filepath.Join(dir, "kelas.html")
	if code, _, errOut := runCLI(t, env, append([]string{"report", "-o", page}, files...)...); code != 0 {
		t.Fatalf("HTML report: exit status %d (stderr %q)", code, errOut)
	}
	img := browsertest.Screenshot(t, page, filepath.Join(dir, "kelas.png"))
	if rows := browsertest.StepCellRows(img); rows != len(students) {
		t.Errorf("the page in Chromium shows %d student rows, want %d", rows, len(students))
	}
	dom := browsertest.DumpDOM(t, page, "")
	for _, s := range students {
		if !strings.Contains(dom, ">"+s.name+"</button>") {
			t.Errorf("the page in Chromium has no row for %s", s.name)
		}
	}
}
