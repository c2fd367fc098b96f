package cli

import (
	"strings"
	"testing"
)

func TestHelpPlaceholdersTranslated(t *testing.T) {
	tests := []struct {
		lang    string
		args    []string
		want    []string
		notWant []string
	}{
		{"id", []string{"--help"}, []string{"rt-lab [perintah]\n"}, []string{"[command]", "[flags]"}},
		{"id", []string{"network", "--help"},
			[]string{"rt-lab network show|nat|set-subnet|remove-bridge [opsi]\n", "rt-lab network [perintah]\n"},
			[]string{"[command]", "[flags]"}},
		{"id", []string{"list-containers", "--help"}, []string{"rt-lab list-containers [--json] [opsi]\n"}, []string{"[flags]"}},
		{"en", []string{"--help"}, []string{"rt-lab [command]\n"}, []string{"[perintah]"}},
		{"en", []string{"network", "--help"}, []string{"rt-lab network [command]\n", "remove-bridge [flags]\n"}, []string{"[opsi]"}},
	}
	for _, tt := range tests {
		env := map[string]string{"RT_LAB_ROOT": t.TempDir(), "RT_LAB_LANG": tt.lang}
		code, out, errOut := runCLI(t, env, tt.args...)
		if code != 0 {
			t.Errorf("%s %q: status %d: %s", tt.lang, tt.args, code, errOut)
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s %q: help lacks %q:\n%s", tt.lang, tt.args, w, out)
			}
		}
		for _, w := range tt.notWant {
			if strings.Contains(out, w) {
				t.Errorf("%s %q: help contains %q:\n%s", tt.lang, tt.args, w, out)
			}
		}
	}
}
