package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/locales"
)

func TestProgressCorruptFixNamesRoot(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "progress.json"), []byte("{bad"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "id"} {
		env := map[string]string{"RT_LAB_ROOT": root, "RT_LAB_LANG": lang, "SUDO_USER": "student"}
		code, _, errOut := runCLI(t, env, "lessons")
		if code != usererr.ExitFailed {
			t.Errorf("%s: status %d, want %d: %s", lang, code, usererr.ExitFailed, errOut)
		}
		want := "'sudo rt-lab --root " + root + " reset'"
		if !strings.Contains(errOut, want) {
			t.Errorf("%s: output lacks %s:\n%s", lang, want, errOut)
		}
	}
}

func TestBrokenHouseFixNamesRecoverFirst(t *testing.T) {
	root := t.TempDir()
	for _, lang := range locales.Langs {
		app := &App{P: locales.For(lang), Root: root, Env: func(string) string { return "" }}
		err := usererr.Wrap(os.ErrInvalid, usererr.Failed, "ErrContainerBroken", "Name", "rumah-a", "Path", "x")
		fix := app.errorFix(err)
		recoverAt := strings.Index(fix, "--root "+root+" recover-state rumah-a")
		deleteAt := strings.Index(fix, "--root "+root+" delete-container rumah-a --force")
		if recoverAt < 0 {
			t.Errorf("%s: fix does not name recover-state with --root: %q", lang, fix)
		}
		if deleteAt < recoverAt {
			t.Errorf("%s: fix does not name delete-container after recover-state: %q", lang, fix)
		}
	}
}

func TestErrorFixDefaultRootOmitsFlag(t *testing.T) {
	app := &App{P: locales.For(locales.EN), Env: func(string) string { return "" }}
	err := usererr.New(usererr.Failed, "ErrProgressCorrupt", "Path", "p", "Detail", "d")
	fix := app.errorFix(err)
	if strings.Contains(fix, "--root") {
		t.Errorf("fix names --root for the default folder: %q", fix)
	}
	if !strings.Contains(fix, "rt-lab reset") {
		t.Errorf("fix does not name rt-lab reset: %q", fix)
	}
}

func TestErrorFixNoneForOtherErrors(t *testing.T) {
	app := &App{P: locales.For(locales.EN), Env: func(string) string { return "" }}
	if fix := app.errorFix(usererr.New(usererr.Usage, "ErrUnknownCommand", "Command", "x")); fix != "" {
		t.Errorf("fix for ErrUnknownCommand: %q", fix)
	}
}
