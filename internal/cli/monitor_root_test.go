package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/internal/testutil/rttest"
	"github.com/rt-lab/rt-lab/runtime"
)

// newMonitorRoot returns a runtime on a fresh root folder and the environment
// that points the CLI at it. Every house in it is deleted when the test ends,
// even when it fails.
func newMonitorRoot(t *testing.T) (*runtime.Runtime, map[string]string) {
	t.Helper()
	testutil.RequireRoot(t)
	root := t.TempDir()
	r := rttest.NewRuntime(t, root)
	return r, map[string]string{"RT_LAB_ROOT": root, "RT_LAB_LANG": "en"}
}

// createHemat creates house name with a 64 MiB and 25 % limit.
func createHemat(t *testing.T, r *runtime.Runtime, name string) {
	t.Helper()
	if _, err := r.Create(runtime.CreateOptions{Name: name, MemoryBytes: 64 * runtime.MiB, CPUPercent: 25}); err != nil {
		t.Fatal(err)
	}
}

// startLoad runs busybox dd inside house name until the test ends: it copies
// /dev/zero to /dev/null through one 16 MiB buffer, so it holds 16 MiB and
// keeps a CPU busy.
func startLoad(t *testing.T, r *runtime.Runtime, name string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Exec(name, runtime.Process{
			Args:  []string{"timeout", "600", "dd", "if=/dev/zero", "of=/dev/null", "bs=16M"},
			Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard,
		})
	}()
	// Cleanups run last in, first out, so this one runs before
	// newMonitorRoot's delete: stopping the house ends the load and Exec.
	t.Cleanup(func() {
		if err := r.Stop(name, 0); err != nil {
			t.Errorf("cleanup: stop %s: %v", name, err)
		}
		<-done
	})
}

// monitorJSON runs monitor-resources --json and decodes its object.
func monitorJSON(t *testing.T, env map[string]string, name string) map[string]any {
	t.Helper()
	code, out, errOut := runCLI(t, env, "monitor-resources", name, "--json")
	if code != 0 {
		t.Fatalf("monitor-resources --json: status %d, stderr %q", code, errOut)
	}
	var bill map[string]any
	if err := json.Unmarshal([]byte(out), &bill); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	return bill
}

// TestMonitorRunningHouse loads a house with 64 MiB and 25 % limits and reads
// its bill in every output form.
func TestMonitorRunningHouse(t *testing.T) {
	r, env := newMonitorRoot(t)
	createHemat(t, r, "rumah-hemat")
	if _, err := r.Start("rumah-hemat"); err != nil {
		t.Fatal(err)
	}
	startLoad(t, r, "rumah-hemat")

	// The load starts in the background: wait, by count of readings and not
	// by time, until its buffer shows in the bill.
	var bill map[string]any
	for range 40 {
		bill = monitorJSON(t, env, "rumah-hemat")
		if used, _ := bill["memory_used_bytes"].(float64); used >= 16*runtime.MiB {
			break
		}
	}

	t.Run("json", func(t *testing.T) {
		if used, _ := bill["memory_used_bytes"].(float64); used < 16*runtime.MiB {
			t.Errorf("memory_used_bytes = %v, want at least 16 MiB while dd holds its buffer", bill["memory_used_bytes"])
		}
		if limit := bill["memory_limit_bytes"]; limit != float64(64*runtime.MiB) {
			t.Errorf("memory_limit_bytes = %v, want 64 MiB", limit)
		}
		cpu, _ := bill["cpu_percent"].(float64)
		if cpu < 5 {
			t.Errorf("cpu_percent = %v, want CPU use from the busy dd", bill["cpu_percent"])
		}
		// One 100 ms period of quota more than the limit can fall into a
		// 500 ms sample: (125+25)/500 = 30 %.
		if cpu > 35 {
			t.Errorf("cpu_percent = %v, above the 25 %% limit", cpu)
		}
		if bill["cpu_limit_percent"] != 25.0 {
			t.Errorf("cpu_limit_percent = %v, want 25", bill["cpu_limit_percent"])
		}
		if pids, _ := bill["pids_current"].(float64); pids < 2 {
			t.Errorf("pids_current = %v, want init and the load at least", bill["pids_current"])
		}
		paths, _ := bill["cgroup_paths"].([]any)
		if len(paths) == 0 {
			t.Fatalf("cgroup_paths = %v", bill["cgroup_paths"])
		}
		for _, p := range paths {
			if _, err := os.Stat(p.(string)); err != nil {
				t.Errorf("cgroup path: %v", err)
			}
		}
	})

	t.Run("text", func(t *testing.T) {
		code, out, errOut := runCLI(t, env, "monitor-resources", "rumah-hemat")
		if code != 0 {
			t.Fatalf("status %d, stderr %q", code, errOut)
		}
		for _, want := range []string{"Electricity bill of house rumah-hemat (running", "/ 64 MiB  [",
			"of one CPU over the last 0.5 s / limit 25%", "Throttled periods", "cgroup v"} {
			if !strings.Contains(out, want) {
				t.Errorf("bill does not contain %q:\n%s", want, out)
			}
		}
		if regexp.MustCompile(`Memory +0 B`).MatchString(out) || strings.Contains(out, " 0.0% of one CPU") {
			t.Errorf("bill shows no use:\n%s", out)
		}
		if !strings.Contains(errOut, "cat /sys/fs/cgroup/") {
			t.Errorf("stderr %q does not point at the kernel file", errOut)
		}
	})

	t.Run("indonesian", func(t *testing.T) {
		code, out, errOut := runCLI(t, env, "--lang", "id", "monitor-resources", "rumah-hemat")
		if code != 0 {
			t.Fatalf("status %d, stderr %q", code, errOut)
		}
		for _, want := range []string{"Tagihan listrik rumah rumah-hemat (berjalan", "dari satu CPU selama 0,5 s"} {
			if !strings.Contains(out, want) {
				t.Errorf("bill does not contain %q:\n%s", want, out)
			}
		}
	})

	t.Run("list", func(t *testing.T) {
		code, out, errOut := runCLI(t, env, "list-containers")
		if code != 0 {
			t.Fatalf("status %d, stderr %q", code, errOut)
		}
		if !regexp.MustCompile(`rumah-hemat +running .* [0-9.]+ MiB / 64 MiB +[0-9.]+% / 25%`).MatchString(out) {
			t.Errorf("list does not show memory and CPU use against the limits:\n%s", out)
		}
	})

	t.Run("list json", func(t *testing.T) {
		code, out, errOut := runCLI(t, env, "list-containers", "--json")
		if code != 0 {
			t.Fatalf("status %d, stderr %q", code, errOut)
		}
		var list []map[string]any
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatalf("decode %q: %v", out, err)
		}
		if len(list) != 1 {
			t.Fatalf("%d entries, want 1: %s", len(list), out)
		}
		c := list[0]
		if used, _ := c["memory_used_bytes"].(float64); used <= 0 {
			t.Errorf("memory_used_bytes = %v", c["memory_used_bytes"])
		}
		if c["memory_limit_bytes"] != float64(64*runtime.MiB) {
			t.Errorf("memory_limit_bytes = %v", c["memory_limit_bytes"])
		}
		if ns, _ := c["cpu_usage_ns"].(float64); ns <= 0 {
			t.Errorf("cpu_usage_ns = %v", c["cpu_usage_ns"])
		}
		if pids, _ := c["pids_current"].(float64); pids < 1 {
			t.Errorf("pids_current = %v", c["pids_current"])
		}
	})

	t.Run("watch without terminal", func(t *testing.T) {
		code, out, errOut := runCLI(t, env, "monitor-resources", "rumah-hemat", "--watch")
		if code != 0 {
			t.Fatalf("status %d, stderr %q", code, errOut)
		}
		if n := strings.Count(out, "Electricity bill"); n != 1 {
			t.Errorf("%d samples, want 1:\n%s", n, out)
		}
		if !strings.Contains(errOut, "not a terminal") {
			t.Errorf("stderr %q does not say why only one sample was printed", errOut)
		}
	})

	t.Run("watch json", func(t *testing.T) {
		// The writer sends SIGINT, as Ctrl-C does, once three lines are out.
		// The handler is in place by then, because the loop installs it
		// before the first sample.
		w := &interruptAfter{lines: 3}
		app := &App{Stdin: strings.NewReader(""), Stdout: w, Stderr: io.Discard, Env: func(k string) string { return env[k] }}
		if code := app.Run([]string{"monitor-resources", "rumah-hemat", "--watch", "--json", "--interval", "100ms"}); code != 0 {
			t.Errorf("exit status after Ctrl-C %d, want 0", code)
		}
		sc := bufio.NewScanner(&w.buf)
		n := 0
		for sc.Scan() {
			var sample map[string]any
			if err := json.Unmarshal(sc.Bytes(), &sample); err != nil {
				t.Fatalf("line %d %q is not one JSON object: %v", n+1, sc.Text(), err)
			}
			if _, ok := sample["cpu_percent"].(float64); !ok {
				t.Errorf("line %d: cpu_percent = %v", n+1, sample["cpu_percent"])
			}
			n++
		}
		if n < 3 {
			t.Errorf("%d lines, want at least 3", n)
		}
	})

	t.Run("watch on terminal", func(t *testing.T) { testWatchOnTerminal(t, env) })
}

// interruptAfter collects output and sends SIGINT to this process once it has
// seen lines newlines.
type interruptAfter struct {
	buf   bytes.Buffer
	lines int
	sent  bool
}

func (w *interruptAfter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	if !w.sent && bytes.Count(w.buf.Bytes(), []byte("\n")) >= w.lines {
		w.sent = true
		syscall.Kill(os.Getpid(), syscall.SIGINT)
	}
	return len(p), nil
}

// testWatchOnTerminal runs --watch on a pseudo-terminal, waits for two frames
// and stops it with SIGINT as Ctrl-C would.
func testWatchOnTerminal(t *testing.T, env map[string]string) {
	term := openTestTerminal(t, 30, 120)

	var stderr bytes.Buffer
	app := &App{Stdin: term.tty, Stdout: term.tty, Stderr: &stderr, Env: func(k string) string { return env[k] }}
	done := make(chan int)
	go func() {
		done <- app.Run([]string{"monitor-resources", "rumah-hemat", "--watch", "--interval", "200ms"})
	}()

	term.waitFor(t, "two frames", func(raw string) bool { return strings.Count(raw, "Electricity bill of house") >= 2 })
	if !strings.Contains(term.seen.String(), seqCursorHide) {
		t.Error("--watch did not hide the cursor")
	}
	if !regexp.MustCompile(`\r\x1b\[\d+A`).MatchString(term.seen.String()) {
		t.Errorf("the second frame did not move the cursor up over the first:\n%q", term.seen.String())
	}
	if !strings.Contains(term.seen.String(), "Press Ctrl-C to stop.") {
		t.Errorf("no footer:\n%q", term.seen.String())
	}

	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != 0 {
		t.Errorf("exit status after Ctrl-C %d, want 0 (stderr %q)", code, stderr.String())
	}
	term.waitFor(t, "the cursor back", func(raw string) bool { return strings.HasSuffix(raw, seqCursorShow) })
}

func TestMonitorStoppedHouse(t *testing.T) {
	r, env := newMonitorRoot(t)
	createHemat(t, r, "rumah-mati")

	code, out, errOut := runCLI(t, env, "monitor-resources", "rumah-mati")
	if code != 0 {
		t.Fatalf("status %d, want 0 for a stopped house (stderr %q)", code, errOut)
	}
	for _, want := range []string{"Electricity bill of house rumah-mati (stopped)", "Memory             - / 64 MiB",
		"CPU                - / limit 25%"} {
		if !strings.Contains(out, want) {
			t.Errorf("bill does not contain %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "rt-lab run-container rumah-mati") {
		t.Errorf("stderr %q has no hint to start the house", errOut)
	}

	bill := monitorJSON(t, env, "rumah-mati")
	if bill["state"] != "stopped" {
		t.Errorf("JSON state = %v, want stopped", bill["state"])
	}
	if used, present := bill["memory_used_bytes"]; !present || used != nil {
		t.Errorf("JSON memory_used_bytes = %v (present %v), want null", used, present)
	}
	for key, want := range map[string]any{
		"memory_limit_bytes": float64(64 * runtime.MiB), "cpu_limit_percent": 25.0,
		"pids_max": float64(runtime.DefaultPids),
	} {
		if bill[key] != want {
			t.Errorf("JSON %s = %v, want the recorded %v", key, bill[key], want)
		}
	}

	code, out, errOut = runCLI(t, env, "list-containers")
	if code != 0 {
		t.Fatalf("list: status %d, stderr %q", code, errOut)
	}
	if !regexp.MustCompile(`rumah-mati +stopped .* - / 64 MiB +- / 25%`).MatchString(out) {
		t.Errorf("list does not show the stopped house's limits:\n%s", out)
	}
}

func TestMonitorBadInput(t *testing.T) {
	r, env := newMonitorRoot(t)
	createHemat(t, r, "rumah-ada")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown house", []string{"monitor-resources", "rumah-hilang"}, "rumah-hilang"},
		{"interval too short", []string{"monitor-resources", "rumah-ada", "--watch", "--interval", "50ms"}, `"50ms"`},
		{"interval not a duration", []string{"monitor-resources", "rumah-ada", "--interval", "soon"}, "at least 100ms"},
		{"no name", []string{"monitor-resources"}, "exactly one"},
		{"invalid name", []string{"monitor-resources", "../x"}, "../x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, env, tt.args...)
			if code != 2 {
				t.Errorf("exit status %d, want 2 (stderr %q)", code, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q does not contain %q", errOut, tt.want)
			}
			if out != "" {
				t.Errorf("bad input printed %q", out)
			}
		})
	}
}
