package cli

import (
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// isTerminal reports whether stream is an *os.File on a terminal.
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// stdinIsTerminal reports whether the app reads from a terminal.
func (a *App) stdinIsTerminal() bool { return isTerminal(a.Stdin) }

// info prints a status line to stderr.
func (a *App) info(w io.Writer, id string, kv ...any) {
	io.WriteString(w, a.P.Tf(id, kv...)+"\n")
}

// exactlyOneName is a cobra Args check that names the missing house in the
// user's language.
func (a *App) exactlyOneName(cmd *cobra.Command, args []string) error {
	if len(args) == 1 {
		return nil
	}
	return usererr.New(usererr.Usage, "ErrArgsOneName", "Command", cmd.CommandPath(), "Count", len(args))
}

// renderErr returns err in the user's language.
func (a *App) renderErr(err error) string { return usererr.Render(err, a.P) }

// quoteArgs shows command-line arguments in a message: each one quoted, so an
// empty one is visible, or a word for none at all.
func (a *App) quoteArgs(args []string) string {
	if len(args) == 0 {
		return a.P.T("ArgsNone", nil)
	}
	quoted := make([]string, len(args))
	for i, arg := range args {
		quoted[i] = strconv.Quote(arg)
	}
	return strings.Join(quoted, " ")
}
