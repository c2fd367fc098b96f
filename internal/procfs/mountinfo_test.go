package procfs

import (
	"os"
	"strings"
	"testing"
)

func TestParseMountinfoOverlayRoot(t *testing.T) {
	const lines = `22 1 0:21 / / rw,relatime - ext4 /dev/sda1 rw
301 22 0:50 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/rt-lab/base/ab,upperdir=/tmp/a\040b/upper,workdir=/tmp/w
302 301 0:51 / /proc rw,nosuid - proc proc rw
`
	mounts, err := ParseMountinfo(strings.NewReader(lines))
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 3 {
		t.Fatalf("parsed %d mounts, want 3", len(mounts))
	}
	top := mounts[1]
	if top.FSType != "overlay" {
		t.Errorf("file system type = %q, want overlay", top.FSType)
	}
	if got, _ := top.Option("upperdir"); got != "/tmp/a b/upper" {
		t.Errorf("upperdir = %q, want the unescaped /tmp/a b/upper", got)
	}
	if _, ok := top.Option("nosuch"); ok {
		t.Error("Option found a key that is not there")
	}
}

func TestParseMountinfoRejectsShortLine(t *testing.T) {
	if _, err := ParseMountinfo(strings.NewReader("22 1 0:21 / /\n")); err == nil {
		t.Error("a line without the separator was accepted")
	}
}

func TestRootMountOfSelf(t *testing.T) {
	m, err := RootMount(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.MountPoint != "/" || m.FSType == "" {
		t.Errorf("root mount = %+v, want a mount at / with a type", m)
	}
}

func TestSignalPendingOfSelf(t *testing.T) {
	pending, err := SignalPending(os.Getpid(), 15)
	if err != nil {
		t.Fatal(err)
	}
	if pending {
		t.Error("SIGTERM pending for the test process, which nobody signalled")
	}
}
