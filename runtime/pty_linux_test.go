package runtime

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/creack/pty"
)

// ptyOutput runs args in house name with the slave end of a new host
// pseudo-terminal as the user's terminal, and returns what reached it.
func ptyOutput(t *testing.T, r *Runtime, name string, args ...string) (string, int) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 41, Cols: 123}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	var copied sync.WaitGroup
	copied.Add(1)
	go func() {
		defer copied.Done()
		io.Copy(&out, ptmx)
	}()
	code, err := r.Exec(name, Process{Args: args, Stdin: tty, Stdout: tty, Stderr: tty, TTY: true})
	tty.Close()
	copied.Wait()
	if err != nil {
		t.Fatalf("exec %v: %v\n%s", args, err, out.String())
	}
	return strings.ReplaceAll(out.String(), "\r\n", "\n"), code
}

func TestExecGetsHousePTY(t *testing.T) {
	r := newTestRuntime(t)
	for _, house := range []struct {
		name   string
		noUser bool
	}{{"rumah-tty", false}, {"rumah-tty-root", true}} {
		t.Run(house.name, func(t *testing.T) {
			if _, err := r.Create(CreateOptions{Name: house.name, NoUserNS: house.noUser}); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Start(house.name); err != nil {
				t.Fatal(err)
			}
			script := `tty; stty size; ls -ln /dev/pts/0; i=0; while [ $i -lt 3000 ]; do echo line$i; i=$((i+1)); done; exit 7`
			out, code := ptyOutput(t, r, house.name, "sh", "-c", script)
			if code != 7 {
				t.Errorf("exit status %d, want 7\n%s", code, out)
			}
			if !strings.HasPrefix(out, "/dev/pts/0\n") {
				t.Errorf("tty printed %q, want /dev/pts/0 of the house", firstLine(out))
			}
			if !strings.Contains(out, "\n41 123\n") {
				t.Errorf("stty size does not show the user's 41 rows and 123 columns:\n%.200s", out)
			}
			// Root of the house owns its terminal, with the group tty (5).
			owner := strings.Fields(strings.Split(out, "\n")[2])
			if len(owner) < 4 || owner[2] != "0" || owner[3] != "5" {
				t.Errorf("ls -ln /dev/pts/0 printed %q, want uid 0 and gid 5", owner)
			}
			if !strings.Contains(out, "\nline2999\n") {
				t.Errorf("the last output line was lost; output ends with %q", out[max(0, len(out)-60):])
			}
		})
	}
}

func TestExecPTYBackgroundJob(t *testing.T) {
	r := newTestRuntime(t)
	if _, err := r.Create(CreateOptions{Name: "rumah-bg"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start("rumah-bg"); err != nil {
		t.Fatal(err)
	}
	// The sleep keeps the house's terminal open after sh exits, so Exec must
	// return without waiting for it.
	out, code := ptyOutput(t, r, "rumah-bg", "sh", "-c", "sleep 60 & echo started")
	if code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	if !strings.Contains(out, "started") {
		t.Errorf("output %q, want started", out)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
