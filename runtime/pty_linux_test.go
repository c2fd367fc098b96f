package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
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
	// The command leads the terminal's session, so without SIGHUP ignored the
	// kernel would end the sleep when sh exits.
	if pids, _ := execOutput(t, r, "rumah-bg", "pidof", "sleep"); strings.TrimSpace(pids) == "" {
		t.Error("the background sleep did not outlive sh -c")
	}
}

// TestExecPTYNotForRedirectedOutput runs Exec in a child process whose
// controlling terminal is a new host pseudo-terminal, as from a shell, with
// stdout redirected to a file: the file must get the command's bytes as they
// are, without a pseudo-terminal in between.
func TestExecPTYNotForRedirectedOutput(t *testing.T) {
	if root := os.Getenv("RT_LAB_TEST_REDIRECT_ROOT"); root != "" {
		r, err := New(Options{Root: root})
		if err != nil {
			fmt.Println(err)
			os.Exit(3)
		}
		code, err := r.Exec("rumah-file", Process{Args: []string{"sh", "-c", "printf 'a\\nb\\n'; tty"},
			Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, TTY: true})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		os.Exit(code)
	}

	r := newTestRuntime(t)
	if _, err := r.Create(CreateOptions{Name: "rumah-file"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start("rumah-file"); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()

	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	go io.Copy(io.Discard, ptmx)
	cmd := exec.Command(os.Args[0], "-test.run=^TestExecPTYNotForRedirectedOutput$", "-test.count=1")
	cmd.Env = append(os.Environ(), "RT_LAB_TEST_REDIRECT_ROOT="+r.Root())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, out, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err = cmd.Run()
	tty.Close()

	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Errorf("child: %v, want exit status 1 from tty without a terminal", err)
	}
	data, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	if got := string(data); got != "a\nb\nnot a tty\n" {
		t.Errorf("file holds %q, want the bytes without a pseudo-terminal", got)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
