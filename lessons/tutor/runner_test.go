package tutor

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/locales"
)

func TestRunnerArgs(t *testing.T) {
	tests := []struct {
		name    string
		busybox string
		line    string
		want    []string
	}{
		{"rt-lab gets the global flags", "", "rt-lab create-container rumah-jakarta --hostname jakarta",
			[]string{"/opt/rt-lab", "--root=/srv/lab", "--lang=en", "create-container", "rumah-jakarta", "--hostname", "jakarta"}},
		{"busybox is passed on", "/usr/bin/busybox", "rt-lab run-container rumah-jakarta -- hostname",
			[]string{"/opt/rt-lab", "--root=/srv/lab", "--lang=en", "--busybox=/usr/bin/busybox", "run-container", "rumah-jakarta", "--", "hostname"}},
		{"quoted shell command stays one argument", "", "rt-lab run-container rumah-jakarta -- sh -c 'sleep 1000 >/dev/null 2>&1 &'",
			[]string{"/opt/rt-lab", "--root=/srv/lab", "--lang=en", "run-container", "rumah-jakarta", "--", "sh", "-c", "sleep 1000 >/dev/null 2>&1 &"}},
		{"other programs run as they are", "", "ip link", []string{"ip", "link"}},
		{"rt-lab only as the program", "", "echo rt-lab", []string{"echo", "rt-lab"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Runner{Exe: "/opt/rt-lab", Root: "/srv/lab", Lang: locales.EN, Busybox: tt.busybox}
			name, args, err := r.Args(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			got := append([]string{name}, args...)
			if strings.Join(got, "\x00") != strings.Join(tt.want, "\x00") {
				t.Errorf("Args(%q) = %q, want %q", tt.line, got, tt.want)
			}
		})
	}
}

func TestRunnerArgsUnbalancedQuote(t *testing.T) {
	r := &Runner{Exe: "/opt/rt-lab", Root: "/srv/lab", Lang: locales.ID}
	if _, _, err := r.Args("sh -c 'echo"); err == nil {
		t.Error("Args accepted an unbalanced quote")
	}
}

func TestTahap1SolutionsRunRTLab(t *testing.T) {
	stage, err := lessons.Find("tahap-1")
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Exe: "/opt/rt-lab", Root: "/srv/lab", Lang: locales.ID}
	for _, step := range stage.Steps {
		for _, line := range step.Solution {
			name, _, err := r.Args(line)
			if err != nil {
				t.Errorf("%s: %v", step.ID, err)
				continue
			}
			if name != "/opt/rt-lab" {
				t.Errorf("%s: solution %q runs %s, want the rt-lab binary", step.ID, line, name)
			}
		}
	}
}

func envValue(env []string, name string) (string, int) {
	var value string
	count := 0
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			value = v
			count++
		}
	}
	return value, count
}

func TestRunnerEnv(t *testing.T) {
	exeDir := t.TempDir()
	exe := filepath.Join(exeDir, "rt-lab")
	r := &Runner{Exe: exe, Root: "/srv/lab", Lang: locales.EN, Busybox: "/bb",
		BaseEnv: []string{"PATH=/usr/bin:/bin", "RT_LAB_ROOT=/old", "RT_LAB_LANG=id", "HOME=/root"}}
	defer r.Close()
	env, err := r.Env()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, want string }{
		{"PATH", exeDir + ":/usr/bin:/bin"},
		{"RT_LAB_ROOT", "/srv/lab"},
		{"RT_LAB_LANG", "en"},
		{"RT_LAB_BUSYBOX", "/bb"},
		{"HOME", "/root"},
	}
	for _, tt := range tests {
		got, count := envValue(env, tt.name)
		if got != tt.want || count != 1 {
			t.Errorf("%s = %q (%d times), want %q once", tt.name, got, count, tt.want)
		}
	}
}

func TestRunnerLinksOtherBinaryName(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Exe: exe, Root: "/srv/lab", Lang: locales.ID}
	env, err := r.Env()
	if err != nil {
		t.Fatal(err)
	}
	path, _ := envValue(env, "PATH")
	dir := strings.Split(path, ":")[0]
	target, err := os.Readlink(filepath.Join(dir, "rt-lab"))
	if err != nil {
		t.Fatalf("no rt-lab link first in PATH %q: %v", path, err)
	}
	if target != exe {
		t.Errorf("rt-lab links to %s, want %s", target, exe)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Close left %s behind", dir)
	}
}

func TestRunSolution(t *testing.T) {
	r := &Runner{Exe: "/bin/false", Root: t.TempDir(), Lang: locales.EN, BaseEnv: os.Environ()}
	defer r.Close()

	var out bytes.Buffer
	if err := r.RunSolution([]string{"sh -c 'echo one; echo $RT_LAB_LANG'", "echo two"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	want := "$ sh -c 'echo one; echo $RT_LAB_LANG'\none\nen\n$ echo two\ntwo\n"
	if out.String() != want {
		t.Errorf("output = %q, want %q", out.String(), want)
	}

	out.Reset()
	err := r.RunSolution([]string{"rt-lab anything", "echo never"}, &out, &out)
	if err == nil {
		t.Fatal("a failing solution line gave no error")
	}
	if strings.Contains(out.String(), "never") {
		t.Errorf("the line after a failure ran: %q", out.String())
	}
}

func TestRunSolutionHasNoStdin(t *testing.T) {
	r := &Runner{Exe: "/bin/false", Root: t.TempDir(), Lang: locales.EN, BaseEnv: os.Environ()}
	defer r.Close()
	var out bytes.Buffer
	if err := r.RunSolution([]string{"cat"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "$ cat\n" {
		t.Errorf("output = %q, want only the echoed command", out.String())
	}
}

func TestPickShell(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"SHELL when executable", []string{"SHELL=/bin/sh"}, "/bin/sh"},
		{"missing SHELL falls back", []string{"SHELL=/no/such/shell"}, fallbackShell()},
		{"relative SHELL falls back", []string{"SHELL=sh"}, fallbackShell()},
		{"no SHELL", nil, fallbackShell()},
	}
	for _, tt := range tests {
		if got := pickShell(tt.env); got != tt.want {
			t.Errorf("%s: pickShell = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func fallbackShell() string {
	if isExecutable("/bin/bash") {
		return "/bin/bash"
	}
	return "/bin/sh"
}

func TestShellCommandBashPrompt(t *testing.T) {
	if !isExecutable("/bin/bash") {
		t.Skip("no /bin/bash")
	}
	r := &Runner{Exe: "/opt/rt-lab", Root: "/srv/lab", Lang: locales.ID, BaseEnv: []string{"SHELL=/bin/bash", "PATH=/bin"}}
	cmd, cleanup, err := r.shellCommand("[rt-lab tahap-1 langkah 2/5]", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmd.Args) != 4 || cmd.Args[1] != "--rcfile" || cmd.Args[3] != "-i" {
		t.Fatalf("bash args = %q, want --rcfile FILE -i", cmd.Args)
	}
	rc, err := os.ReadFile(cmd.Args[2])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rc), "[rt-lab tahap-1 langkah 2/5]") || !strings.Contains(string(rc), "~/.bashrc") {
		t.Errorf("rc file = %q, want the marker and the student's ~/.bashrc", rc)
	}
	cleanup()
	if _, err := os.Stat(cmd.Args[2]); !os.IsNotExist(err) {
		t.Errorf("cleanup left the rc file")
	}
}

func TestShellCommandShPrompt(t *testing.T) {
	r := &Runner{Exe: "/opt/rt-lab", Root: "/srv/lab", Lang: locales.ID, BaseEnv: []string{"SHELL=/bin/sh", "PATH=/bin"}}
	cmd, cleanup, err := r.shellCommand("[rt-lab]", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	if ps1, _ := envValue(cmd.Env, "PS1"); ps1 != "[rt-lab] $ " {
		t.Errorf("PS1 = %q, want the marker", ps1)
	}
	if root, _ := envValue(cmd.Env, "RT_LAB_ROOT"); root != "/srv/lab" {
		t.Errorf("RT_LAB_ROOT = %q, want /srv/lab", root)
	}
}
