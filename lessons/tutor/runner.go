package tutor

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/locales"
)

// pipeGrace is how long a solution command's output pipe may stay open after the
// command exits. A background process that keeps the pipe open (a solution that
// forgot to redirect its output) would otherwise make the lesson wait forever.
const pipeGrace = 5 * time.Second

// Runner runs solution commands and the lesson shell. Both get the lesson
// environment: RT_LAB_ROOT, RT_LAB_LANG (and RT_LAB_BUSYBOX when set), and a PATH
// that starts with a folder whose rt-lab is this binary.
type Runner struct {
	Exe     string // the running rt-lab binary
	Root    string
	Lang    locales.Lang
	Busybox string
	BaseEnv []string // environment to extend, usually os.Environ()

	binDir  string
	tempDir string // created by binFolder when Exe is not named rt-lab
}

// Close removes the temporary folder the runner may have made.
func (r *Runner) Close() error {
	if r.tempDir == "" {
		return nil
	}
	err := os.RemoveAll(r.tempDir)
	r.tempDir, r.binDir = "", ""
	return err
}

// binFolder returns a folder whose "rt-lab" is Exe: the binary's own folder when
// it is named rt-lab, else a temporary folder with a symbolic link.
func (r *Runner) binFolder() (string, error) {
	if r.binDir != "" {
		return r.binDir, nil
	}
	if filepath.Base(r.Exe) == "rt-lab" {
		r.binDir = filepath.Dir(r.Exe)
		return r.binDir, nil
	}
	dir, err := os.MkdirTemp("", "rt-lab-bin-")
	if err != nil {
		return "", fmt.Errorf("create folder for the rt-lab link: %w", err)
	}
	if err := os.Symlink(r.Exe, filepath.Join(dir, "rt-lab")); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("link %q into %q: %w", r.Exe, dir, err)
	}
	r.tempDir, r.binDir = dir, dir
	return dir, nil
}

// Env returns the lesson environment.
func (r *Runner) Env() ([]string, error) {
	bin, err := r.binFolder()
	if err != nil {
		return nil, err
	}
	path := bin
	set := map[string]string{
		"RT_LAB_ROOT": r.Root,
		"RT_LAB_LANG": string(r.Lang),
	}
	if r.Busybox != "" {
		set["RT_LAB_BUSYBOX"] = r.Busybox
	}
	env := make([]string, 0, len(r.BaseEnv)+4)
	for _, kv := range r.BaseEnv {
		name, value, _ := strings.Cut(kv, "=")
		if name == "PATH" {
			path = bin + string(os.PathListSeparator) + value
			continue
		}
		if _, ok := set[name]; ok {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "PATH="+path)
	for _, name := range []string{"RT_LAB_ROOT", "RT_LAB_LANG", "RT_LAB_BUSYBOX"} {
		if v, ok := set[name]; ok {
			env = append(env, name+"="+v)
		}
	}
	return env, nil
}

// Args returns the program and arguments for one solution line. A line starting
// with rt-lab runs Exe with --root, --lang and --busybox (when set) in front, so
// the solution acts on the lesson's root folder in the lesson's language.
func (r *Runner) Args(line string) (string, []string, error) {
	args, err := lessons.SplitCommand(line)
	if err != nil {
		return "", nil, err
	}
	if args[0] != "rt-lab" {
		return args[0], args[1:], nil
	}
	global := []string{"--root=" + r.Root, "--lang=" + string(r.Lang)}
	if r.Busybox != "" {
		global = append(global, "--busybox="+r.Busybox)
	}
	return r.Exe, append(global, args[1:]...), nil
}

// Command returns the command for one solution line, with the lesson
// environment and no standard input, so a solution can never wait for the
// student to type.
func (r *Runner) Command(line string) (*exec.Cmd, error) {
	name, args, err := r.Args(line)
	if err != nil {
		return nil, err
	}
	env, err := r.Env()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Env = env
	cmd.WaitDelay = pipeGrace
	return cmd, nil
}

// RunSolution runs the solution lines in order, each echoed to stdout as
// "$ line" first, and stops at the first that fails.
func (r *Runner) RunSolution(lines []string, stdout, stderr io.Writer) error {
	for _, line := range lines {
		fmt.Fprintf(stdout, "$ %s\n", line)
		cmd, err := r.Command(line)
		if err != nil {
			return err
		}
		cmd.Stdout, cmd.Stderr = stdout, stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("run %q: %w", line, err)
		}
	}
	return nil
}
