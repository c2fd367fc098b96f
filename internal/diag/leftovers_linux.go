package diag

import (
	"strings"

	"github.com/rt-lab/rt-lab/internal/leftovers"
)

// checkLeftovers reports the kernel objects of other state folders that no
// running house uses (see package leftovers): sets, as Find returns them.
func checkLeftovers(sets []*leftovers.Set, err error) Check {
	c := Check{ID: CheckLeftovers, Verdict: OK}
	if err != nil {
		c.Verdict, c.Value = Warning, errorValue(err)
		return c
	}
	var names []string
	for _, s := range sets {
		if !s.InUse {
			names = append(names, s.Name())
		}
	}
	if len(names) == 0 {
		c.Value = msg("DebugValueLeftoversNone")
		return c
	}
	c.Verdict = Warning
	c.Value = msg("DebugValueLeftovers", "Count", len(names), "Names", strings.Join(names, ", "))
	c.Fix = msg("DebugFixLeftovers")
	return c
}
