package runtime

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	goruntime "runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// namespaceFlags are the namespaces every house gets at clone time.
const namespaceFlags = syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS |
	syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET

// Start starts container name's init if it is stopped and returns its state.
// The house keeps running after rt-lab exits.
func (r *Runtime) Start(name string) (*Container, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	l, err := r.lock()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	step(opStart, "locked")
	c, err := r.Get(name)
	if err != nil {
		return nil, err
	}
	if c.Status == StatusRunning {
		return c, nil
	}
	adopted, err := r.adoptInit(c)
	if err != nil || adopted {
		return c, err
	}
	if c.UserNS {
		if err := r.checkRangeOwnership(c); err != nil {
			return nil, err
		}
	}
	if err := r.start(c); err != nil {
		return nil, usererr.Wrap(err, kindOf(err), "ErrStartFailed", "Name", name)
	}
	return c, nil
}

// adoptInit records the init of container c when one runs although c's state
// file names none, or names another process (an edited file). Starting a
// second init on the same upper folder would mount it twice. It reports
// whether it found one. The caller holds the lock.
func (r *Runtime) adoptInit(c *Container) (bool, error) {
	pid, start, found, err := r.findInit(c.Name)
	if err != nil || !found {
		return false, err
	}
	return true, r.recordFound(c, pid, start)
}

// recordFound saves init pid, started at tick start, as c's running init.
func (r *Runtime) recordFound(c *Container, pid int, start uint64) error {
	slog.Debug("adopting running init", "name", c.Name, "pid", pid, "recorded", c.PID)
	c.PID, c.PIDStart, c.Status = pid, start, StatusRunning
	if c.Started.IsZero() {
		c.Started = time.Now().UTC().Truncate(time.Second)
	}
	return r.saveInit(c)
}

// start runs the bootstrap handshake; see bootstrap for the child's side. The
// house's eth0 is connected while the bootstrap waits for the go-ahead, so init
// starts with its network up. The caller holds the lock.
func (r *Runtime) start(c *Container) (retErr error) {
	if _, err := os.Stat(r.BaseDir(c.Base)); err != nil {
		return fmt.Errorf("base %q of the house is missing: %w", c.Base, err)
	}
	if err := r.prepareNetwork(c); err != nil {
		return err
	}
	step(opStart, "network-prepared")
	logFile, err := os.OpenFile(r.logPath(c.Name), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer devNull.Close()

	configR, configW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer configW.Close()
	statusR, statusW, err := os.Pipe()
	if err != nil {
		configR.Close()
		return err
	}
	defer statusR.Close()

	cg, err := r.createCgroup(c)
	if err != nil {
		configR.Close()
		statusW.Close()
		return err
	}
	defer func() {
		if retErr != nil {
			cg.Destroy()
		}
	}()
	step(opStart, "cgroup-created")
	attr := &syscall.SysProcAttr{Cloneflags: namespaceFlags, Setsid: true}
	// The mounted rootfs goes to the bootstrap over a socket (mountForUserNS).
	var mountSock *os.File
	extra := []*os.File{configR, statusW}
	if c.UserNS {
		// One clone makes the user namespace and the others, so it owns them.
		// Go writes the maps before the child executes the bootstrap. setgroups
		// stays allowed: every gid of the house is mapped, so root inside can
		// drop no group that matters on the host.
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings, attr.GidMappings = idMaps(c.IDBase), idMaps(c.IDBase)
		attr.GidMappingsEnableSetgroups = true
		// The child still has host uid 0, which the map leaves out, until it
		// becomes uid 0 of the house: Go calls setgroups, setgid and setuid
		// after the maps are written.
		attr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
		pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			configR.Close()
			statusW.Close()
			return os.NewSyscallError("socketpair", err)
		}
		mountSock = os.NewFile(uintptr(pair[0]), "mount")
		child := os.NewFile(uintptr(pair[1]), "mount")
		defer mountSock.Close()
		defer child.Close()
		extra = append(extra, child)
	}
	if cg.Version() == cgroups.V2 {
		// clone3 with CLONE_INTO_CGROUP: the child exists only inside the group.
		dir, err := cg.OpenDir()
		if err != nil {
			configR.Close()
			statusW.Close()
			return usererr.Wrap(err, usererr.Failed, "ErrCgroupJoin", "Name", c.Name)
		}
		defer dir.Close()
		attr.UseCgroupFD, attr.CgroupFD = true, int(dir.Fd())
	}

	cmd := &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        []string{initArg0},
		Env:         []string{},
		Stdin:       devNull,
		Stdout:      logFile,
		Stderr:      logFile,
		ExtraFiles:  extra,
		SysProcAttr: attr,
	}
	var joinErr error
	if cg.Version() == cgroups.V1 {
		joinErr, err = startInGroup(cg, cmd)
	} else {
		err = cmd.Start()
	}
	configR.Close()
	statusW.Close()
	if joinErr != nil {
		return usererr.Wrap(joinErr, usererr.Failed, "ErrCgroupJoin", "Name", c.Name)
	}
	if err != nil {
		return fmt.Errorf("clone bootstrap: %w", err)
	}
	pid := cmd.Process.Pid
	defer func() {
		if retErr != nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	step(opStart, "bootstrap-cloned")

	cfg := initConfig{
		Rootfs:   r.rootfsDir(c.Name),
		Lower:    r.BaseDir(c.Base),
		Upper:    r.UpperDir(c.Name),
		Work:     r.workDir(c.Name),
		Hostname: c.Hostname,
		UserNS:   c.UserNS,

		PhoneBook: r.phoneBookDir(),
	}
	if c.UserNS {
		fd, err := r.mountForUserNS(c, &cfg, pid, logFile)
		if err != nil {
			return err
		}
		err = sendFD(mountSock, fd)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("pass the rootfs to the bootstrap: %w", err)
		}
	}
	line, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	if _, err := configW.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("send config to bootstrap: %w", err)
	}
	status := bufio.NewReader(statusR)
	if err := readStatus(status, "r"); err != nil {
		return err
	}
	step(opStart, "rootfs-ready")
	// The bootstrap now waits for "g" with its namespaces set up, so the veth
	// pair goes in before busybox init or anything it starts can look for it.
	defer func() {
		if retErr != nil {
			r.disconnect(c.Name, false)
		}
	}()
	if err := r.attach(c.Name, pid); err != nil {
		return err
	}
	step(opStart, "veth-attached")

	st, err := procfs.ReadStat(pid)
	if err != nil {
		return err
	}
	c.PID, c.PIDStart, c.Started = pid, st.StartTime, time.Now().UTC().Truncate(time.Second)
	if err := r.saveInit(c); err != nil {
		return err
	}
	defer func() {
		if retErr != nil {
			c.PID, c.PIDStart, c.Started = 0, 0, time.Time{}
			r.saveInit(c)
		}
	}()
	step(opStart, "state-saved")
	if _, err := configW.Write([]byte("g")); err != nil {
		return fmt.Errorf("release bootstrap: %w", err)
	}
	step(opStart, "released")
	// The status pipe is close-on-exec in the child, so EOF means busybox init runs.
	if err := readStatus(status, ""); err != nil {
		return err
	}
	step(opStart, "running")
	waitForHandler(pid, syscall.SIGTERM)
	c.Status = StatusRunning
	// Reap the init when it exits while this process still runs (a lesson or a
	// test); after rt-lab exits, the host's init adopts it.
	go cmd.Wait()
	slog.Debug("started container", "name", c.Name, "pid", pid)
	return nil
}

// startInGroup starts cmd from a thread that has joined the v1 group cg, so
// the child is in the group from its first instruction, as clone3 with
// CLONE_INTO_CGROUP places it on v2. A thread that joins by itself skips the
// RCU grace period that moving the child by its PID waits for, about 12 ms
// (see cgroups' AddThread). The thread then goes back to its own groups.
// When it cannot, it stays locked, so Go ends it with the goroutine. The
// package's init keeps the main goroutine off such a thread (see exec.go).
func startInGroup(cg cgroups.Manager, cmd *exec.Cmd) (joinErr, startErr error) {
	type result struct{ join, start error }
	done := make(chan result, 1)
	go func() {
		goruntime.LockOSThread()
		tid := unix.Gettid()
		home, err := threadGroup()
		if err != nil {
			done <- result{join: err}
			return
		}
		if err := cg.AddThread(tid); err != nil {
			done <- result{join: err}
			return
		}
		err = cmd.Start()
		if home.AddThread(tid) == nil {
			goruntime.UnlockOSThread()
		}
		done <- result{start: err}
	}()
	r := <-done
	return r.join, r.start
}

// threadGroup returns the cgroup manager of the calling thread's groups.
func threadGroup() (cgroups.Manager, error) {
	data, err := os.ReadFile("/proc/thread-self/cgroup")
	if err != nil {
		return nil, err
	}
	groups, err := cgroups.ParseProcGroup(string(data))
	if err != nil {
		return nil, err
	}
	return cgroups.ForGroups(0, "", groups)
}

// readStatus reads one line from the bootstrap. want "" expects EOF.
func readStatus(status *bufio.Reader, want string) error {
	line, err := status.ReadString('\n')
	line = strings.TrimSuffix(line, "\n")
	if err != nil && line == "" {
		if want == "" {
			return nil
		}
		return fmt.Errorf("bootstrap exited before it was ready (see the house's init.log)")
	}
	if msg, ok := strings.CutPrefix(line, "e"); ok {
		return fmt.Errorf("set up house: %s", msg)
	}
	if line != want {
		return fmt.Errorf("bootstrap sent %q, expected %q", line, want)
	}
	return nil
}

// handlerWait bounds how long start waits for busybox init to block SIGTERM or
// install a handler for it; it takes about a millisecond.
const handlerWait = 2 * time.Second

// waitForHandler waits until init handles sig. Until then the kernel drops a
// SIGTERM sent from the host to the namespace's init, and a stop right after start
// would wait out its whole grace period.
func waitForHandler(pid int, sig syscall.Signal) {
	deadline := time.Now().Add(handlerWait)
	for time.Now().Before(deadline) {
		caught, err := procfs.SignalHandled(pid, sig)
		if err != nil || caught {
			return
		}
		time.Sleep(time.Millisecond)
	}
	slog.Debug("init installed no handler in time", "pid", pid, "signal", sig)
}
