package tutor

import (
	"bytes"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Keys as a terminal sends them.
const (
	keyDown  = "\x1b[B"
	keyEnter = "\r"
	keyCtrlC = "\x03"
)

// console reads everything written to a pseudo-terminal and lets a test wait for
// text and type keys, as a student at that terminal would.
type console struct {
	t    *testing.T
	ptmx *os.File

	mu   sync.Mutex
	cond *sync.Cond
	buf  []byte
	pos  int  // end of the last match
	done bool // the terminal was closed
}

// hangGuard is how long expect waits for text before it gives up.
const hangGuard = 5 * time.Minute

func newConsole(t *testing.T, ptmx *os.File) *console {
	c := &console{t: t, ptmx: ptmx}
	c.cond = sync.NewCond(&c.mu)
	go c.read()
	return c
}

func (c *console) read() {
	chunk := make([]byte, 4096)
	for {
		n, err := c.ptmx.Read(chunk)
		if n > 0 {
			// survey asks for the cursor position (DSR) before reading a line;
			// answer as a 40x120 terminal would.
			if bytes.Contains(chunk[:n], []byte("\x1b[6n")) {
				c.ptmx.Write([]byte("\x1b[40;1R"))
			}
			c.mu.Lock()
			c.buf = append(c.buf, chunk[:n]...)
			c.cond.Broadcast()
			c.mu.Unlock()
		}
		if err != nil {
			c.mu.Lock()
			c.done = true
			c.cond.Broadcast()
			c.mu.Unlock()
			return
		}
	}
}

// expect waits until text appears after the previous match and returns the
// output up to and including it.
func (c *console) expect(text string) string {
	c.t.Helper()
	// A hang guard, not a speed limit: a prompt that never comes fails the test
	// with the screen so far instead of stalling until go test's own timeout.
	stuck := false
	timer := time.AfterFunc(hangGuard, func() {
		c.mu.Lock()
		stuck = true
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer timer.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if i := bytes.Index(c.buf[c.pos:], []byte(text)); i >= 0 {
			out := string(c.buf[c.pos : c.pos+i+len(text)])
			c.pos += i + len(text)
			return out
		}
		if c.done {
			c.t.Fatalf("terminal closed before %q appeared; output since the last match:\n%s", text, c.buf[c.pos:])
		}
		if stuck {
			c.t.Fatalf("%q did not appear within %s; output since the last match:\n%s", text, hangGuard, c.buf[c.pos:])
		}
		c.cond.Wait()
	}
}

// output returns everything read so far.
func (c *console) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.buf)
}

// waitRaw waits until the program switched the terminal to raw mode, as survey
// does after drawing a menu. Keys typed before that would be taken as a cooked
// line, and Ctrl-C would become SIGINT.
func (c *console) waitRaw() {
	c.t.Helper()
	for {
		tio, err := unix.IoctlGetTermios(int(c.ptmx.Fd()), unix.TCGETS)
		if err != nil {
			c.t.Fatalf("read terminal mode: %v", err)
		}
		if tio.Lflag&unix.ICANON == 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// choose waits for a menu to be ready and picks the entry down steps below the
// first.
func (c *console) choose(lastEntry string, down int) {
	c.t.Helper()
	c.expect(lastEntry)
	c.waitRaw()
	keys := ""
	for range down {
		keys += keyDown
	}
	c.send(keys + keyEnter)
}

func (c *console) send(keys string) {
	c.t.Helper()
	if _, err := c.ptmx.Write([]byte(keys)); err != nil {
		c.t.Fatalf("type %q: %v", keys, err)
	}
}
