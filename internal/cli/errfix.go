package cli

import (
	"errors"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// errorFixes maps the id of an error that a damaged file causes to the message
// with the repair. The repair commands need the state folder, which the
// packages that raise these errors do not know, so the command line prints the
// fix on a line of its own below the error.
var errorFixes = map[string]string{
	"ErrContainerBroken":       "FixContainerBroken",
	"ErrContainerExistsBroken": "FixContainerBroken",
	"ErrNetFileCorrupt":        "DebugFixNetFile",
	"ErrProgressCorrupt":       "FixProgressReset",
	"ErrProgressNewer":         "FixProgressReset",
}

// errorFix returns the repair advice for err, or "" when err has none. The
// advice comes from the outermost error in the chain that has a fix, and its
// commands carry --root when the state folder is not the default one.
func (a *App) errorFix(err error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		var ue *usererr.Error
		if !errors.As(e, &ue) {
			return ""
		}
		if id, ok := errorFixes[ue.ID]; ok {
			root, command := a.suggestedCommand()
			return a.P.Tf(id, "Command", command, "Root", root, "Name", ue.Data["Name"], "Path", ue.Data["Path"])
		}
		e = ue
	}
	return ""
}

// suggestedCommand returns the state folder and how to run rt-lab in the
// commands that messages suggest: lessonCommand for that folder, or plain
// rt-lab when the folder is invalid.
func (a *App) suggestedCommand() (root, command string) {
	root, err := a.RootDir()
	if err != nil {
		return a.Root, "rt-lab"
	}
	return root, a.lessonCommand(root)
}
