package runtime

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// Process is a command to run inside a running container.
type Process struct {
	Args   []string // empty: an interactive shell
	Env    []string // added to the container's default environment
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	TTY    bool // Stdin is the user's terminal: give the process the foreground

	// newSession is set when Stdin and Stdout are the slave end of a
	// pseudo-terminal made for the command. The slave then becomes the
	// controlling terminal of a new session.
	newSession bool
	// ignoreHangup starts the command with SIGHUP ignored; see useHousePTY.
	ignoreHangup bool
}

// Exit statuses of Exec for a command that could not run, as in POSIX shells.
const (
	ExitNotExecutable = 126
	ExitNotFound      = 127
)

// init keeps the main goroutine on the main thread for the life of the process.
// Exec's goroutine joins a house's namespaces on a locked thread and exits
// without unlocking it, so Go ends that thread. Go cannot end the main thread,
// though: it parks it, still inside the house, and /proc/self then describes the
// house instead of the host. Locking the main goroutine keeps Exec off that thread.
func init() {
	goruntime.LockOSThread()
}

// joinOrder lists the namespaces Exec joins; mnt comes last because after it
// paths resolve inside the house.
var joinOrder = []struct {
	name string
	flag int
}{
	{"ipc", unix.CLONE_NEWIPC}, {"uts", unix.CLONE_NEWUTS}, {"net", unix.CLONE_NEWNET},
	{"pid", unix.CLONE_NEWPID}, {"mnt", unix.CLONE_NEWNS},
}

// Exec runs p inside running container name and returns its exit status (128+N
// when a signal N killed it).
func (r *Runtime) Exec(name string, p Process) (int, error) {
	c, err := r.Get(name)
	if err != nil {
		return 0, err
	}
	if c.Status != StatusRunning {
		return 0, usererr.New(usererr.Failed, "ErrNotRunning", "Name", name)
	}
	cg, err := r.Cgroup(name)
	if err != nil {
		return 0, err
	}
	if !cg.Exists() {
		return 0, usererr.New(usererr.Failed, "ErrCgroupMissing", "Name", name, "Path", cg.Path(cgroups.Memory))
	}
	var fds []int
	var nsFiles []*os.File
	busybox := ""
	if c.UserNS {
		// See enter_linux.go: a Go program cannot join a user namespace.
		if busybox, err = FindBusybox(r.busybox); err != nil {
			return 0, err
		}
		nsFiles, err = userNSFiles(c.PID, c.PIDStart)
		defer func() {
			for _, f := range nsFiles {
				f.Close()
			}
		}()
	} else {
		fds, err = openNamespaces(c.PID, c.PIDStart)
		defer func() {
			for _, fd := range fds {
				unix.Close(fd)
			}
		}()
	}
	if err != nil {
		return 0, usererr.Wrap(err, usererr.Failed, "ErrNotRunning", "Name", name)
	}
	// On v2 the process is cloned straight into the group (clone3
	// CLONE_INTO_CGROUP). The folder is opened here, while paths still resolve
	// on the host.
	cgroupFD := -1
	if cg.Version() == cgroups.V2 {
		dir, err := cg.OpenDir()
		if err != nil {
			return 0, usererr.Wrap(err, usererr.Failed, "ErrCgroupJoin", "Name", name)
		}
		defer dir.Close()
		cgroupFD = int(dir.Fd())
	}

	if p.TTY {
		rl := r.useHousePTY(c, &p)
		if rl != nil {
			defer rl.stop()
		}
	}

	args := p.Args
	if len(args) == 0 {
		args = []string{"/bin/sh"}
	}
	env := append([]string{
		"PATH=" + containerPath,
		"HOME=/root",
		"HOSTNAME=" + c.Hostname,
		"PS1=[" + c.Name + "] \\u@\\h:\\w\\$ ",
		"container=rt-lab",
	}, p.Env...)
	if term := os.Getenv("TERM"); term != "" {
		env = append(env, "TERM="+term)
	}

	type started struct {
		cmd    *exec.Cmd
		helper *helperRun
		err    error
	}
	done := make(chan started, 1)
	go func() {
		// setns(2) changes only the calling thread, so the thread stays locked and
		// is never unlocked: Go ends it with this goroutine instead of reusing a
		// thread that lives in the house's namespaces. The child is forked from this
		// thread and inherits them; setns into a PID namespace applies to children.
		goruntime.LockOSThread()
		// On v1 this thread alone joins the house's cgroup, before setns into the
		// mount namespace hides the host's /sys/fs/cgroup. A forked child starts in
		// its parent thread's groups, so the command runs limited from its first
		// instruction, and the thread leaves the group when Go ends it. New Go
		// threads are not cloned from a locked thread (Go uses its template
		// thread), so none of rt-lab's other threads end up in the group.
		if cg.Version() == cgroups.V1 {
			if err := cg.AddThread(unix.Gettid()); err != nil {
				done <- started{err: usererr.Wrap(err, usererr.Failed, "ErrCgroupJoin", "Name", name)}
				return
			}
		}
		if c.UserNS {
			h, err := startHelper(busybox, nsFiles, cgroupFD,
				enterConfig{Args: args, Env: env, Dir: "/root", TTY: p.TTY, NewSession: p.newSession, IgnoreHangup: p.ignoreHangup}, p)
			done <- started{helper: h, err: err}
			return
		}
		cmd, err := startInNamespaces(fds, cgroupFD, args, env, p)
		done <- started{cmd: cmd, err: err}
	}()
	s := <-done
	if s.err != nil {
		return execErrorStatus(s.err, name, args[0])
	}
	if s.helper != nil {
		return waitHelper(s.helper, name, args[0], p.TTY)
	}
	return waitForeground(s.cmd, s.cmd.Process, p.TTY)
}

// waitHelper waits for a command started by startHelper.
func waitHelper(h *helperRun, name, command string, tty bool) (int, error) {
	ok, line := h.result()
	if ok {
		return waitForeground(h.cmd, h.commandProcess(), tty)
	}
	code, _ := waitForeground(h.cmd, h.cmd.Process, tty)
	switch {
	case strings.HasPrefix(line, "n"):
		return ExitNotFound, usererr.New(usererr.Failed, "ErrCommandNotFound", "Name", name, "Command", command)
	case strings.HasPrefix(line, "x"):
		return ExitNotExecutable, usererr.New(usererr.Failed, "ErrCommandNotExecutable", "Name", name, "Command", command)
	case line == "":
		line = fmt.Sprintf("nsenter exited with status %d before the command ran", code)
	default:
		line = strings.TrimPrefix(line, "e")
	}
	return 0, usererr.Wrap(errors.New(line), usererr.Failed, "ErrExecFailed", "Name", name, "Command", command)
}

// openNamespaces opens the namespace files of pid, then checks that pid is still
// the same process, so the files cannot belong to a process that reused the PID.
func openNamespaces(pid int, start uint64) ([]int, error) {
	var fds []int
	for _, ns := range joinOrder {
		path := fmt.Sprintf("/proc/%d/ns/%s", pid, ns.name)
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			for _, f := range fds {
				unix.Close(f)
			}
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		fds = append(fds, fd)
	}
	if !procfs.Alive(pid, start) {
		for _, f := range fds {
			unix.Close(f)
		}
		return nil, errNotRunning
	}
	return fds, nil
}

// startInNamespaces joins the namespaces in fds and starts the command. A
// cgroupFD other than -1 is a v2 group folder to clone the process into.
func startInNamespaces(fds []int, cgroupFD int, args, env []string, p Process) (*exec.Cmd, error) {
	// A mount namespace can only be joined by a thread that shares no file system
	// information (root, cwd) with other threads; see setns(2).
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return nil, os.NewSyscallError("unshare CLONE_FS", err)
	}
	for i, ns := range joinOrder {
		if err := unix.Setns(fds[i], ns.flag); err != nil {
			return nil, os.NewSyscallError("setns "+ns.name, err)
		}
	}
	// The command gets the same capabilities and no_new_privs as the house's
	// PID 1. Both are per thread and inherited by fork, so they are reduced on
	// this locked thread, after setns (which needs CAP_SYS_ADMIN) and before
	// cmd.Start forks the child from it. Setting SysProcAttr.AmbientCaps would
	// not do: root's execve(2) grants the whole bounding set anyway. Go ends the
	// thread with the goroutine, so no other goroutine runs with the reduced set.
	if err := confineThread(); err != nil {
		return nil, err
	}
	path, err := lookPath(args[0])
	if err != nil {
		return nil, err
	}
	cmd := &exec.Cmd{Path: path, Args: args, Env: env, Dir: "/root",
		Stdin: p.Stdin, Stdout: p.Stdout, Stderr: p.Stderr}
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	switch {
	case p.newSession:
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	case p.TTY:
		// The process gets its own process group in the terminal's foreground, so
		// job control and Ctrl-C work in the house's shell.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Foreground: true, Ctty: 0}
	}
	if cgroupFD != -1 {
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, cgroupFD
	}
	if p.ignoreHangup {
		// A signal ignored in rt-lab stays ignored across fork and exec. The
		// handler comes back in waitForeground, which calls signal.Notify for SIGHUP.
		signal.Ignore(syscall.SIGHUP)
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmd, nil
}

// lookPath finds a command in the house's PATH. It runs on the thread that joined
// the house's mount namespace, so paths resolve inside the house.
func lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		return name, checkExecutable(name)
	}
	for _, dir := range filepath.SplitList(containerPath) {
		path := filepath.Join(dir, name)
		if err := checkExecutable(path); err == nil {
			return path, nil
		}
	}
	return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
}

func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return &exec.Error{Name: path, Err: exec.ErrNotFound}
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return &exec.Error{Name: path, Err: os.ErrPermission}
	}
	return nil
}

func execErrorStatus(err error, name, command string) (int, error) {
	var ee *exec.Error
	if errors.As(err, &ee) {
		if errors.Is(ee.Err, exec.ErrNotFound) {
			return ExitNotFound, usererr.New(usererr.Failed, "ErrCommandNotFound", "Name", name, "Command", command)
		}
		return ExitNotExecutable, usererr.New(usererr.Failed, "ErrCommandNotExecutable", "Name", name, "Command", command)
	}
	return 0, usererr.Wrap(err, usererr.Failed, "ErrExecFailed", "Name", name, "Command", command)
}

// waitForeground waits for cmd while passing on SIGINT, SIGTERM and SIGHUP, then
// takes the terminal's foreground back when the process had it.
// Signals go to target, which is the command's process.
func waitForeground(cmd *exec.Cmd, target *os.Process, tty bool) (int, error) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				// On a terminal, Ctrl-C already reached the foreground process.
				if !tty || s != syscall.SIGINT {
					target.Signal(s)
				}
			case <-stop:
				return
			}
		}
	}()
	err := cmd.Wait()
	signal.Stop(sigs)
	close(stop)
	if tty {
		reclaimTerminal()
	}
	if err == nil {
		return 0, nil
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return exitErr.ExitCode(), nil
	}
	return 0, err
}

// reclaimTerminal puts rt-lab's process group back in the terminal's foreground.
// A background process gets SIGTTOU from tcsetpgrp(3), so it is ignored meanwhile.
func reclaimTerminal() {
	signal.Ignore(syscall.SIGTTOU)
	defer signal.Reset(syscall.SIGTTOU)
	unix.IoctlSetPointerInt(int(os.Stdin.Fd()), unix.TIOCSPGRP, unix.Getpgrp())
}

// useHousePTY gives p a new pseudo-terminal of house c in place of the user's
// terminal and starts copying between the two; see pty_linux.go. When the
// house has no usable /dev/pts/ptmx, p keeps the user's terminal, and the
// returned relay is nil.
func (r *Runtime) useHousePTY(c *Container, p *Process) *relay {
	// Output redirected to a file or a pipe must stay byte for byte, without
	// the carriage returns and echo of a terminal, so both ends need one.
	in, ok := p.Stdin.(*os.File)
	out, outOK := p.Stdout.(*os.File)
	if !ok || !outOK || !term.IsTerminal(int(out.Fd())) {
		return nil
	}

	var owner uint32
	if c.UserNS {
		owner = c.IDBase
	}
	pty, err := openHousePTY(c.PID, c.PIDStart, owner)
	if err != nil {
		slog.Debug("no pseudo-terminal in the house, sharing the user's terminal", "name", c.Name, "err", err)
		return nil
	}
	rl, err := startRelay(pty, in, p.Stdout)
	if err != nil {
		slog.Debug("cannot relay the user's terminal, sharing it", "name", c.Name, "err", err)
		pty.master.Close()
		pty.slave.Close()
		return nil
	}

	p.Stdin, p.Stdout = pty.slave, pty.slave
	if errOut, ok := p.Stderr.(*os.File); ok && term.IsTerminal(int(errOut.Fd())) {
		p.Stderr = pty.slave
	}
	p.TTY, p.newSession = false, true
	// A one-shot command leads the terminal's new session, so when it exits the
	// kernel sends SIGHUP to its process group, which would end what it started
	// in the background (sh -c 'server &'). Such a command starts with SIGHUP
	// ignored, as under nohup. An interactive shell keeps SIGHUP, and puts
	// background jobs in process groups of their own.
	p.ignoreHangup = len(p.Args) > 0
	return rl
}

// GetSettled returns container name after any rt-lab command that is changing
// it has finished, because it waits for the root's lock first. A shell in the
// house ends before a stop from another terminal has seen the house's init
// exit, so Get alone would still report the house running.
func (r *Runtime) GetSettled(name string) (*Container, error) {
	l, err := r.lock()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	return r.Get(name)
}
