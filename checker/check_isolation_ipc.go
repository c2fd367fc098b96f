package checker

import (
	"bufio"
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/locales"
)

// messageQueue is one System V message queue, a row of /proc/sysvipc/msg.
type messageQueue struct {
	Key      int32 // key given to msgget(2); 0 is IPC_PRIVATE
	ID       int   // msqid, numbered per IPC namespace
	Messages int   // qnum: messages waiting in the queue
}

// checkIPCQueuePrivate checks that house name has at least one System V message
// queue in its IPC namespace, and that house other, in an IPC namespace of its
// own, has none of those queues.
func checkIPCQueuePrivate(env *Env, with map[string]string) Result {
	p := env.printer()
	name, other := with["name"], with["other"]
	if bad := pairProblem(p, "ipc-queue-private", with); bad != nil {
		return *bad
	}
	expected := p.Tf("CheckIsoExpectIPC", "Name", name, "Other", other)
	a, b, ev, fail := findPair(env, name, other)
	if fail != nil {
		return *fail
	}

	mine, mineNS, err := houseQueues(a.PID)
	if err != nil {
		return Result{Evidence: append(ev, p.Tf("CheckSetnsError", "Kind", "ipc", "PID", a.PID, "Error", err.Error())),
			Expected: expected}
	}
	theirs, theirNS, err := houseQueues(b.PID)
	if err != nil {
		return Result{Evidence: append(ev, p.Tf("CheckSetnsError", "Kind", "ipc", "PID", b.PID, "Error", err.Error())),
			Expected: expected}
	}
	ev = append(ev,
		p.Tf("CheckIsoQueues", "Name", name, "NS", nsLabel("ipc", mineNS), "Queues", formatQueues(p, mine)),
		p.Tf("CheckIsoQueues", "Name", other, "NS", nsLabel("ipc", theirNS), "Queues", formatQueues(p, theirs)))

	passed := true
	if len(mine) == 0 {
		ev = append(ev, p.Tf("CheckIsoNoQueue", "Name", name))
		passed = false
	}
	if mineNS == theirNS {
		ev = append(ev, p.Tf("CheckIsoSharedNS", "Kind", "ipc", "NS", nsLabel("ipc", mineNS)))
		passed = false
	} else if shared := sharedKeys(mine, theirs); len(shared) > 0 {
		ev = append(ev, p.Tf("CheckIsoQueueSeen", "Other", other, "Keys", strings.Join(shared, ", ")))
		passed = false
	}
	if !passed {
		return Result{Evidence: ev, Expected: expected}
	}
	ev = append(ev, p.Tf("CheckIsoQueuePrivate", "Other", other, "Name", name))
	return Result{Passed: true, Evidence: ev}
}

// houseQueues lists the message queues in pid's IPC namespace and returns the
// namespace's inode. /proc/sysvipc/msg shows the queues of the IPC namespace
// of the process that opens it, whatever proc mount it is on, so a locked
// goroutine joins pid's IPC namespace first. It exits without UnlockOSThread,
// and the Go runtime ends that thread instead of reusing it.
func houseQueues(pid int) ([]messageQueue, uint64, error) {
	type result struct {
		queues []messageQueue
		inode  uint64
		err    error
	}
	done := make(chan result, 1)
	go func() {
		goruntime.LockOSThread()
		path := fmt.Sprintf("%s/%d/ns/ipc", procfs.Root, pid)
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- result{err: &os.PathError{Op: "open", Path: path, Err: err}}
			return
		}
		defer unix.Close(fd)
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			done <- result{err: &os.PathError{Op: "fstat", Path: path, Err: err}}
			return
		}
		if err := unix.Setns(fd, unix.CLONE_NEWIPC); err != nil {
			done <- result{err: &os.PathError{Op: "setns", Path: path, Err: err}}
			return
		}
		queues, err := readQueues(procfs.Root + "/sysvipc/msg")
		done <- result{queues, st.Ino, err}
	}()
	r := <-done
	return r.queues, r.inode, r.err
}

func readQueues(path string) ([]messageQueue, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	queues, err := parseSysvipcMsg(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return queues, nil
}

// parseSysvipcMsg parses /proc/sysvipc/msg: a header line naming the columns,
// then one line per queue. Columns are found by name, so the parser does not
// depend on their order.
func parseSysvipcMsg(r io.Reader) ([]messageQueue, error) {
	sc := bufio.NewScanner(r)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("no header line")
	}
	column := map[string]int{}
	for i, name := range strings.Fields(sc.Text()) {
		column[name] = i
	}
	for _, name := range []string{"key", "msqid", "qnum"} {
		if _, ok := column[name]; !ok {
			return nil, fmt.Errorf("header %q has no %s column", sc.Text(), name)
		}
	}
	var queues []messageQueue
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) < len(column) {
			return nil, fmt.Errorf("line %q: %d fields, want %d", sc.Text(), len(fields), len(column))
		}
		key, err := strconv.ParseInt(fields[column["key"]], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("line %q: key: %w", sc.Text(), err)
		}
		id, err := strconv.Atoi(fields[column["msqid"]])
		if err != nil {
			return nil, fmt.Errorf("line %q: msqid: %w", sc.Text(), err)
		}
		messages, err := strconv.Atoi(fields[column["qnum"]])
		if err != nil {
			return nil, fmt.Errorf("line %q: qnum: %w", sc.Text(), err)
		}
		queues = append(queues, messageQueue{Key: int32(key), ID: id, Messages: messages})
	}
	return queues, sc.Err()
}

// sharedKeys returns the keys of mine that theirs has too, as ipcs shows them.
// IPC_PRIVATE (key 0) is skipped: every private queue has that key, so equal
// keys do not show sharing.
func sharedKeys(mine, theirs []messageQueue) []string {
	var shared []string
	for _, m := range mine {
		if m.Key == 0 {
			continue
		}
		for _, t := range theirs {
			if t.Key == m.Key {
				shared = append(shared, formatKey(m.Key))
				break
			}
		}
	}
	return shared
}

// formatKey writes a key as ipcs does: eight hexadecimal digits.
func formatKey(key int32) string { return fmt.Sprintf("0x%08x", uint32(key)) }

// formatQueues lists queues as "key 0x1a2b3c4d (msqid 0, 1 message)".
func formatQueues(p *locales.Printer, queues []messageQueue) string {
	if len(queues) == 0 {
		return p.T("CheckIsoNoQueues", nil)
	}
	parts := make([]string, len(queues))
	for i, q := range queues {
		parts[i] = p.Tf("CheckIsoQueue", "Key", formatKey(q.Key), "ID", q.ID, "Messages", q.Messages)
	}
	return strings.Join(parts, ", ")
}
