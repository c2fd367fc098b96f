package cli

import (
	"fmt"
	"strings"

	"github.com/rt-lab/rt-lab/internal/leftovers"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// findLeftovers is leftovers.Find. Tests replace it to see only the objects
// they made, because other tests on the same host may have objects too.
var findLeftovers = leftovers.Find

// runRecoverLeftovers removes the kernel objects of other state folders that
// no running house uses, or lists them in a dry run. It ends with exit status
// 1 when a removal failed.
func (a *App) runRecoverLeftovers(dryRun bool) error {
	r, err := a.Runtime()
	if err != nil {
		return err
	}
	sets, err := findLeftovers(r.Root())
	if err != nil {
		return usererr.Wrap(err, usererr.Failed, "ErrRecoverLeftoversFind")
	}

	var removable []*leftovers.Set
	for _, s := range sets {
		if !s.InUse {
			removable = append(removable, s)
		}
	}
	if len(removable) == 0 {
		a.info(a.Stdout, "RecoverLeftoversNone")
		return nil
	}

	failed := 0
	for _, s := range removable {
		objects := a.leftoverObjects(s)
		switch {
		case dryRun:
			a.info(a.Stdout, "RecoverLeftoverWould", "Objects", objects)
		default:
			if err := leftovers.Remove(s); err != nil {
				failed++
				a.info(a.Stdout, "RecoverLeftoverFailed", "Objects", objects, "Error", err.Error())
				continue
			}
			a.info(a.Stdout, "RecoverLeftoverRemoved", "Objects", objects)
		}
	}

	fmt.Fprintln(a.Stdout)
	if dryRun {
		a.info(a.Stdout, "RecoverLeftoversSummaryDryRun", "Count", len(removable))
		return nil
	}
	a.info(a.Stdout, "RecoverLeftoversSummary", "Removed", len(removable)-failed, "Failed", failed)
	if failed > 0 {
		return &exitError{code: usererr.ExitFailed}
	}
	return nil
}

// leftoverObjects describes the objects of set s in the user's language.
func (a *App) leftoverObjects(s *leftovers.Set) string {
	return a.P.Tf("RecoverLeftoverObjects", "Bridge", s.Bridge, "Veths", len(s.Veths), "Table", s.Table,
		"Cgroups", len(s.Cgroups), "PIDs", len(s.PIDs), "Roots", strings.Join(s.Roots, ", "))
}
