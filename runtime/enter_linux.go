package runtime

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	goruntime "runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/procfs"
)

// Entering a house with a user namespace.
//
// setns(2) into a user namespace fails with EINVAL in a multithreaded process,
// and every Go program is multithreaded before main runs, so rt-lab cannot join
// a house's user namespace itself. Instead it starts the host's static busybox
// as nsenter, a single-threaded C program, which joins the house's user, IPC,
// UTS, network, PID and mount namespaces in that order (namespace files that
// rt-lab opened and checked, passed as /proc/self/fd/N), becomes uid and gid 0
// of the house, and forks, so that its child is in the house's PID namespace.
// The child executes rt-lab again, as the enter helper: the rt-lab binary opened
// on the host and passed as a file descriptor, so root of the house cannot
// swap it for another program by changing a path in the house. The helper
// starts inside every namespace of the house, so all its threads are there too.
// It reduces its capabilities to the house's set exactly as the bootstrap does
// (confineThread: joining a user namespace grants every capability in it), looks
// the command up in the house, reports on the status pipe, and executes the
// command, which keeps the helper's PID. So the command ends up a child of
// nsenter, in the house's cgroup (nsenter was started there, see Exec) and with
// the capabilities and no_new_privs of the house's PID 1.
//
// On a terminal the helper puts the command in a process group of its own in
// the terminal's foreground: Ctrl-C then reaches the command but not nsenter,
// which busybox would let die of it.

// enterArg is argv[1] of the enter helper; argv[0] is the /proc/self/fd path
// nsenter executes.
const enterArg = "rt-lab:enter"

// File descriptors of nsenter and the enter helper (ExtraFiles start at 3): the
// namespace files in enterOrder, the rt-lab binary, the config pipe and the
// status pipe.
const (
	enterExeFD    = 3 + 6
	enterConfigFD = enterExeFD + 1
	enterStatusFD = enterExeFD + 2
)

// enterOrder lists the namespaces nsenter joins, user first, as busybox does,
// with their nsenter options.
var enterOrder = []struct{ name, option string }{
	{"user", "-U"}, {"ipc", "-i"}, {"uts", "-u"}, {"net", "-n"}, {"pid", "-p"}, {"mnt", "-m"},
}

// enterConfig is what rt-lab sends the enter helper.
type enterConfig struct {
	Args []string `json:"args"`
	Env  []string `json:"env"`
	Dir  string   `json:"dir"`
	TTY  bool     `json:"tty"`
	// NewSession: stdin is a pseudo-terminal made for the command, to become
	// the controlling terminal of a new session.
	NewSession bool `json:"new_session"`
	// IgnoreHangup: the command starts with SIGHUP ignored (see useHousePTY).
	IgnoreHangup bool `json:"ignore_hangup"`
}

func isEnterHelper() bool {
	return len(os.Args) >= 2 && os.Args[1] == enterArg && strings.HasPrefix(os.Args[0], "/proc/self/fd/")
}

// enterHelper runs the command and never returns.
func enterHelper() {
	// The thread stays locked until exec: confineThread changes only this
	// thread's capabilities.
	goruntime.LockOSThread()
	status := os.NewFile(enterStatusFD, "status")
	code, line := enter(status)
	fmt.Fprintf(status, "%s\n", line)
	os.Exit(code)
}

// enter executes the command and returns only when it cannot: the exit status
// and the status line that says why.
func enter(status *os.File) (int, string) {
	data, err := io.ReadAll(os.NewFile(enterConfigFD, "config"))
	if err != nil {
		return ExitNotExecutable, "eread config: " + err.Error()
	}
	var cfg enterConfig
	if err := json.Unmarshal(data, &cfg); err != nil || len(cfg.Args) == 0 {
		return ExitNotExecutable, fmt.Sprintf("edecode config: %v", err)
	}
	if cfg.NewSession {
		if _, err := unix.Setsid(); err != nil {
			return ExitNotExecutable, "esetsid: " + err.Error()
		}
		if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
			return ExitNotExecutable, "eset controlling terminal: " + err.Error()
		}
	}
	if cfg.TTY {
		// A background process group gets SIGTTOU from tcsetpgrp(3), so it is
		// ignored meanwhile; exec resets the handler Go has again afterwards.
		if err := unix.Setpgid(0, 0); err != nil {
			return ExitNotExecutable, "esetpgid: " + err.Error()
		}
		signal.Ignore(syscall.SIGTTOU)
		err := unix.IoctlSetPointerInt(0, unix.TIOCSPGRP, unix.Getpid())
		signal.Reset(syscall.SIGTTOU)
		if err != nil {
			return ExitNotExecutable, "etcsetpgrp: " + err.Error()
		}
	}
	if err := confineThread(); err != nil {
		return ExitNotExecutable, "e" + err.Error()
	}
	path, err := lookPath(cfg.Args[0])
	if err != nil {
		if ee, ok := err.(*exec.Error); ok && ee.Err == exec.ErrNotFound {
			return ExitNotFound, "n" + err.Error()
		}
		return ExitNotExecutable, "x" + err.Error()
	}
	if err := unix.Chdir(cfg.Dir); err != nil {
		return ExitNotExecutable, "echdir " + cfg.Dir + ": " + err.Error()
	}
	if _, err := status.Write([]byte("s\n")); err != nil {
		return ExitNotExecutable, "e" + err.Error()
	}
	// Only stdin, stdout and stderr reach the command: the namespace files,
	// the rt-lab binary and the pipes close on exec.
	if err := unix.CloseRange(3, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return ExitNotExecutable, "eclose_range: " + err.Error()
	}
	if cfg.IgnoreHangup {
		signal.Ignore(syscall.SIGHUP)
	}
	err = unix.Exec(path, cfg.Args, cfg.Env)
	fmt.Fprintf(os.Stderr, "rt-lab: exec %s: %v\n", path, err)
	os.Exit(ExitNotExecutable)
	return 0, ""
}

// userNSFiles opens the namespace files of pid in enterOrder, then checks that
// pid is still the same process.
func userNSFiles(pid int, start uint64) ([]*os.File, error) {
	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	for _, ns := range enterOrder {
		f, err := os.Open(fmt.Sprintf("/proc/%d/ns/%s", pid, ns.name))
		if err != nil {
			closeAll()
			return nil, err
		}
		files = append(files, f)
	}
	if !procfs.Alive(pid, start) {
		closeAll()
		return nil, errNotRunning
	}
	return files, nil
}

// helperRun is a command started through nsenter and the enter helper.
type helperRun struct {
	cmd    *exec.Cmd
	status *os.File
}

// startHelper starts busybox nsenter with the house's namespace files nsFiles
// and the enter helper; see the comment at the top of this file. It runs on
// the locked thread that joined the house's v1 cgroup; a cgroupFD other than -1
// is the v2 group to clone nsenter into.
func startHelper(busybox string, nsFiles []*os.File, cgroupFD int, cfg enterConfig, p Process) (*helperRun, error) {
	exePath, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the rt-lab binary: %w", err)
	}
	exe, err := os.Open(exePath)
	if err != nil {
		return nil, err
	}
	defer exe.Close()
	configR, configW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer configW.Close()
	statusR, statusW, err := os.Pipe()
	if err != nil {
		configR.Close()
		return nil, err
	}
	defer statusW.Close()

	args := []string{"nsenter"}
	for i, ns := range enterOrder {
		args = append(args, ns.option+"/proc/self/fd/"+strconv.Itoa(3+i))
	}
	args = append(args, "--", "/proc/self/fd/"+strconv.Itoa(enterExeFD), enterArg)
	extra := append(append([]*os.File{}, nsFiles...), exe, configR, statusW)
	cmd := &exec.Cmd{Path: busybox, Args: args, Env: cfg.Env, Dir: "/",
		Stdin: p.Stdin, Stdout: p.Stdout, Stderr: p.Stderr, ExtraFiles: extra}
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if p.TTY {
		// nsenter's group gets the terminal first; the helper then moves the
		// command to a group of its own in the foreground.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Foreground: true, Ctty: 0}
	}
	if cgroupFD != -1 {
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, cgroupFD
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		configR.Close()
		statusR.Close()
		return nil, err
	}
	err = cmd.Start()
	// With rt-lab's read end closed, a write fails with EPIPE once nsenter and
	// the helper are gone, instead of blocking on a config larger than the
	// pipe's buffer.
	configR.Close()
	if err != nil {
		statusR.Close()
		return nil, err
	}
	if _, err := configW.Write(data); err != nil {
		statusR.Close()
		cmd.Process.Kill()
		cmd.Wait()
		return nil, err
	}
	return &helperRun{cmd: cmd, status: statusR}, nil
}

// result waits for the helper's report. started is true once the command runs;
// otherwise line says why not ("" when nsenter failed before the helper ran).
func (h *helperRun) result() (started bool, line string) {
	defer h.status.Close()
	text, _ := bufio.NewReader(h.status).ReadString('\n')
	text = strings.TrimSuffix(text, "\n")
	return text == "s", text
}

// commandProcess returns the command, nsenter's only child, or nsenter itself
// when the command has already exited.
func (h *helperRun) commandProcess() *os.Process {
	pid := h.cmd.Process.Pid
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err == nil {
		if fields := strings.Fields(string(data)); len(fields) > 0 {
			if child, err := strconv.Atoi(fields[0]); err == nil {
				if proc, err := os.FindProcess(child); err == nil {
					return proc
				}
			}
		}
	}
	return h.cmd.Process
}
