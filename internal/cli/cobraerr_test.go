package cli

import (
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/locales"
)

func TestCommandLineErrorsTranslated(t *testing.T) {
	tests := []struct {
		args []string
		id   string // part of the Indonesian message
		en   string // part of the English message
	}{
		{[]string{"bogus-cmd"}, "perintah bogus-cmd tidak dikenal", "unknown command bogus-cmd"},
		{[]string{"create-containr", "x"}, "maksud Anda create-container?", "did you mean create-container?"},
		{[]string{"list-containers", "x"}, "argumen x tidak diharapkan", "unexpected argument x"},
		{[]string{"create-container", "-x"}, "opsi -x tidak dikenal", "unknown option -x"},
		{[]string{"create-container", "a", "--bogus"}, "opsi --bogus tidak dikenal", "unknown option --bogus"},
		{[]string{"check", "--format"}, "opsi --format butuh nilai", "option --format needs a value"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			env := map[string]string{"RT_LAB_ROOT": t.TempDir()}
			for lang, want := range map[string]string{"id": tt.id, "en": tt.en} {
				env["RT_LAB_LANG"] = lang
				code, _, errOut := runCLI(t, env, tt.args...)
				if code != 2 {
					t.Errorf("%s: status %d, want 2", lang, code)
				}
				if !strings.Contains(errOut, want) {
					t.Errorf("%s: stderr %q does not contain %q", lang, errOut, want)
				}
				if lang == "id" && strings.Contains(errOut, "unknown") {
					t.Errorf("id: stderr %q still has cobra's English text", errOut)
				}
			}
		})
	}
}

// TestGroupUnknownSubcommand runs every command that has subcommands with a
// subcommand that does not exist, so a group added later is covered too.
func TestGroupUnknownSubcommand(t *testing.T) {
	app := &App{Env: func(string) string { return "" }, P: locales.For(locales.EN)}
	var groups []string
	for _, c := range app.newRootCmd().Commands() {
		if c.HasSubCommands() {
			groups = append(groups, c.Name())
		}
	}
	if len(groups) < 3 {
		t.Fatalf("found the groups %v, want at least network, debug and lessons", groups)
	}
	for _, group := range groups {
		env := map[string]string{"RT_LAB_ROOT": t.TempDir()}
		for lang, want := range map[string]string{
			"id": "perintah foo tidak dikenal untuk rt-lab " + group,
			"en": "unknown command foo for rt-lab " + group,
		} {
			env["RT_LAB_LANG"] = lang
			code, out, errOut := runCLI(t, env, group, "foo")
			if code != 2 {
				t.Errorf("%s %s foo: status %d, want 2", lang, group, code)
			}
			if !strings.Contains(errOut, want) {
				t.Errorf("%s %s foo: stderr %q does not contain %q", lang, group, errOut, want)
			}
			if out != "" {
				t.Errorf("%s %s foo: printed to stdout: %q", lang, group, out)
			}
		}
	}
}

func TestGroupSubcommandSuggestion(t *testing.T) {
	env := map[string]string{"RT_LAB_ROOT": t.TempDir(), "RT_LAB_LANG": "en"}
	code, _, errOut := runCLI(t, env, "network", "shwo")
	if code != 2 {
		t.Errorf("status %d, want 2", code)
	}
	if !strings.Contains(errOut, "did you mean show?") {
		t.Errorf("stderr %q does not suggest show", errOut)
	}
}

func TestGroupWithoutSubcommandShowsHelp(t *testing.T) {
	env := map[string]string{"RT_LAB_ROOT": t.TempDir(), "RT_LAB_LANG": "en"}
	code, out, _ := runCLI(t, env, "network")
	if code != 0 {
		t.Errorf("status %d, want 0", code)
	}
	if !strings.Contains(out, "set-subnet") {
		t.Errorf("stdout does not list the subcommands:\n%s", out)
	}
}
