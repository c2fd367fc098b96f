package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// brokenLesson is a ready stage with five mistakes: no English title, 0 points,
// no solution, an unknown check, and a check without its hostname parameter.
const brokenLesson = `id: tahap-1
number: 1
status: ready
title: {id: "Satu rumah", en: ""}
intro: {id: "pengantar", en: "intro"}
containers: [rumah-uji]
steps:
  - id: langkah-a
    points: 0
    title: {id: "A", en: "A"}
    text: {id: "teks", en: "text"}
    commands: ["rt-lab create-container rumah-uji"]
    hints: [{id: "petunjuk", en: "hint"}]
    checks:
      - check: house-flying
        with: {name: rumah-uji}
      - check: house-built
        with: {name: rumah-uji}
`

func TestLessonsValidateEmbedded(t *testing.T) {
	env := map[string]string{"RT_LAB_ROOT": t.TempDir(), "RT_LAB_LANG": "en"}
	code, out, errOut := runCLI(t, env, "lessons", "validate")
	if code != 0 {
		t.Errorf("exit status %d, want 0: the built-in lessons have problems:\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "No problems found.") {
		t.Errorf("stdout %q does not say that there are no problems", out)
	}
}

func TestLessonsValidateReportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"tahap-1.yaml": brokenLesson,
		"tahap-2.yaml": "id: tahap-2\nnumber: 2\ntittle: {id: a, en: b}\n",
		"tahap-3.yml":  "id: tahap-3\n",
		"README.md":    "not a lesson\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"RT_LAB_ROOT": t.TempDir(), "RT_LAB_LANG": "en"}
	code, out, errOut := runCLI(t, env, "lessons", "validate", dir)
	if code != 1 {
		t.Errorf("exit status %d, want 1 (stderr %q)", code, errOut)
	}
	for _, want := range []string{
		"tahap-1 / title.en:",
		"tahap-1 / langkah-a / points:",
		"tahap-1 / langkah-a / solution:",
		"tahap-1 / langkah-a / checks[0]: unknown check house-flying",
		"tahap-1 / langkah-a / checks[1]: check house-built needs the parameter hostname",
		`parse lesson file "tahap-2.yaml"`,
		"tahap-3.yml: lesson files must end in .yaml", "rename it to tahap-3.yaml",
		"Found 7 problem(s) in 3 lesson file(s).",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not contain %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "README") {
		t.Errorf("README.md was read as a lesson file:\n%s", out)
	}

	code, out, _ = runCLI(t, env, "--lang", "id", "lessons", "validate", dir)
	if code != 1 || !strings.Contains(out, "ganti namanya menjadi tahap-3.yaml") {
		t.Errorf("Indonesian: exit status %d, output:\n%s", code, out)
	}
}

func TestLessonsValidateUsageErrors(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"RT_LAB_ROOT": t.TempDir(), "RT_LAB_LANG": "en"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing folder", []string{"lessons", "validate", filepath.Join(dir, "nope")}, filepath.Join(dir, "nope")},
		{"no lesson files", []string{"lessons", "validate", dir}, "has no lesson files"},
		{"two folders", []string{"lessons", "validate", dir, dir}, "at most one folder"},
		{"lessons with an argument", []string{"lessons", "tahap-1"}, "lessons"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, env, tt.args...)
			if code != 2 {
				t.Errorf("exit status %d, want 2 (stdout %q, stderr %q)", code, out, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q does not contain %q", errOut, tt.want)
			}
		})
	}
}

func TestLessonsListStillWorks(t *testing.T) {
	env := map[string]string{"RT_LAB_ROOT": t.TempDir(), "RT_LAB_LANG": "en"}
	code, out, errOut := runCLI(t, env, "lessons")
	if code != 0 || !strings.Contains(out, "Tahap 1:") {
		t.Errorf("rt-lab lessons: exit status %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestLessonsLegendNamesRoot(t *testing.T) {
	root := t.TempDir()
	for _, lang := range []string{"en", "id"} {
		env := map[string]string{"RT_LAB_LANG": lang, "SUDO_USER": "student"}
		code, out, errOut := runCLI(t, env, "--root", root, "lessons")
		if code != 0 {
			t.Fatalf("%s: exit status %d: %s", lang, code, errOut)
		}
		want := "sudo rt-lab --root " + root + " start"
		if !strings.Contains(out, want) {
			t.Errorf("%s: legend lacks %q:\n%s", lang, want, out)
		}
	}
}
