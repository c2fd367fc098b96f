// Package cli builds rt-lab's command tree. Every command is a constructor that
// fills an options struct and a run function that tests can call directly.
package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/locales"
	"github.com/rt-lab/rt-lab/runtime"
)

// DefaultRoot is the state folder when neither --root nor RT_LAB_ROOT is set.
const DefaultRoot = "/var/lib/rt-lab"

// App carries what every command needs: streams, the chosen language and the
// global flags.
type App struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Env    func(string) string

	P          *locales.Printer
	LangSource string // flag, env, saved, locale or default

	Root    string
	Busybox string
	Debug   bool
	lang    string // raw --lang value
}

// Main runs rt-lab with args (without the program name) and returns the exit
// status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := &App{Stdin: stdin, Stdout: stdout, Stderr: stderr, Env: os.Getenv}
	return app.Run(args)
}

// Run executes one command line.
func (a *App) Run(args []string) int {
	lang, source, langErr := a.resolveLang(args)
	a.P = locales.For(lang)
	a.LangSource = source

	root := a.newRootCmd()
	root.SetArgs(args)
	root.SetIn(a.Stdin)
	root.SetOut(a.Stdout)
	root.SetErr(a.Stderr)

	err := langErr
	if err == nil {
		err = commandError(root, root.Execute())
	}
	if err == nil {
		return usererr.ExitOK
	}
	var exit *exitError
	if errors.As(err, &exit) {
		return exit.code
	}
	fmt.Fprintln(a.Stderr, a.P.Tf("ErrorPrefix", "Message", usererr.Render(err, a.P)))
	if fix := a.errorFix(err); fix != "" {
		fmt.Fprintln(a.Stderr, a.P.Tf("FixPrefix", "Message", fix))
	}
	return usererr.ExitCode(err)
}

// exitError ends a command with a status and no message of its own, for commands
// that already printed their result (check) or pass on a child's status
// (run-container).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func (a *App) newRootCmd() *cobra.Command {
	p := a.P
	cmd := &cobra.Command{
		Use:           "rt-lab",
		Short:         p.T("RootShort", nil),
		Long:          p.T("RootLong", nil),
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       runtime.Version,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			// An empty --root would fall back to RT_LAB_ROOT or the default
			// folder without a word, so it is rejected.
			if flagChanged(cmd.Flags(), "root") && a.Root == "" {
				return usererr.New(usererr.Usage, "ErrRootEmpty", "Default", DefaultRoot)
			}
			if a.Debug {
				slog.SetDefault(slog.New(slog.NewTextHandler(a.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
			}
			return nil
		},
	}
	cmd.CompletionOptions.HiddenDefaultCmd = true
	cmd.SetFlagErrorFunc(flagError)
	flags := cmd.PersistentFlags()
	flags.StringVar(&a.Root, "root", "", p.T("FlagRoot", nil))
	flags.StringVar(&a.lang, "lang", "", p.T("FlagLang", nil))
	flags.StringVar(&a.Busybox, "busybox", a.Env("RT_LAB_BUSYBOX"), p.T("FlagBusybox", nil))
	flags.BoolVar(&a.Debug, "debug", false, p.T("FlagDebug", nil))

	cmd.AddCommand(
		a.newCreateCmd(),
		a.newRunCmd(),
		a.newStopCmd(),
		a.newUpdateCmd(),
		a.newDeleteCmd(),
		a.newListCmd(),
		a.newNetworkCmd(),
		a.newTopologyCmd(),
		a.newStartCmd(),
		a.newLessonsCmd(),
		a.newHintCmd(),
		a.newResetCmd(),
		a.newCheckCmd(),
		a.newReportCmd(),
		a.newMonitorCmd(),
		a.newDebugCmd(),
		a.newRecoverCmd(),
	)
	a.localizeHelp(cmd)
	return cmd
}

// localizeHelp translates cobra's help and usage frame and adds the exit statuses
// to every command's help.
func (a *App) localizeHelp(root *cobra.Command) {
	p := a.P
	tmpl := strings.NewReplacer(
		"Usage:", p.T("HelpUsage", nil),
		"Aliases:", p.T("HelpAliases", nil),
		"Examples:", p.T("HelpExamples", nil),
		"Available Commands:", p.T("HelpCommands", nil),
		"Additional Commands:", p.T("HelpAdditional", nil),
		"Global Flags:", p.T("HelpGlobalFlags", nil),
		"Flags:", p.T("HelpFlags", nil),
		"Additional help topics:", p.T("HelpTopics", nil),
		`Use "{{.CommandPath}} [command] --help" for more information about a command.`, p.T("HelpMore", nil),
		// cobra appends " [flags]" to UseLine in English, so the template adds
		// it in the user's language and every command sets
		// DisableFlagsInUseLine (see disableFlagsInUseLine).
		"{{.UseLine}}", "{{.UseLine}}{{if .HasAvailableFlags}} "+p.T("HelpFlagsPlaceholder", nil)+"{{end}}",
		"{{.CommandPath}} [command]", "{{.CommandPath}} "+p.T("HelpCommandPlaceholder", nil),
	).Replace(root.UsageTemplate())
	tmpl += "\n" + p.T("HelpExitStatus", nil) + "\n"
	root.SetUsageTemplate(tmpl)
	root.SetVersionTemplate(p.T("VersionLine", nil) + "\n")
	root.InitDefaultHelpFlag()
	root.InitDefaultVersionFlag()
	if f := root.Flags().Lookup("help"); f != nil {
		f.Usage = p.T("FlagHelp", nil)
	}
	if f := root.Flags().Lookup("version"); f != nil {
		f.Usage = p.T("FlagVersion", nil)
	}
	for _, c := range root.Commands() {
		c.InitDefaultHelpFlag()
		if f := c.Flags().Lookup("help"); f != nil {
			f.Usage = p.T("FlagHelp", nil)
		}
	}
	root.SetHelpCommand(&cobra.Command{Use: "help [command]", Short: p.T("HelpCmdShort", nil), Hidden: true,
		Run: func(c *cobra.Command, args []string) {
			target, _, err := c.Root().Find(args)
			if target == nil || err != nil {
				target = c.Root()
			}
			_ = target.Help()
		}})
	disableFlagsInUseLine(root)
}

// disableFlagsInUseLine stops cobra from appending the English " [flags]" to
// the usage line of cmd and every command below it.
func disableFlagsInUseLine(cmd *cobra.Command) {
	cmd.DisableFlagsInUseLine = true
	for _, c := range cmd.Commands() {
		disableFlagsInUseLine(c)
	}
}

func (a *App) defaultRoot() string {
	if v := a.Env("RT_LAB_ROOT"); v != "" {
		return v
	}
	return DefaultRoot
}

// RootDir returns the absolute state folder. A folder that does not exist yet
// is fine, because the first command that writes creates it, but a path that
// is a file, or lies below one, is a usage error that names where it came from.
func (a *App) RootDir() (string, error) {
	root, source := a.Root, "--root"
	if root == "" {
		root, source = a.defaultRoot(), "RT_LAB_ROOT"
		if a.Env("RT_LAB_ROOT") == "" {
			source = ""
		}
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", usererr.Wrap(err, usererr.Usage, "ErrRootInvalid", "Path", root)
	}
	info, err := os.Stat(abs)
	if (err == nil && !info.IsDir()) || errors.Is(err, syscall.ENOTDIR) {
		return "", usererr.New(usererr.Usage, "ErrRootNotDir", "Path", abs, "Source", source, "Default", DefaultRoot)
	}
	return abs, nil
}

// Runtime opens the runtime for the chosen root folder.
func (a *App) Runtime() (*runtime.Runtime, error) {
	root, err := a.RootDir()
	if err != nil {
		return nil, err
	}
	return runtime.New(runtime.Options{Root: root, Busybox: a.Busybox})
}

// RequireRoot fails with the "needs root" message unless the process runs as uid 0.
func (a *App) RequireRoot() error {
	if os.Geteuid() != 0 {
		return usererr.New(usererr.Environment, "ErrNeedsRoot")
	}
	return nil
}

// needsRoot is a PreRunE for commands that touch namespaces, cgroups or state.
func (a *App) needsRoot(cmd *cobra.Command, args []string) error { return a.RequireRoot() }

// scanFlag finds the value of a global string flag in raw args before cobra
// parses them, because the language must be known to build the help text.
// The last occurrence wins, as when cobra parses the flag.
func scanFlag(args []string, name string) (string, bool) {
	value, found := "", false
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			break
		}
		if v, ok := strings.CutPrefix(arg, "--"+name+"="); ok {
			value, found = v, true
		} else if arg == "--"+name && i+1 < len(args) {
			value, found = args[i+1], true
			i++
		}
	}
	return value, found
}

// resolveLang picks the language: --lang, RT_LAB_LANG, the saved choice,
// LC_ALL/LC_MESSAGES/LANG, then Indonesian. An invalid --lang or RT_LAB_LANG is a
// usage error, reported in the language the remaining sources pick.
func (a *App) resolveLang(args []string) (locales.Lang, string, error) {
	var bad error
	if v, ok := scanFlag(args, "lang"); ok {
		if l, ok := locales.ParseLang(v); ok && isExactLang(v) {
			return l, "flag", nil
		}
		bad = usererr.New(usererr.Usage, "ErrLangInvalid", "Value", v, "Source", "--lang")
	}
	if v := a.Env("RT_LAB_LANG"); v != "" && bad == nil {
		if l, ok := locales.ParseLang(v); ok && isExactLang(v) {
			return l, "env", nil
		}
		bad = usererr.New(usererr.Usage, "ErrLangInvalid", "Value", v, "Source", "RT_LAB_LANG")
	}
	root, ok := scanFlag(args, "root")
	if !ok {
		root = a.defaultRoot()
	}
	if l, ok := LoadSettings(root).LangChoice(); ok {
		return l, "saved", bad
	}
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := a.Env(name); v != "" {
			if l, ok := locales.ParseLang(v); ok {
				return l, "locale", bad
			}
			// POSIX: the first of these that is set decides, even when it names a
			// language rt-lab lacks.
			break
		}
	}
	return locales.ID, "default", bad
}

// isExactLang accepts only "id" and "en" as explicit choices, so a typo such as
// "english" gets a clear error rather than a guess.
func isExactLang(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	return v == "id" || v == "en"
}

// flagChanged reports whether the user set a flag on the command line.
func flagChanged(fs *pflag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	return f != nil && f.Changed
}
