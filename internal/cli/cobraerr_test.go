package cli

import (
	"strings"
	"testing"
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
