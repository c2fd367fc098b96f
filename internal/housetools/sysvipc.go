package housetools

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// sysvipcMsgPath lists the message queues of the reader's IPC namespace
// (ipc_namespaces(7)), so inside a container it shows only that container's
// queues.
const sysvipcMsgPath = "/proc/sysvipc/msg"

// messageQueue is one row of /proc/sysvipc/msg.
type messageQueue struct {
	Key      int32  // key given to msgget(2); 0 is IPC_PRIVATE
	ID       int    // msqid, the id for msgsnd(2) and ipcrm -q
	Mode     uint32 // permission bits
	Bytes    uint64 // bytes in all messages on the queue (cbytes)
	Messages uint64 // messages on the queue (qnum)
	UID      uint32 // owner
}

// parseSysvipcMsg reads /proc/sysvipc/msg. Columns are found by the names in
// the header line, so added or reordered columns in another kernel do not shift
// the values.
func parseSysvipcMsg(r io.Reader) ([]messageQueue, error) {
	sc := bufio.NewScanner(r)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("parse %s: empty file", sysvipcMsgPath)
	}
	column := map[string]int{}
	for i, name := range strings.Fields(sc.Text()) {
		column[name] = i
	}
	for _, name := range []string{"key", "msqid", "perms", "cbytes", "qnum", "uid"} {
		if _, ok := column[name]; !ok {
			return nil, fmt.Errorf("parse %s: header has no column %q", sysvipcMsgPath, name)
		}
	}

	var queues []messageQueue
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) != len(column) {
			return nil, fmt.Errorf("parse %s: line %q has %d fields, want %d", sysvipcMsgPath, sc.Text(), len(fields), len(column))
		}
		q, err := parseQueueFields(fields, column)
		if err != nil {
			return nil, fmt.Errorf("parse %s: line %q: %w", sysvipcMsgPath, sc.Text(), err)
		}
		queues = append(queues, q)
	}
	return queues, sc.Err()
}

func parseQueueFields(fields []string, column map[string]int) (messageQueue, error) {
	var q messageQueue
	key, err := strconv.ParseInt(fields[column["key"]], 10, 32)
	if err != nil {
		return q, err
	}
	id, err := strconv.Atoi(fields[column["msqid"]])
	if err != nil {
		return q, err
	}
	// The kernel prints the mode in octal.
	mode, err := strconv.ParseUint(fields[column["perms"]], 8, 32)
	if err != nil {
		return q, err
	}
	bytes, err := strconv.ParseUint(fields[column["cbytes"]], 10, 64)
	if err != nil {
		return q, err
	}
	messages, err := strconv.ParseUint(fields[column["qnum"]], 10, 64)
	if err != nil {
		return q, err
	}
	uid, err := strconv.ParseUint(fields[column["uid"]], 10, 32)
	if err != nil {
		return q, err
	}
	return messageQueue{Key: int32(key), ID: id, Mode: uint32(mode), Bytes: bytes, Messages: messages, UID: uint32(uid)}, nil
}
