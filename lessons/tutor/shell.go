package tutor

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"

	shellquote "github.com/kballard/go-shellquote"
	"golang.org/x/sys/unix"
)

// pickShell returns the student's login shell ($SHELL) when it is executable,
// else /bin/bash, else /bin/sh.
func pickShell(env []string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "SHELL="); ok && v != "" {
			if isExecutable(v) {
				return v
			}
		}
	}
	if isExecutable("/bin/bash") {
		return "/bin/bash"
	}
	return "/bin/sh"
}

func isExecutable(path string) bool {
	return filepath.IsAbs(path) && unix.Access(path, unix.X_OK) == nil
}

// shellCommand returns an interactive host shell with the lesson environment
// whose prompt starts with marker. bash gets an rc file that reads the student's
// ~/.bashrc and then puts the marker in front of PS1; other shells get PS1 from
// the environment, which sh honours and shells with their own rc files may
// replace. The returned cleanup removes the rc file.
func (r *Runner) shellCommand(marker string, in, out *os.File) (*exec.Cmd, func(), error) {
	env, err := r.Env()
	if err != nil {
		return nil, nil, err
	}
	shell := pickShell(r.BaseEnv)
	cleanup := func() {}
	var args []string
	if filepath.Base(shell) == "bash" {
		dir, err := os.MkdirTemp("", "rt-lab-shell-")
		if err != nil {
			return nil, nil, fmt.Errorf("create folder for the shell rc file: %w", err)
		}
		cleanup = func() { os.RemoveAll(dir) }
		rc := "[ -f ~/.bashrc ] && . ~/.bashrc\n" +
			"PS1=" + shellquote.Join(`\[\e[1;36m\]`+marker+`\[\e[0m\] `) + `"$PS1"` + "\n"
		path := filepath.Join(dir, "bashrc")
		if err := os.WriteFile(path, []byte(rc), 0o644); err != nil {
			cleanup()
			return nil, nil, fmt.Errorf("write shell rc file: %w", err)
		}
		args = []string{"--rcfile", path, "-i"}
	} else {
		env = append(env, "PS1="+marker+" $ ")
		args = []string{"-i"}
	}
	cmd := exec.Command(shell, args...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, out
	return cmd, cleanup, nil
}

// RunShell runs the lesson shell on the terminal (in, out) until the student
// leaves it. The shell's exit status does not matter: the last command typed may
// fail.
func (r *Runner) RunShell(marker string, in, out *os.File) error {
	cmd, cleanup, err := r.shellCommand(marker, in, out)
	if err != nil {
		return err
	}
	defer cleanup()

	// Ctrl-C and Ctrl-\ typed at the shell reach every process in the terminal's
	// foreground process group, rt-lab included, until the shell moves to its own
	// group. Catching them (rather than ignoring them) keeps rt-lab alive and
	// still lets the shell's children get the default action after exec.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGINT, unix.SIGQUIT)
	defer signal.Stop(sigs)

	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start shell %q: %w", cmd.Path, err)
	}
	_ = cmd.Wait()
	return nil
}
