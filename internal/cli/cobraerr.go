package cli

import (
	"regexp"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// cobra and pflag report bad command lines in English text only. These patterns
// recognise the common ones so they can be shown in the user's language. They
// are compiled on first use, because only a failing command line needs them and
// compiling them took about 1 % of the CPU time of `rt-lab --version`.
var (
	unknownCommandRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^unknown command "([^"]*)" for "([^"]*)"`)
	})
	unknownFlagRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^unknown (?:shorthand )?flag: (?:'[^']*' in )?(\S+)`)
	})
	flagValueRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^flag needs an argument: (?:'([^']*)' in -\S*|(\S+))`)
	})
)

// flagError turns a pflag parse error into a usage error in the user's language.
// cobra calls it for every command through the root's SetFlagErrorFunc.
func flagError(cmd *cobra.Command, err error) error {
	text := err.Error()
	if m := unknownFlagRE().FindStringSubmatch(text); m != nil {
		return usererr.New(usererr.Usage, "ErrFlagUnknown", "Flag", m[1], "Command", cmd.CommandPath())
	}
	if m := flagValueRE().FindStringSubmatch(text); m != nil {
		flag := m[2]
		if m[1] != "" {
			flag = "-" + m[1]
		}
		return usererr.New(usererr.Usage, "ErrFlagNeedsValue", "Flag", flag, "Command", cmd.CommandPath())
	}
	return usererr.New(usererr.Usage, "ErrFlag", "Detail", text, "Command", cmd.CommandPath())
}

// subcommandArgs is the cobra Args check of a command group, such as network:
// an argument there names a subcommand that does not exist. cobra rejects an
// unknown command only right after the program name, and for a group it
// prints the group's help with exit status 0.
func subcommandArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	// cobra sets this default only when it suggests a command of the root.
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		return usererr.New(usererr.Usage, "ErrUnknownSubcommandSuggest", "Command", args[0],
			"Group", cmd.CommandPath(), "Suggest", strings.Join(s, ", "))
	}
	return usererr.New(usererr.Usage, "ErrUnknownSubcommand", "Command", args[0], "Group", cmd.CommandPath())
}

// commandError turns cobra's "unknown command" error into a usage error in the
// user's language, with cobra's suggestions; other errors come back unchanged.
func commandError(root *cobra.Command, err error) error {
	if err == nil {
		return nil
	}
	m := unknownCommandRE().FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	name, parent := m[1], m[2]
	if parent != root.Name() {
		return usererr.New(usererr.Usage, "ErrExtraArgument", "Arg", name, "Command", parent)
	}
	if s := root.SuggestionsFor(name); len(s) > 0 {
		return usererr.New(usererr.Usage, "ErrUnknownCommandSuggest", "Command", name,
			"Suggest", strings.Join(s, ", "))
	}
	return usererr.New(usererr.Usage, "ErrUnknownCommand", "Command", name)
}
