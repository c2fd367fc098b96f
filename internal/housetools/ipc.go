package housetools

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/user"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// defaultQueueMode is the permission of a new queue without -p, as in
// util-linux ipcmk.
const defaultQueueMode = 0o644

// ipcmk creates a System V message queue and prints its id in the format of
// util-linux ipcmk ("Message queue id: N"). Shared memory (-M) and semaphores
// (-S) are not offered.
func ipcmk(e *env, args []string) (int, error) {
	positional, values, err := parseArgs(args, []option{
		{names: []string{"-Q", "--queue"}},
		{names: []string{"-p", "--mode"}, value: true},
	})
	if err != nil {
		return 0, err
	}
	if len(positional) > 0 {
		return 0, usererr.New(usererr.Usage, "ErrHouseToolExtraArg", "Value", positional[0])
	}
	if _, ok := values["-Q"]; !ok {
		return 0, usererr.New(usererr.Usage, "ErrIpcmkNoQueue")
	}
	mode := uint32(defaultQueueMode)
	if v, ok := lastValue(values, "-p"); ok {
		if mode, err = parseMode(v); err != nil {
			return 0, err
		}
	}

	id, err := createQueue(mode)
	if err != nil {
		return 0, usererr.Wrap(err, usererr.Failed, "ErrIpcmkFailed")
	}
	fmt.Fprintln(e.stdout, e.p.Tf("IpcmkCreated", "ID", id))
	return 0, nil
}

// createQueue calls msgget(2) with a random key, as util-linux ipcmk does, and
// IPC_EXCL so an existing queue with the same key is never reused: on EEXIST it
// tries another key.
func createQueue(mode uint32) (int, error) {
	for {
		key := rand.Int32()
		if key == unix.IPC_PRIVATE {
			continue
		}
		id, _, errno := unix.Syscall(unix.SYS_MSGGET, uintptr(key), uintptr(mode|unix.IPC_CREAT|unix.IPC_EXCL), 0)
		if errno == unix.EEXIST {
			continue
		}
		if errno != 0 {
			return 0, os.NewSyscallError("msgget", errno)
		}
		return int(id), nil
	}
}

// ipcs lists the message queues of the caller's IPC namespace in the layout of
// util-linux `ipcs -q`. With no option it also lists only message queues, the one
// kind of IPC object these tools create.
func ipcs(e *env, args []string) (int, error) {
	positional, values, err := parseArgs(args, []option{
		{names: []string{"-q", "--queues"}},
		{names: []string{"-m", "--shmems"}},
		{names: []string{"-s", "--semaphores"}},
		{names: []string{"-a", "--all"}},
	})
	if err != nil {
		return 0, err
	}
	if len(positional) > 0 {
		return 0, usererr.New(usererr.Usage, "ErrHouseToolExtraArg", "Value", positional[0])
	}
	for _, other := range []string{"-m", "-s", "-a"} {
		if _, ok := values[other]; ok {
			return 0, usererr.New(usererr.Usage, "ErrIpcsQueuesOnly", "Option", other)
		}
	}

	f, err := os.Open(sysvipcMsgPath)
	if err != nil {
		return 0, usererr.Wrap(err, usererr.Failed, "ErrIpcsRead", "Path", sysvipcMsgPath)
	}
	defer f.Close()
	queues, err := parseSysvipcMsg(f)
	if err != nil {
		return 0, usererr.Wrap(err, usererr.Failed, "ErrIpcsRead", "Path", sysvipcMsgPath)
	}
	printQueues(e, queues)
	return 0, nil
}

// printQueues writes the table with the column widths of util-linux ipcs, so
// the output reads the same as on a full Linux system.
func printQueues(e *env, queues []messageQueue) {
	fmt.Fprintln(e.stdout)
	fmt.Fprintln(e.stdout, e.p.T("IpcsQueuesTitle", nil))
	fmt.Fprintf(e.stdout, "%-10s %-10s %-10s %-10s %-12s %s\n",
		e.p.T("IpcsColumnKey", nil), e.p.T("IpcsColumnID", nil), e.p.T("IpcsColumnOwner", nil),
		e.p.T("IpcsColumnPerms", nil), e.p.T("IpcsColumnBytes", nil), e.p.T("IpcsColumnMessages", nil))
	for _, q := range queues {
		fmt.Fprintf(e.stdout, "0x%08x %-10d %-10.10s %-10o %-12d %d\n",
			uint32(q.Key), q.ID, ownerName(q.UID), q.Mode&0o777, q.Bytes, q.Messages)
	}
	fmt.Fprintln(e.stdout)
}

// ownerName returns the user name of uid from the container's /etc/passwd, or
// the number when it has none.
func ownerName(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return u.Username
	}
	return id
}

// ipcrm removes the message queues given with -q MSQID, which may repeat. It
// tries every id and fails when any one could not be removed.
func ipcrm(e *env, args []string) (int, error) {
	positional, values, err := parseArgs(args, []option{{names: []string{"-q", "--queue-id"}, value: true}})
	if err != nil {
		return 0, err
	}
	if len(positional) > 0 {
		return 0, usererr.New(usererr.Usage, "ErrHouseToolExtraArg", "Value", positional[0])
	}
	if len(values["-q"]) == 0 {
		return 0, usererr.New(usererr.Usage, "ErrIpcrmNoID")
	}
	ids := make([]int, 0, len(values["-q"]))
	for _, v := range values["-q"] {
		id, err := parseQueueID(v)
		if err != nil {
			return 0, err
		}
		ids = append(ids, id)
	}

	var failed error
	for _, id := range ids {
		if err := removeQueue(id); err != nil {
			failed = err
			fmt.Fprintf(e.stderr, "ipcrm: %s\n", usererr.Render(err, e.p))
		}
	}
	if failed != nil {
		return usererr.ExitFailed, nil
	}
	return 0, nil
}

// removeQueue calls msgctl(2) with IPC_RMID. EINVAL and EIDRM mean no queue
// with that id exists in this IPC namespace, EPERM that the caller neither owns
// nor created it.
func removeQueue(id int) error {
	_, _, errno := unix.Syscall(unix.SYS_MSGCTL, uintptr(id), unix.IPC_RMID, 0)
	switch {
	case errno == 0:
		return nil
	case errors.Is(errno, unix.EINVAL), errors.Is(errno, unix.EIDRM):
		return usererr.New(usererr.Failed, "ErrIpcrmNotFound", "ID", id)
	case errors.Is(errno, unix.EPERM):
		return usererr.New(usererr.Failed, "ErrIpcrmPermission", "ID", id)
	}
	return usererr.Wrap(os.NewSyscallError("msgctl", errno), usererr.Failed, "ErrIpcrmFailed", "ID", id)
}
