package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/runtime"
)

func TestMain(m *testing.M) {
	runtime.MaybeInit()
	testutil.ExitUnlessStatic()
	os.Exit(m.Run())
}

// runCLI runs one command line in-process with a fixed environment and returns
// the exit status, stdout and stderr.
func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	app := &App{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		Env: func(k string) string { return env[k] }}
	code := app.Run(args)
	return code, stdout.String(), stderr.String()
}

func TestBadInputIsUsageError(t *testing.T) {
	testutil.RequireRoot(t)
	root := t.TempDir()
	env := map[string]string{"RT_LAB_ROOT": root, "RT_LAB_LANG": "en"}
	if code, _, errOut := runCLI(t, env, "create-container", "rumah-ada"); code != 0 {
		t.Fatalf("create rumah-ada: status %d: %s", code, errOut)
	}
	t.Cleanup(func() { runCLI(t, env, "delete-container", "rumah-ada", "--force", "--yes") })
	tooManyCPU := fmt.Sprint(100*runtime.HostCPUs() + 1)

	tests := []struct {
		name string
		args []string
		want string // text the error must contain
	}{
		{"empty name", []string{"create-container", ""}, "empty"},
		{"dot", []string{"create-container", "."}, `"."`},
		{"dot dot", []string{"create-container", ".."}, ".."},
		{"slash", []string{"create-container", "a/b"}, "a/b"},
		{"path escape", []string{"create-container", "../../etc/x"}, "../../etc/x"},
		{"leading dash", []string{"create-container", "--", "-rumah"}, "-rumah"},
		{"space", []string{"create-container", "rumah jakarta"}, "rumah jakarta"},
		{"too long", []string{"create-container", strings.Repeat("a", 51)}, "maximum is 50"},
		{"non-ASCII", []string{"create-container", "rumah-ñ"}, "rumah-ñ"},
		{"exists", []string{"create-container", "rumah-ada"}, "already exists"},
		{"hostname of a neighbour", []string{"create-container", "r1", "--hostname", "rumah-ada"}, "phone book"},
		{"ram zero", []string{"create-container", "r1", "--ram", "0"}, `"0"`},
		{"ram negative", []string{"create-container", "r1", "--ram", "-1"}, `"-1"`},
		{"ram letters", []string{"create-container", "r1", "--ram", "abc"}, `"abc"`},
		{"ram exponent", []string{"create-container", "r1", "--ram", "1e3"}, `"1e3"`},
		{"ram unit", []string{"create-container", "r1", "--ram", "512MB"}, `"512MB"`},
		{"ram too large", []string{"create-container", "r1", "--ram", "999999999"}, "larger than this machine"},
		{"ram and memory", []string{"create-container", "r1", "--ram", "64", "--memory", "64M"}, "only one"},
		{"memory fraction", []string{"create-container", "r1", "--memory", "0.5G"}, `"0.5G"`},
		{"cpu zero", []string{"create-container", "r1", "--cpu", "0"}, "out of range"},
		{"cpu too high", []string{"create-container", "r1", "--cpu", tooManyCPU}, tooManyCPU},
		{"cpu letters", []string{"create-container", "r1", "--cpu", "abc"}, `"abc"`},
		{"hostname", []string{"create-container", "r1", "--hostname", "bad_host"}, "bad_host"},
		{"run unknown", []string{"run-container", "rumah-hilang", "--", "true"}, "rumah-hilang"},
		{"stop unknown", []string{"stop-container", "rumah-hilang"}, "rumah-hilang"},
		{"delete unknown", []string{"delete-container", "rumah-hilang", "--yes"}, "rumah-hilang"},
		{"stop timeout", []string{"stop-container", "rumah-ada", "--timeout", "soon"}, `"soon"`},
		{"delete without yes", []string{"delete-container", "rumah-ada"}, "--yes"},
		{"no name", []string{"create-container"}, "exactly one"},
		{"unknown flag", []string{"create-container", "r1", "--rom", "5"}, "--rom"},
		{"bad lang", []string{"--lang", "fr", "list-containers"}, "fr"},
		{"bad lang last", []string{"--lang", "en", "--lang", "fr", "list-containers"}, "fr"},
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
	entries, err := os.ReadDir(filepath.Join(root, "containers"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "rumah-ada" {
		t.Errorf("bad input left containers behind: %v", entries)
	}
}

func TestErrorsInIndonesian(t *testing.T) {
	testutil.RequireRoot(t)
	env := map[string]string{"RT_LAB_ROOT": t.TempDir()}
	code, _, errOut := runCLI(t, env, "create-container", "a/b")
	if code != 2 || !strings.Contains(errOut, "tidak sah") {
		t.Errorf("default language: status %d, stderr %q; want 2 and an Indonesian message", code, errOut)
	}
}

func TestLanguageChoice(t *testing.T) {
	root := t.TempDir()
	if err := SaveSettings(root, Settings{Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"flag beats env", []string{"--lang", "id"}, map[string]string{"RT_LAB_LANG": "en"}, "id"},
		{"env beats saved", nil, map[string]string{"RT_LAB_LANG": "id", "RT_LAB_ROOT": root}, "id"},
		{"saved beats locale", nil, map[string]string{"RT_LAB_ROOT": root, "LANG": "id_ID.UTF-8"}, "en"},
		{"locale", nil, map[string]string{"RT_LAB_ROOT": t.TempDir(), "LANG": "en_US.UTF-8"}, "en"},
		{"LC_ALL first", nil, map[string]string{"RT_LAB_ROOT": t.TempDir(), "LC_ALL": "id_ID", "LANG": "en_US"}, "id"},
		{"default", nil, map[string]string{"RT_LAB_ROOT": t.TempDir(), "LANG": "C.UTF-8"}, "id"},
		{"root flag finds saved", []string{"--root", root}, map[string]string{}, "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := &App{Env: func(k string) string { return tt.env[k] }}
			lang, _, err := app.resolveLang(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if string(lang) != tt.want {
				t.Errorf("language = %s, want %s", lang, tt.want)
			}
		})
	}
}

// TestNotRootMessage runs the real binary as an unprivileged user.
func TestNotRootMessage(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.BuildRTLab(t, true)
	nobody := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--lang", "en", "create-container", "rumah-x"}, 3, "sudo"},
		{[]string{"--lang", "id", "list-containers"}, 3, "sudo"},
		{[]string{"--lang", "en", "--help"}, 0, "rt-lab"},
	}
	for _, tt := range tests {
		cmd := exec.Command(bin, tt.args...)
		cmd.SysProcAttr = nobody
		cmd.Env = []string{"RT_LAB_ROOT=" + t.TempDir()}
		out, _ := cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != tt.code || !strings.Contains(string(out), tt.want) {
			t.Errorf("%v as nobody: status %d, output %q; want %d and %q", tt.args,
				cmd.ProcessState.ExitCode(), out, tt.code, tt.want)
		}
	}
}
