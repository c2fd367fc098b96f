package runtime

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// DefaultStopTimeout is the grace period between SIGTERM and SIGKILL.
const DefaultStopTimeout = 10 * time.Second

// killWait bounds the wait after SIGKILL, which the kernel delivers at once.
const killWait = 5 * time.Second

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
	c, err := r.Get(name)
	if err != nil {
		return err
	}
	return r.stop(c, timeout)
}

// stop ends c's init if it runs, removes its cgroup and clears the recorded PID.
// The caller holds the lock. When init exits, the kernel kills every other
// process in its PID namespace, so the group is then empty. The group is also
// removed when c was already stopped, in case a crash left it behind.
func (r *Runtime) stop(c *Container, timeout time.Duration) error {
	if c.Status == StatusRunning {
		if err := terminate(c.PID, c.PIDStart, timeout); err != nil {
			return usererr.Wrap(err, usererr.Failed, "ErrStopFailed", "Name", c.Name)
		}
	}
	if err := r.removeCgroup(c.Name); err != nil {
		return err
	}
	c.Status = StatusStopped
	if c.PID == 0 {
		return nil
	}
	c.PID, c.PIDStart, c.Started = 0, 0, time.Time{}
	return r.save(c)
}

// terminate signals pid through a pidfd, so a PID reused after the process died is
// never signalled.
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
	if err := unix.PidfdSendSignal(fd, unix.SIGTERM, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return os.NewSyscallError("pidfd_send_signal SIGTERM", err)
	}
	if waitExit(fd, timeout) {
		return nil
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return os.NewSyscallError("pidfd_send_signal SIGKILL", err)
	}
	if waitExit(fd, killWait) {
		return nil
	}
	return errors.New("process still alive after SIGKILL")
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
