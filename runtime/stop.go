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

// While stop waits for init to exit, it checks whether init's family is gone
// (familyGone) first after firstFamilyCheck, then at intervals that double up
// to maxFamilyCheck. No event marks the moment init sleeps, so this is polled.
// terminate took 1 to 4 ms for a house with no other process on a 2-CPU VM
// (busybox init calls sync(2) before it sleeps, so the disk matters). Short
// first intervals end such a stop soon after, and the doubling keeps a family
// that takes its time from costing many checks.
const (
	firstFamilyCheck = 500 * time.Microsecond
	maxFamilyCheck   = 20 * time.Millisecond
)

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
// init (see verifyInit). Otherwise stop looks for c's init in c's cgroup (see
// findInit) and ends that one, so an edited state file never makes stop kill
// another process.
func (r *Runtime) stop(c *Container, timeout time.Duration) error {
	pid, start, running, err := r.runningInit(c)
	if err != nil {
		return err
	}
	return r.stopInit(c, pid, start, running, timeout)
}

// runningInit returns c's init: the recorded one when the kernel confirmed it
// at load, and otherwise the one that findInit finds in c's cgroup.
func (r *Runtime) runningInit(c *Container) (pid int, start uint64, running bool, err error) {
	if c.Status == StatusRunning {
		return c.PID, c.PIDStart, true, nil
	}
	return r.findInit(c.Name)
}

// stopInit is stop for an init that runningInit returned.
func (r *Runtime) stopInit(c *Container, pid int, start uint64, running bool, timeout time.Duration) error {
	if running {
		if err := terminate(pid, start, timeout, r.familyOf(c.Name)); err != nil {
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
	if err := r.saveInit(c); err != nil {
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
//
// members lists the processes among which terminate looks for the rest of
// init's family (see familyGone).
func terminate(pid int, start uint64, timeout time.Duration, members func() ([]int, error)) error {
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
	check := firstFamilyCheck
	for {
		if waitExit(fd, min(check, time.Until(deadline))) {
			return nil
		}
		if !time.Now().Before(deadline) || familyGone(pid, ns, members) {
			break
		}
		check = min(2*check, maxFamilyCheck)
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
// its namespace among members. Zombies count as gone, because init reaps them
// when it exits.
func familyGone(pid int, ns uint64, members func() ([]int, error)) bool {
	pending, err := procfs.SignalPending(pid, unix.SIGTERM)
	if err != nil || pending {
		return false
	}
	wchan, err := procfs.Wchan(pid)
	if err != nil || !strings.Contains(wchan, "nanosleep") {
		return false
	}
	pids, err := members()
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

// familyOf returns the members function that terminate gets for house name:
// the processes of the house's cgroup, where init and every process it or
// Exec starts are placed (see findInit). When the group cannot be read, it
// lists every process in /proc.
//
// A process of the house that root on the host moved to another group is
// missed, so terminate may send SIGKILL to init before that process has
// exited. The kernel then kills it with the rest of the pid namespace.
func (r *Runtime) familyOf(name string) func() ([]int, error) {
	return func() ([]int, error) {
		m, err := r.Cgroup(name)
		if err == nil {
			var pids []int
			if pids, err = m.Procs(); err == nil {
				return pids, nil
			}
		}
		return procfs.PIDs()
	}
}

// waitExit waits up to timeout for a pidfd to become readable, which happens
// when the process exits. When the init of a pid namespace exits, the kernel
// first kills every other process of the namespace and waits until they are
// reaped (zap_pid_ns_processes, called from exit_notify). So a readable pidfd
// of a house's init also means that its family is gone, which
// TestInitExitEndsFamily checks.
func waitExit(fd int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		left := max(time.Until(deadline), 0)
		ts := unix.NsecToTimespec(left.Nanoseconds())
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Ppoll(fds, &ts, nil)
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
