package runtime

import (
	"errors"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// DefaultStopTimeout is the grace period between SIGTERM and SIGKILL.
const DefaultStopTimeout = 10 * time.Second

// killWait bounds the wait after SIGKILL, which the kernel delivers at once.
const killWait = 5 * time.Second

// stopPoll is how often stop looks at init while it waits for it to exit.
const stopPoll = 10 * time.Millisecond

// Stop sends SIGTERM to the container's init and SIGKILL after timeout. busybox
// init handles SIGTERM by sending SIGTERM and then SIGKILL to the whole family,
// then exits, and its PID namespace ends. Stopping a stopped container does nothing.
func (r *Runtime) Stop(name string, timeout time.Duration) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	l, err := r.lock()
	if err != nil {
		return err
	}
	defer l.Unlock()
	step(opStop, "locked")
	c, err := r.Get(name)
	if err != nil {
		return err
	}
	return r.stop(c, timeout)
}

// stop ends c's init if it runs, removes its cgroup and veth pair and clears
// the recorded PID. The caller holds the lock. When init exits, the kernel
// kills every other process in its PID namespace, so the group is then empty.
// The group and the veth pair are also removed when c was already stopped, in
// case a crash left them behind.
//
// The recorded PID is signalled only when the kernel confirms that it is c's
// init (see verifyInit). Otherwise stop looks for c's init by its overlay and
// ends that one, so an edited state file never makes stop kill another process.
func (r *Runtime) stop(c *Container, timeout time.Duration) error {
	pid, start := c.PID, c.PIDStart
	running := c.Status == StatusRunning
	if !running {
		var err error
		if pid, start, running, err = findInit(r.UpperDir(c.Name)); err != nil {
			return err
		}
	}
	if running {
		if err := terminate(pid, start, timeout); err != nil {
			return usererr.Wrap(err, usererr.Failed, "ErrStopFailed", "Name", c.Name)
		}
	}
	step(opStop, "terminated")
	if err := r.removeCgroup(c.Name); err != nil {
		return err
	}
	step(opStop, "cgroup-removed")
	if err := r.disconnect(c.Name, false); err != nil {
		return err
	}
	step(opStop, "veth-removed")
	c.Status = StatusStopped
	if c.PID == 0 {
		return nil
	}
	c.PID, c.PIDStart, c.Started = 0, 0, time.Time{}
	if err := r.save(c); err != nil {
		return err
	}
	step(opStop, "state-saved")
	return nil
}

// terminate signals pid through a pidfd, so a PID reused after the process died is
// never signalled.
//
// busybox init takes SIGTERM by running its shutdown actions, sending SIGTERM
// to every other process of its pid namespace, then sleeping a second,
// sending SIGKILL, and sleeping twice more before it exits (see
// run_shutdown_and_kill_processes and pause_and_low_level_reboot in busybox's
// init/init.c). Init sleeps only after its shutdown actions and its SIGTERM to
// the family. So once init has taken the signal and sleeps, and no other live
// process is left in its namespace, terminate sends SIGKILL at once. A family
// that does not exit still gets the whole grace period.
func terminate(pid int, start uint64, timeout time.Duration) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return os.NewSyscallError("pidfd_open", err)
	}
	defer unix.Close(fd)
	if !procfs.Alive(pid, start) {
		return nil
	}
	ns, err := procfs.NSInode(pid, "pid")
	if err != nil {
		return err
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGTERM, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return os.NewSyscallError("pidfd_send_signal SIGTERM", err)
	}
	deadline := time.Now().Add(timeout)
	for {
		if waitExit(fd, min(stopPoll, time.Until(deadline))) {
			return nil
		}
		if !time.Now().Before(deadline) || familyGone(pid, ns) {
			break
		}
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return os.NewSyscallError("pidfd_send_signal SIGKILL", err)
	}
	if waitExit(fd, killWait) {
		return nil
	}
	return errors.New("process still alive after SIGKILL")
}

// familyGone reports whether init, the process pid whose pid namespace has
// inode ns, has taken its SIGTERM and sleeps, and is the only live process of
// its namespace. Zombies count as gone, because init reaps them when it exits.
func familyGone(pid int, ns uint64) bool {
	pending, err := procfs.SignalPending(pid, unix.SIGTERM)
	if err != nil || pending {
		return false
	}
	wchan, err := procfs.Wchan(pid)
	if err != nil || !strings.Contains(wchan, "nanosleep") {
		return false
	}
	pids, err := procfs.PIDs()
	if err != nil {
		return false
	}
	for _, p := range pids {
		if p == pid {
			continue
		}
		ino, err := procfs.NSInode(p, "pid")
		if err != nil || ino != ns {
			continue
		}
		st, err := procfs.ReadStat(p)
		if err == nil && st.State != 'Z' && st.State != 'X' {
			return false
		}
	}
	return true
}

// waitExit polls a pidfd, which becomes readable when the process exits.
func waitExit(fd int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left < 0 {
			left = 0
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(left.Milliseconds()))
		if err == unix.EINTR {
			continue
		}
		if n > 0 {
			return true
		}
		if err != nil || left == 0 {
			return false
		}
	}
}
