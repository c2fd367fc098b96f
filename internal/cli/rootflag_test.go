package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

func TestRootFileRejected(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-folder")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		path string
		want map[string]string // language -> part of the message
	}{
		{"flag file", nil, []string{"--root", file, "list-containers"}, file,
			map[string]string{"en": "from --root is a file", "id": "dari --root adalah berkas"}},
		{"flag below file", nil, []string{"--root", file + "/x", "lessons"}, file + "/x",
			map[string]string{"en": "from --root is a file", "id": "dari --root adalah berkas"}},
		{"env file", map[string]string{"RT_LAB_ROOT": file}, []string{"network", "show"}, file,
			map[string]string{"en": "from RT_LAB_ROOT is a file", "id": "dari RT_LAB_ROOT adalah berkas"}},
	}
	for _, tt := range tests {
		for lang, want := range tt.want {
			env := map[string]string{"RT_LAB_LANG": lang}
			for k, v := range tt.env {
				env[k] = v
			}
			code, _, errOut := runCLI(t, env, tt.args...)
			if code != usererr.ExitUsage {
				t.Errorf("%s %s: status %d, want %d", tt.name, lang, code, usererr.ExitUsage)
			}
			if !strings.Contains(errOut, tt.path+" "+want) {
				t.Errorf("%s %s: stderr %q does not contain %q", tt.name, lang, errOut, tt.path+" "+want)
			}
			if strings.Contains(errOut, "not a directory") {
				t.Errorf("%s %s: stderr %q shows the raw Go error", tt.name, lang, errOut)
			}
		}
	}
}

func TestRootEmptyRejected(t *testing.T) {
	for lang, want := range map[string]string{"en": "--root needs a folder", "id": "--root butuh sebuah folder"} {
		env := map[string]string{"RT_LAB_ROOT": t.TempDir(), "RT_LAB_LANG": lang}
		for _, args := range [][]string{{"--root", "", "lessons"}, {"--root=", "list-containers"}} {
			code, out, errOut := runCLI(t, env, args...)
			if code != usererr.ExitUsage {
				t.Errorf("%s %q: status %d, want %d", lang, args, code, usererr.ExitUsage)
			}
			if !strings.Contains(errOut, want) {
				t.Errorf("%s %q: stderr %q does not contain %q", lang, args, errOut, want)
			}
			if out != "" {
				t.Errorf("%s %q: ran the command anyway: %q", lang, args, out)
			}
		}
	}
}

func TestLangEmptyQuoted(t *testing.T) {
	// An invalid --lang also sets RT_LAB_LANG aside, so the locale picks the
	// language of the message.
	env := map[string]string{"RT_LAB_ROOT": t.TempDir()}
	for lang, want := range map[string]string{"en_US.UTF-8": `invalid language "" in --lang`, "id_ID.UTF-8": `bahasa "" di --lang`} {
		env["LANG"] = lang
		code, _, errOut := runCLI(t, env, "--lang", "", "lessons")
		if code != usererr.ExitUsage {
			t.Errorf("%s: status %d, want %d", lang, code, usererr.ExitUsage)
		}
		if !strings.Contains(errOut, want) {
			t.Errorf("%s: stderr %q does not contain %q", lang, errOut, want)
		}
	}
}
