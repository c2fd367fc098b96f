package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/lessons"
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
		{"bad format", []string{"check", "--format", "yaml"}, []string{"yaml", "text, json"}},
		{"unknown stage", []string{"check", "tahap-9"}, []string{"tahap-9"}},
		{"unknown stage number", []string{"check", "1", "99"}, []string{"99"}},
		{"unknown flag", []string{"check", "--json"}, []string{"--json"}},
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
	all, err := selectStages(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range all {
		if st.Status != lessons.StatusReady {
			t.Errorf("no arguments selected %s with status %s", st.ID, st.Status)
		}
	}
	if !slices.ContainsFunc(all, func(st *lessons.Stage) bool { return st.ID == ready.ID }) {
		t.Errorf("no arguments did not select ready stage %s", ready.ID)
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

func decodeReport(t *testing.T, out string) (checkReport, map[string]any) {
	t.Helper()
	var report checkReport
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("decode report: %v\n%s", err, out)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	return report, raw
}

func TestCheckReportOnRealHouses(t *testing.T) {
	testutil.RequireRoot(t)
	stage := firstStage(t, lessons.StatusReady)
	root := t.TempDir()
	env := map[string]string{"RT_LAB_ROOT": root, "RT_LAB_LANG": "en"}
	r, err := runtime.New(runtime.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cs, _ := r.List()
		for _, c := range cs {
			if err := r.Delete(c.Name, true); err != nil {
				t.Errorf("cleanup: delete %s: %v", c.Name, err)
			}
		}
	})
	if err := SaveSettings(root, Settings{Student: "Siti"}); err != nil {
		t.Fatal(err)
	}

	// Nothing built yet: every step fails with what it needs and a hint.
	code, out, errOut := runCLI(t, env, "check", stage.ID, "--format", "json")
	if code != 1 {
		t.Fatalf("empty root: exit status %d, want 1 (stderr %q)", code, errOut)
	}
	report, raw := decodeReport(t, out)
	for _, key := range []string{"schema", "student", "machine", "kernel", "rt_lab_version", "time", "lang",
		"score", "max", "stages"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("report has no key %q", key)
		}
	}
	if report.Schema != 1 || report.Student != "Siti" || report.Lang != "en" || report.Kernel == "" {
		t.Errorf("report header = schema %d, student %q, lang %q, kernel %q", report.Schema, report.Student,
			report.Lang, report.Kernel)
	}
	if _, err := time.Parse(time.RFC3339, report.Time); err != nil {
		t.Errorf("time %q is not RFC 3339: %v", report.Time, err)
	}
	if len(report.Stages) != 1 || report.Stages[0].ID != stage.ID {
		t.Fatalf("stages = %+v, want only %s", report.Stages, stage.ID)
	}
	if report.Score != 0 || report.Max != stage.MaxPoints() {
		t.Errorf("score = %d/%d, want 0/%d", report.Score, report.Max, stage.MaxPoints())
	}
	for _, step := range report.Stages[0].Steps {
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
	report, _ = decodeReport(t, out)
	if code != 0 {
		t.Errorf("built houses: exit status %d, want 0 (stderr %q)", code, errOut)
		for _, step := range report.Stages[0].Steps {
			if !step.Passed {
				t.Errorf("step %s failed: %q, expected %q", step.ID, step.Evidence, step.Expected)
			}
		}
	}
	if report.Student != "Budi" || report.Score != report.Max {
		t.Errorf("student %q, score %d/%d; want Budi and full marks", report.Student, report.Score, report.Max)
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
	// t.TempDir's parent is private to root, so the binary goes where nobody can
	// reach it.
	dir, err := os.MkdirTemp("", "rt-lab-check-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "rt-lab")
	build := exec.Command("go", "build", "-o", bin, "github.com/rt-lab/rt-lab/cmd/rt-lab")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

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
