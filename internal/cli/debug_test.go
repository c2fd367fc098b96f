package cli

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/network"
	"github.com/rt-lab/rt-lab/runtime"
)

// debugRoot returns a fresh state folder whose houses and bridge are removed
// when the test ends, even when it fails.
func debugRoot(t *testing.T) (string, map[string]string) {
	t.Helper()
	testutil.RequireRoot(t)
	root := t.TempDir()
	env := map[string]string{"RT_LAB_ROOT": root, "RT_LAB_LANG": "en"}
	t.Cleanup(func() {
		r, err := runtime.New(runtime.Options{Root: root})
		if err != nil {
			t.Fatal(err)
		}
		cs, _ := r.List()
		for _, c := range cs {
			if err := r.Delete(c.Name, true); err != nil {
				t.Errorf("cleanup: delete %s: %v", c.Name, err)
			}
		}
		if n, err := network.Load(root); err == nil {
			if err := n.RemoveBridge(true); err != nil {
				t.Errorf("cleanup: remove bridge: %v", err)
			}
		}
	})
	return root, env
}

func TestDebugSystem(t *testing.T) {
	_, env := debugRoot(t)

	code, out, errOut := runCLI(t, env, "debug", "system")
	if code != 0 {
		t.Fatalf("exit status %d, want 0 on this host:\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"CHECK", "kernel", "cgroup memory", "veth", "busybox applets"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "0 missing") {
		t.Errorf("summary %q, want 0 missing", errOut)
	}

	code, out, _ = runCLI(t, env, "--lang", "id", "debug", "system")
	if code != 0 || !strings.Contains(out, "PEMERIKSAAN") || !strings.Contains(out, "versi cgroup") {
		t.Errorf("Indonesian: exit %d, output:\n%s", code, out)
	}
}

func TestDebugSystemJSON(t *testing.T) {
	_, env := debugRoot(t)
	code, out, errOut := runCLI(t, env, "debug", "system", "--json")
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, errOut)
	}
	var rep struct {
		Root   string `json:"root"`
		Checks []struct {
			ID      string `json:"id"`
			Verdict string `json:"verdict"`
			Value   string `json:"value"`
			Fix     string `json:"fix"`
		} `json:"checks"`
		Summary map[string]int `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if rep.Root != env["RT_LAB_ROOT"] {
		t.Errorf("root = %q, want %q", rep.Root, env["RT_LAB_ROOT"])
	}
	var ids []string
	for _, c := range rep.Checks {
		ids = append(ids, c.ID)
		if c.Value == "" {
			t.Errorf("check %s has an empty value", c.ID)
		}
	}
	for _, id := range []string{"kernel", "cgroup-version", "overlayfs", "veth", "bridge-support", "busybox", "disk", "bridge"} {
		if !slices.Contains(ids, id) {
			t.Errorf("checks %v lack %s", ids, id)
		}
	}
	if rep.Summary["missing"] != 0 || rep.Summary["ok"] == 0 {
		t.Errorf("summary = %v, want no missing", rep.Summary)
	}
}

func TestDebugSystemMissingBusybox(t *testing.T) {
	_, env := debugRoot(t)
	code, out, _ := runCLI(t, env, "--busybox", "/nonexistent/busybox", "debug", "system")
	if code != 1 {
		t.Errorf("exit status %d, want 1 with busybox missing", code)
	}
	if !strings.Contains(out, "MISSING") || !strings.Contains(out, "/nonexistent/busybox") {
		t.Errorf("output does not name the missing busybox:\n%s", out)
	}
}

func TestDebugContainers(t *testing.T) {
	root, env := debugRoot(t)
	if code, _, errOut := runCLI(t, env, "create-container", "rumah-uji", "--ram", "64"); code != 0 {
		t.Fatalf("create: %s", errOut)
	}
	if code, _, errOut := runCLI(t, env, "run-container", "rumah-uji", "--", "true"); code != 0 {
		t.Fatalf("start: %s", errOut)
	}

	code, out, errOut := runCLI(t, env, "debug", "containers")
	if code != 0 {
		t.Fatalf("healthy house: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"rumah-uji: healthy", "father (PID 1)", "/ 64.0 MiB"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// A folder without a state file makes the complex unhealthy.
	if err := os.Mkdir(root+"/containers/rumah-setengah", 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root + "/containers/rumah-setengah") })
	code, out, _ = runCLI(t, env, "debug", "containers", "--json")
	if code != 1 {
		t.Errorf("exit status %d, want 1 with a folder without state", code)
	}
	var rep struct {
		Healthy    bool `json:"healthy"`
		Containers []struct {
			Name    string `json:"name"`
			Healthy bool   `json:"healthy"`
			Issues  []struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"issues"`
			Recorded struct {
				State string `json:"state"`
			} `json:"recorded"`
		} `json:"containers"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if rep.Healthy || len(rep.Containers) != 2 {
		t.Fatalf("healthy %v with %d containers, want unhealthy with 2", rep.Healthy, len(rep.Containers))
	}
	half := rep.Containers[0]
	if half.Name != "rumah-setengah" || half.Recorded.State != "missing" || len(half.Issues) != 1 ||
		half.Issues[0].Code != "state-missing" || half.Issues[0].Message == "" {
		t.Errorf("rumah-setengah = %+v, want one state-missing issue", half)
	}

	code, out, _ = runCLI(t, env, "--lang", "id", "debug", "containers", "rumah-uji")
	if code != 0 || !strings.Contains(out, "rumah-uji: sehat") {
		t.Errorf("Indonesian, one house: exit %d\n%s", code, out)
	}
}

func TestDebugBadInput(t *testing.T) {
	_, env := debugRoot(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown house", []string{"debug", "containers", "rumah-hilang"}, "rumah-hilang"},
		{"invalid name", []string{"debug", "containers", "../etc"}, "../etc"},
		{"two names", []string{"debug", "containers", "a", "b"}, "at most one"},
		{"unknown subcommand", []string{"debug", "sistem"}, "sistem"},
		{"argument to system", []string{"debug", "system", "extra"}, "extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, env, tt.args...)
			if code != 2 {
				t.Errorf("exit status %d, want 2 (stderr %q)", code, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q does not contain %q", errOut, tt.want)
			}
		})
	}
}
