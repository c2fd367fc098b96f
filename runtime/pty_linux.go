package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/rt-lab/rt-lab/internal/procfs"
)

// A command run on the user's terminal gets a new pseudo-terminal from the
// house's own devpts instance, as `runc exec -t` does, instead of the host's
// terminal. Inside the house, tty(1) then names /dev/pts/N, and a process in
// the house holds no host terminal, so it cannot push input into the user's
// host shell with the TIOCSTI ioctl. rt-lab copies bytes between the user's
// terminal, which it puts in raw mode, and the pseudo-terminal's master end.

// ptmxMajor and ptmxMinor are the device numbers of the ptmx node that every
// devpts instance has (character device 5:2, as /dev/ptmx).
const (
	ptmxMajor = 5
	ptmxMinor = 2
)

// drainTime is how long the copy to the user's terminal waits for more output
// after the command exited. A process that the command left running in the
// background keeps the pseudo-terminal open, so its end is never reported.
const drainTime = 200 * time.Millisecond

// housePTY is a pseudo-terminal pair in a house's devpts instance.
type housePTY struct {
	master *os.File
	slave  *os.File
}

// openHousePTY opens a new pseudo-terminal in the devpts instance mounted at
// /dev/pts of the house whose init is pid, started at tick start. The slave
// end belongs to owner, root of the house on the host, and the group tty (5)
// of the house. The path is resolved inside the house's root without
// following any symbolic link, and the result must be the ptmx node of a
// devpts file system, so root of the house cannot make rt-lab open a host file.
func openHousePTY(pid int, start uint64, owner uint32) (*housePTY, error) {
	rootFD, err := unix.Open(fmt.Sprintf("/proc/%d/root", pid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("open house root", err)
	}
	defer unix.Close(rootFD)
	if !procfs.Alive(pid, start) {
		return nil, errNotRunning
	}
	fd, err := unix.Openat2(rootFD, "dev/pts/ptmx", &unix.OpenHow{
		Flags:   unix.O_RDWR | unix.O_NOCTTY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: "/dev/pts/ptmx", Err: err}
	}
	slave, err := openSlave(fd, owner)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	// A non-blocking master joins Go's poller, so the copy to the user's
	// terminal can be given a deadline.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		slave.Close()
		return nil, os.NewSyscallError("set non-blocking", err)
	}
	return &housePTY{master: os.NewFile(uintptr(fd), "/dev/pts/ptmx"), slave: slave}, nil
}

// openSlave checks that master is a devpts ptmx node, unlocks its new
// terminal and opens the slave end through the master (TIOCGPTPEER), which
// needs no path.
func openSlave(master int, owner uint32) (*os.File, error) {
	var fs unix.Statfs_t
	if err := unix.Fstatfs(master, &fs); err != nil {
		return nil, os.NewSyscallError("fstatfs /dev/pts/ptmx", err)
	}

	var st unix.Stat_t
	if err := unix.Fstat(master, &st); err != nil {
		return nil, os.NewSyscallError("fstat /dev/pts/ptmx", err)
	}
	isPtmx := st.Mode&unix.S_IFMT == unix.S_IFCHR &&
		unix.Major(st.Rdev) == ptmxMajor && unix.Minor(st.Rdev) == ptmxMinor
	if fs.Type != unix.DEVPTS_SUPER_MAGIC || !isPtmx {
		return nil, errors.New("/dev/pts/ptmx of the house is not a devpts ptmx node")
	}

	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return nil, os.NewSyscallError("unlock pseudo-terminal", err)
	}
	fd, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(master), unix.TIOCGPTPEER,
		uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno != 0 {
		return nil, os.NewSyscallError("open pseudo-terminal peer", errno)
	}

	slave := os.NewFile(fd, "/dev/pts/peer")
	if err := slave.Chown(int(owner), int(owner)+5); err != nil {
		slave.Close()
		return nil, err
	}
	if err := slave.Chmod(0o620); err != nil {
		slave.Close()
		return nil, err
	}
	return slave, nil
}

// relay copies the user's terminal to the master end, and the master end to
// the output, until stop is called. It keeps the user's terminal in raw mode
// and gives the pseudo-terminal the same window size.
type relay struct {
	pty      *housePTY
	in       *os.File
	saved    *term.State
	winch    chan os.Signal
	stopIn   *os.File // closed to end copyInput
	copied   sync.WaitGroup
	stopOnce sync.Once
}

// startRelay starts copying between in, out and p.
func startRelay(p *housePTY, in *os.File, out io.Writer) (*relay, error) {
	r := &relay{pty: p, in: in, winch: make(chan os.Signal, 1)}
	saved, err := term.MakeRaw(int(in.Fd()))
	if err != nil {
		return nil, os.NewSyscallError("make terminal raw", err)
	}
	r.saved = saved
	r.resize()
	signal.Notify(r.winch, syscall.SIGWINCH)
	go func() {
		for range r.winch {
			r.resize()
		}
	}()
	stopR, stopW, err := os.Pipe()
	if err != nil {
		term.Restore(int(in.Fd()), saved)
		return nil, err
	}
	r.stopIn = stopW
	go copyInput(p.master, in, stopR)
	r.copied.Add(1)
	go func() {
		defer r.copied.Done()
		io.Copy(out, p.master)
	}()
	return r, nil
}

// resize gives the pseudo-terminal the window size of the user's terminal.
func (r *relay) resize() {
	ws, err := unix.IoctlGetWinsize(int(r.in.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return
	}
	unix.IoctlSetWinsize(int(r.pty.master.Fd()), unix.TIOCSWINSZ, ws)
}

// stop copies what the command wrote before it exited, then restores the
// user's terminal. The master end reports EIO once no process holds the
// slave end; drainTime ends the wait when one still does.
func (r *relay) stop() {
	r.stopOnce.Do(func() {
		r.stopIn.Close()
		r.pty.slave.Close()
		r.pty.master.SetReadDeadline(time.Now().Add(drainTime))
		r.copied.Wait()
		signal.Stop(r.winch)
		close(r.winch)
		term.Restore(int(r.in.Fd()), r.saved)
		r.pty.master.Close()
	})
}

// copyInput copies in to master until stop becomes readable (its write end
// closed) or either end fails. It waits in poll(2) rather than in read, so it
// ends without a last keystroke. The user's terminal is not made non-blocking
// for Go's poller, because that flag is shared with the user's shell.
func copyInput(master io.Writer, in, stop *os.File) {
	defer stop.Close()
	buf := make([]byte, 4096)
	fds := []unix.PollFd{{Fd: int32(in.Fd()), Events: unix.POLLIN}, {Fd: int32(stop.Fd()), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return
		}
		if fds[1].Revents != 0 || fds[0].Revents&(unix.POLLERR|unix.POLLNVAL) != 0 {
			return
		}
		if fds[0].Revents&(unix.POLLIN|unix.POLLHUP) == 0 {
			continue
		}
		n, err := unix.Read(int(in.Fd()), buf)
		if n <= 0 || err != nil {
			return
		}
		if _, err := master.Write(buf[:n]); err != nil {
			return
		}
	}
}
