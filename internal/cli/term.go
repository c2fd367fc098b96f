package cli

import (
	"github.com/spf13/cobra"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"io"
	"os"

	"golang.org/x/term"
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
