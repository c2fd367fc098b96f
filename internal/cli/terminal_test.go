package cli

import (
	"bytes"
	"os"
	"testing"

	"github.com/creack/pty"
)

// testTerminal is a pseudo-terminal for an App's stdin and stdout whose output
// a goroutine reads as it arrives.
type testTerminal struct {
	tty    *os.File // the terminal side, which the App reads and writes
	chunks chan []byte
	seen   bytes.Buffer // all output read so far
}

// openTestTerminal opens a pseudo-terminal of rows x cols that is closed when
// the test ends.
func openTestTerminal(t *testing.T, rows, cols uint16) *testTerminal {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: rows, Cols: cols}); err != nil {
		t.Fatal(err)
	}
	term := &testTerminal{tty: tty, chunks: make(chan []byte)}
	go func() {
		defer close(term.chunks)
		for {
			buf := make([]byte, 4096)
			n, err := ptmx.Read(buf)
			if n > 0 {
				term.chunks <- buf[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	return term
}

// waitFor reads the terminal until ok accepts all that was written so far.
// It has no time limit: the test's -timeout ends a hung run.
func (term *testTerminal) waitFor(t *testing.T, what string, ok func(raw string) bool) {
	t.Helper()
	for !ok(term.seen.String()) {
		chunk, open := <-term.chunks
		if !open {
			t.Fatalf("terminal closed before %s:\n%q", what, term.seen.String())
		}
		term.seen.Write(chunk)
	}
}
