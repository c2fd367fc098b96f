package housetools

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/locales"
)

// runTool runs tool name in-process with lang and returns its exit status and
// output.
func runTool(t *testing.T, lang locales.Lang, name string, args ...string) (int, string, string) {
	t.Helper()
	tl, ok := lookup(name)
	if !ok {
		t.Fatalf("no tool %q", name)
	}
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, p: locales.For(lang)}
	code := e.runTool(tl, args)
	return code, stdout.String(), stderr.String()
}

func TestMainIgnoresOtherNames(t *testing.T) {
	for _, argv0 := range []string{"rt-lab", "/usr/local/bin/rt-lab", "rt-lab:init", "", "eat-memory2", "sh"} {
		if _, handled := Main(argv0, []string{"--help"}); handled {
			t.Errorf("Main(%q) handled the call, want it left to the CLI", argv0)
		}
	}
}

func TestLookupByBaseName(t *testing.T) {
	tests := map[string]string{
		"eat-memory":                 "eat-memory",
		"/usr/bin/burn-cpu":          "burn-cpu",
		"./ipcmk":                    "ipcmk",
		"/usr/bin/ipcs":              "ipcs",
		"../bin/ipcrm":               "ipcrm",
		"/usr/lib/rt-lab/eat-memory": "eat-memory",
	}
	for argv0, want := range tests {
		tl, ok := lookup(argv0)
		if !ok || tl.name != want {
			t.Errorf("lookup(%q) = %q, %v; want %q", argv0, tl.name, ok, want)
		}
	}
}

func TestNamesMatchTools(t *testing.T) {
	want := []string{"eat-memory", "burn-cpu", "ipcmk", "ipcs", "ipcrm"}
	if got := strings.Join(Names(), " "); got != strings.Join(want, " ") {
		t.Errorf("Names() = %s, want %s", got, strings.Join(want, " "))
	}
}

func TestHelpInBothLanguages(t *testing.T) {
	for _, name := range Names() {
		for _, lang := range locales.Langs {
			code, out, errOut := runTool(t, lang, name, "--help")
			if code != 0 || errOut != "" {
				t.Errorf("%s --help (%s): status %d, stderr %q", name, lang, code, errOut)
			}
			if !strings.Contains(out, name) {
				t.Errorf("%s --help (%s) does not name the tool:\n%s", name, lang, out)
			}
		}
		if _, out, _ := runTool(t, locales.EN, name, "-h"); !strings.HasPrefix(out, "Usage: "+name) {
			t.Errorf("%s -h (en) starts %q, want Usage: %s", name, firstLine(out), name)
		}
		if _, out, _ := runTool(t, locales.ID, name, "-h"); !strings.HasPrefix(out, "Cara pakai: "+name) {
			t.Errorf("%s -h (id) starts %q, want Cara pakai: %s", name, firstLine(out), name)
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func TestBadInputExitsTwo(t *testing.T) {
	tests := []struct {
		tool string
		args []string
		want string // part of the English error
	}{
		{"eat-memory", nil, "expected one SIZE argument, got 0"},
		{"eat-memory", []string{"1", "2"}, "expected one SIZE argument, got 2"},
		{"eat-memory", []string{"lots"}, `invalid SIZE "lots"`},
		{"eat-memory", []string{"-5"}, `invalid SIZE "-5"`},
		{"eat-memory", []string{"0"}, `SIZE "0" is zero`},
		{"eat-memory", []string{"99999999g"}, "larger than this machine's memory"},
		{"eat-memory", []string{"8", "--hold", "forever"}, `invalid --hold "forever"`},
		{"eat-memory", []string{"8", "--hold"}, "option --hold needs a value"},
		{"eat-memory", []string{"8", "--keep", "1"}, `unknown option "--keep"`},
		{"burn-cpu", []string{"0"}, `SECONDS "0" is zero`},
		{"burn-cpu", []string{"1", "2"}, "at most one SECONDS argument, got 2"},
		{"burn-cpu", []string{"-w", "0"}, `invalid --workers "0"`},
		{"burn-cpu", []string{"--workers", "many"}, `invalid --workers "many"`},
		{"ipcmk", nil, "give -Q to create a message queue"},
		{"ipcmk", []string{"-M", "4096"}, `unknown option "-M"`},
		{"ipcmk", []string{"-Q", "-p", "999"}, `invalid -p "999"`},
		{"ipcmk", []string{"-Q", "extra"}, `unexpected argument "extra"`},
		{"ipcs", []string{"-m"}, "option -m is not supported"},
		{"ipcs", []string{"queues"}, `unexpected argument "queues"`},
		{"ipcrm", nil, "give -q MSQID"},
		{"ipcrm", []string{"-q", "abc"}, `invalid message queue id "abc"`},
		{"ipcrm", []string{"-q", "1", "-q", "-2"}, `invalid message queue id "-2"`},
	}
	for _, tt := range tests {
		code, out, errOut := runTool(t, locales.EN, tt.tool, tt.args...)
		if code != usererr.ExitUsage {
			t.Errorf("%s %q: status %d, want %d", tt.tool, tt.args, code, usererr.ExitUsage)
		}
		if !strings.HasPrefix(errOut, tt.tool+": ") || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s %q: stderr %q, want %q after the tool name", tt.tool, tt.args, errOut, tt.want)
		}
		if !strings.Contains(errOut, "run '"+tt.tool+" --help' for usage") {
			t.Errorf("%s %q: stderr %q does not point to --help", tt.tool, tt.args, errOut)
		}
		if out != "" {
			t.Errorf("%s %q: wrote %q to stdout before rejecting its input", tt.tool, tt.args, out)
		}
	}
}

func TestErrorInIndonesian(t *testing.T) {
	code, _, errOut := runTool(t, locales.ID, "burn-cpu", "0")
	if code != usererr.ExitUsage {
		t.Errorf("status %d, want %d", code, usererr.ExitUsage)
	}
	if want := `burn-cpu: DETIK "0" bernilai nol`; !strings.HasPrefix(errOut, want) {
		t.Errorf("stderr %q, want it to start with %q", errOut, want)
	}
}

func TestChooseLang(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want locales.Lang
	}{
		{"default", nil, locales.ID},
		{"RT_LAB_LANG", map[string]string{"RT_LAB_LANG": "en", "LANG": "id_ID.UTF-8"}, locales.EN},
		{"unknown RT_LAB_LANG falls through", map[string]string{"RT_LAB_LANG": "fr", "LANG": "en_US.UTF-8"}, locales.EN},
		{"LANG", map[string]string{"LANG": "en_GB.UTF-8"}, locales.EN},
		{"LC_ALL before LANG", map[string]string{"LC_ALL": "id_ID", "LANG": "en_US"}, locales.ID},
		{"C locale", map[string]string{"LANG": "C.UTF-8"}, locales.ID},
	}
	for _, tt := range tests {
		if got := chooseLang(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("%s: chooseLang = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestEatMemoryInProcess maps and touches a little memory in the test process
// itself; the runtime tests run the tool inside a house.
func TestEatMemoryInProcess(t *testing.T) {
	code, out, errOut := runTool(t, locales.EN, "eat-memory", "40", "--hold", "0")
	if code != 0 || errOut != "" {
		t.Fatalf("status %d, stderr %q", code, errOut)
	}
	for _, want := range []string{
		"allocated and touched 16 MiB of 40 MiB",
		"allocated and touched 32 MiB of 40 MiB",
		"allocated and touched 40 MiB of 40 MiB",
		"done: released 40 MiB",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "holding") {
		t.Errorf("--hold 0 still printed a hold line:\n%s", out)
	}
}

func TestBurnCPUInProcess(t *testing.T) {
	code, out, errOut := runTool(t, locales.EN, "burn-cpu", "200ms", "--workers", "2")
	if code != 0 || errOut != "" {
		t.Fatalf("status %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, "2 busy thread(s) for 200ms") {
		t.Errorf("output lacks the start line:\n%s", out)
	}
	if !strings.Contains(out, "2 thread(s), ") || !strings.Contains(out, "% of one CPU") {
		t.Errorf("output lacks the summary:\n%s", out)
	}
}
