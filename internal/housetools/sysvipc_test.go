package housetools

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/locales"
)

// sampleMsg is /proc/sysvipc/msg from Linux 6.1 with two queues.
const sampleMsg = `       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime
 994366574          0   644           0          0     0     0     0     0     0     0          0          0 1717000000
        -5          1   600          12          2    41     0 65534 65534     0     0 1717000010          0 1717000001
`

func TestParseSysvipcMsg(t *testing.T) {
	queues, err := parseSysvipcMsg(strings.NewReader(sampleMsg))
	if err != nil {
		t.Fatal(err)
	}
	want := []messageQueue{
		{Key: 994366574, ID: 0, Mode: 0o644, Bytes: 0, Messages: 0, UID: 0},
		{Key: -5, ID: 1, Mode: 0o600, Bytes: 12, Messages: 2, UID: 65534},
	}
	if len(queues) != len(want) {
		t.Fatalf("got %d queues, want %d: %+v", len(queues), len(want), queues)
	}
	for i := range want {
		if queues[i] != want[i] {
			t.Errorf("queue %d = %+v, want %+v", i, queues[i], want[i])
		}
	}
}

func TestParseSysvipcMsgEmpty(t *testing.T) {
	header, _, _ := strings.Cut(sampleMsg, "\n")
	queues, err := parseSysvipcMsg(strings.NewReader(header + "\n"))
	if err != nil || len(queues) != 0 {
		t.Errorf("header only: %d queues, %v; want none", len(queues), err)
	}
}

func TestParseSysvipcMsgBroken(t *testing.T) {
	tests := map[string]string{
		"empty file":     "",
		"missing column": "key msqid perms\n1 2 644\n",
		"short line":     strings.Replace(sampleMsg, " 1717000000", "", 1),
		"bad number":     strings.Replace(sampleMsg, "994366574", "99x", 1),
	}
	for name, in := range tests {
		if _, err := parseSysvipcMsg(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestPrintQueuesLayout(t *testing.T) {
	var out bytes.Buffer
	e := &env{stdout: &out, p: locales.For(locales.EN)}
	printQueues(e, []messageQueue{{Key: -5, ID: 1, Mode: 0o600, Bytes: 12, Messages: 2, UID: 4000000000}})
	want := "\n------ Message Queues --------\n" +
		"key        msqid      owner      perms      used-bytes   messages\n" +
		"0xfffffffb 1          4000000000 600        12           2\n\n"
	if out.String() != want {
		t.Errorf("output:\n%q\nwant:\n%q", out.String(), want)
	}
}
