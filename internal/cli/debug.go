package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rt-lab/rt-lab/internal/diag"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// debugOptions are the inputs of the debug commands.
type debugOptions struct {
	Name string // debug containers: one container, or "" for all
	JSON bool
}

func (a *App) newDebugCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "debug",
		Short: a.P.T("DebugShort", nil),
		Long:  a.P.T("DebugLong", nil),
		Args:  subcommandArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.newDebugSystemCmd(), a.newDebugContainersCmd())
	// localizeHelp reaches only the root's direct children.
	for _, c := range cmd.Commands() {
		c.InitDefaultHelpFlag()
		c.Flags().Lookup("help").Usage = a.P.T("FlagHelp", nil)
	}
	return cmd
}

func (a *App) newDebugSystemCmd() *cobra.Command {
	opts := &debugOptions{}
	cmd := &cobra.Command{
		Use:     "system [--json]",
		Short:   a.P.T("DebugSystemShort", nil),
		Long:    a.P.T("DebugSystemLong", nil),
		Example: "  sudo rt-lab debug system\n  sudo rt-lab debug system --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runDebugSystem(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, a.P.T("FlagJSON", nil))
	return cmd
}

// checkJSON is one entry of `debug system --json`; its keys are stable.
type checkJSON struct {
	ID      string         `json:"id"`
	Verdict diag.Verdict   `json:"verdict"`
	Value   string         `json:"value"`
	Fix     string         `json:"fix"`
	Data    map[string]any `json:"data,omitempty"`
}

// systemJSON is the output of `debug system --json`.
type systemJSON struct {
	Root    string         `json:"root"`
	Checks  []checkJSON    `json:"checks"`
	Summary map[string]int `json:"summary"` // verdict -> count
}

// runDebugSystem prints the host's facilities. It runs without root too, and
// then marks the checks that need root as warnings. Something missing ends
// with exit status 1.
func (a *App) runDebugSystem(opts *debugOptions) error {
	root, err := a.RootDir()
	if err != nil {
		return err
	}

	rep, err := diag.System(diag.SystemOptions{Root: root, Busybox: a.Busybox})
	if err != nil {
		return err
	}

	if opts.JSON {
		err = a.printSystemJSON(rep)
	} else {
		err = a.printSystemTable(rep)
	}
	if err != nil {
		return err
	}
	if rep.Count(diag.Missing) > 0 {
		return &exitError{code: usererr.ExitFailed}
	}
	return nil
}

func (a *App) printSystemJSON(rep *diag.SystemReport) error {
	out := systemJSON{Root: rep.Root, Checks: []checkJSON{}, Summary: map[string]int{}}
	for _, c := range rep.Checks {
		out.Checks = append(out.Checks, checkJSON{ID: c.ID, Verdict: c.Verdict,
			Value: c.Value.Render(a.P), Fix: c.Fix.Render(a.P), Data: c.Value.Data})
	}
	for _, v := range []diag.Verdict{diag.OK, diag.Warning, diag.Missing} {
		out.Summary[string(v)] = rep.Count(v)
	}
	return a.writeDebugJSON(out)
}

func (a *App) printSystemTable(rep *diag.SystemReport) error {
	w := tabwriter.NewWriter(a.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, a.P.T("DebugSystemHeader", nil))
	for _, c := range rep.Checks {
		fmt.Fprintf(w, "%s\t%s\t%s\n", a.checkLabel(c.ID), a.P.T("DebugVerdict_"+string(c.Verdict), nil), c.Value.Render(a.P))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	var fixes []string
	for _, c := range rep.Checks {
		if !c.Fix.IsZero() {
			fixes = append(fixes, "  "+a.P.Tf("DebugFixLine", "Check", a.checkLabel(c.ID), "Fix", c.Fix.Render(a.P)))
		}
	}
	if len(fixes) > 0 {
		fmt.Fprintf(a.Stdout, "\n%s\n%s\n", a.P.T("DebugFixesHeader", nil), strings.Join(fixes, "\n"))
	}
	a.info(a.Stderr, "DebugSystemSummary", "Total", len(rep.Checks), "OK", rep.Count(diag.OK),
		"Warnings", rep.Count(diag.Warning), "Missing", rep.Count(diag.Missing))
	return nil
}

// checkLabel returns the name of check id in the user's language.
func (a *App) checkLabel(id string) string {
	return a.P.T("DebugCheck_"+strings.ReplaceAll(id, "-", "_"), nil)
}

func (a *App) writeDebugJSON(v any) error {
	enc := json.NewEncoder(a.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
