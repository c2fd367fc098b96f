package checker

import (
	"slices"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/locales"
)

func TestParseSysvipcMsg(t *testing.T) {
	// As Linux 6.x writes it, with a queue of a negative key.
	text := "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n" +
		"1384916685          0   644           0          0     0     0     0     0     0     0          0          0 1733332321\n" +
		"-559038737          1   600          12          2    42     0     0     0     0     0 1733332400          0 1733332399\n"
	got, err := parseSysvipcMsg(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []messageQueue{{Key: 1384916685, ID: 0, Messages: 0}, {Key: -559038737, ID: 1, Messages: 2}}
	if !slices.Equal(got, want) {
		t.Errorf("queues = %+v, want %+v", got, want)
	}
	if key := formatKey(got[1].Key); key != "0xdeadbeef" {
		t.Errorf("formatKey(%d) = %s, want 0xdeadbeef", got[1].Key, key)
	}
}

func TestParseSysvipcMsgRejectsBadText(t *testing.T) {
	header := "key msqid perms cbytes qnum\n"
	tests := []struct {
		name, text string
	}{
		{"empty", ""},
		{"no key column", "msqid qnum\n"},
		{"key not a number", header + "x 0 644 0 0\n"},
		{"too few fields", header + "1 0 644\n"},
		{"key beyond 32 bits", header + "4294967296 0 644 0 0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := parseSysvipcMsg(strings.NewReader(tt.text)); err == nil {
				t.Errorf("parsed %q as %+v, want an error", tt.text, got)
			}
		})
	}
}

func TestSharedKeysSkipsPrivate(t *testing.T) {
	mine := []messageQueue{{Key: 0, ID: 0}, {Key: 7, ID: 1}, {Key: 9, ID: 2}}
	theirs := []messageQueue{{Key: 0, ID: 0}, {Key: 9, ID: 5}}
	if got := sharedKeys(mine, theirs); !slices.Equal(got, []string{"0x00000009"}) {
		t.Errorf("sharedKeys = %q, want only 0x00000009", got)
	}
	if got := sharedKeys(mine, nil); len(got) != 0 {
		t.Errorf("sharedKeys with no queues = %q, want none", got)
	}
}

func TestParseIDMap(t *testing.T) {
	got, err := parseIDMap("         0     100000      65536\n     65536          0          1\n")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		inside, outside uint64
		ok              bool
	}{
		{0, 100000, true},
		{65535, 165535, true},
		{65536, 0, true},
		{65537, 0, false},
	}
	for _, tt := range tests {
		out, ok := outsideID(got, tt.inside)
		if out != tt.outside || ok != tt.ok {
			t.Errorf("outsideID(%d) = %d, %v; want %d, %v", tt.inside, out, ok, tt.outside, tt.ok)
		}
	}
	if s := formatIDMap(got); s != "0 -> 100000 (65536), 65536 -> 0 (1)" {
		t.Errorf("formatIDMap = %q", s)
	}
	other := []idMapping{{Inside: 0, Outside: 165535, Count: 10}}
	if got := overlap(got, other); got != "165535-165535" {
		t.Errorf("overlap = %q, want 165535-165535", got)
	}
	if got := overlap(got[:1], []idMapping{{Inside: 0, Outside: 165536, Count: 10}}); got != "" {
		t.Errorf("overlap of adjacent ranges = %q, want none", got)
	}
	for _, bad := range []string{"0 100000\n", "0 x 1\n", "0 0 4294967296\n"} {
		if _, err := parseIDMap(bad); err == nil {
			t.Errorf("parseIDMap(%q) succeeded, want an error", bad)
		}
	}
}

func TestFormatCapabilities(t *testing.T) {
	tests := []struct {
		mask uint64
		want string
	}{
		{0, "-"},
		{1<<0 | 1<<21, "chown, sys_admin"},
		{1 << 40, "checkpoint_restore"},
		{1 << 45, "cap_45"},
	}
	for _, tt := range tests {
		if got := formatCapabilities(tt.mask); got != tt.want {
			t.Errorf("formatCapabilities(%#x) = %q, want %q", tt.mask, got, tt.want)
		}
	}
}

func TestIsolationChecksRejectBadParams(t *testing.T) {
	env := newTestEnv(t, locales.EN)
	tests := []struct {
		name     string
		check    string
		with     map[string]string
		evidence string
	}{
		{"invalid other", "pid-isolated", map[string]string{"name": "rumah-a", "other": "../etc"},
			"invalid other ../etc"},
		{"same house", "ipc-queue-private", map[string]string{"name": "rumah-a", "other": "rumah-a"},
			"name and other are both rumah-a"},
		{"relative path", "file-private", map[string]string{"name": "rumah-a", "other": "rumah-b", "path": "tmp/x"},
			"invalid path tmp/x"},
		{"path with dot-dot", "file-private", map[string]string{"name": "rumah-a", "other": "rumah-b",
			"path": "/tmp/../etc/passwd"}, "invalid path /tmp/../etc/passwd"},
		{"root path", "file-private", map[string]string{"name": "rumah-a", "other": "rumah-b", "path": "/"},
			"invalid path /"},
		{"invalid ns", "ns-separate", map[string]string{"name": "rumah-a", "other": "rumah-b", "ns": "time"},
			"invalid ns time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Run(env, lessons.Check{Check: tt.check, With: tt.with})
			if res.Passed {
				t.Fatal("check passed")
			}
			if len(res.Evidence) != 1 || !strings.Contains(res.Evidence[0], tt.evidence) {
				t.Errorf("evidence = %q, want one line containing %q", res.Evidence, tt.evidence)
			}
			if !strings.Contains(res.Expected, "bug in the lesson") {
				t.Errorf("expected = %q, want the lesson-bug text", res.Expected)
			}
		})
	}
}

func TestIsolationChecksMissingHouse(t *testing.T) {
	env := newTestEnv(t, locales.EN)
	pair := map[string]string{"name": "rumah-a", "other": "rumah-b"}
	for _, tt := range []struct {
		check string
		with  map[string]string
	}{
		{"pid-isolated", pair},
		{"own-proc", map[string]string{"name": "rumah-a"}},
		{"file-private", map[string]string{"name": "rumah-a", "other": "rumah-b", "path": "/tmp/surat.txt"}},
		{"ns-separate", map[string]string{"name": "rumah-a", "other": "rumah-b", "ns": "uts"}},
		{"ipc-queue-private", pair},
		{"user-mapped", map[string]string{"name": "rumah-a"}},
		{"caps-reduced", map[string]string{"name": "rumah-a"}},
		{"user-ranges-apart", pair},
	} {
		t.Run(tt.check, func(t *testing.T) {
			res := Run(env, lessons.Check{Check: tt.check, With: tt.with})
			assertResult(t, res, false, "has no record of house rumah-a")
		})
	}
}
