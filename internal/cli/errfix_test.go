package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/locales"
)

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

func TestErrorFixNoneForOtherErrors(t *testing.T) {
	app := &App{P: locales.For(locales.EN), Env: func(string) string { return "" }}
	if fix := app.errorFix(usererr.New(usererr.Usage, "ErrUnknownCommand", "Command", "x")); fix != "" {
		t.Errorf("fix for ErrUnknownCommand: %q", fix)
	}
}
