package runtime

import (
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/procfs"
)

// TestInitExitEndsFamily checks the kernel behaviour that waitExit's comment
// relies on: by the time the pidfd of a house's init is readable, every other
// process of the house's pid namespace is gone from /proc and from the house's
// cgroup, zombies included.
func TestInitExitEndsFamily(t *testing.T) {
	r := newTestRuntime(t)
	const name = "rumah-keluarga"
	if _, err := r.Create(CreateOptions{Name: name}); err != nil {
		t.Fatal(err)
	}
	c, err := r.Start(name)
	if err != nil {
		t.Fatal(err)
	}
	// The shell exits at once, so the sleeps become children of the house's
	// init. Their output goes to /dev/null, because Exec waits until no
	// process holds its output pipe.
	execOutput(t, r, name, "sh", "-c", "sleep 1000 >/dev/null 2>&1 & sleep 1000 >/dev/null 2>&1 &")
	cg, err := r.Cgroup(name)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := procfs.NSInode(c.PID, "pid")
	if err != nil {
		t.Fatal(err)
	}
	var family []int
	for try := 0; len(family) < 2; try++ {
		if try == 200 {
			t.Fatalf("the house's group has %d sleeps besides init, want 2", len(family))
		}
		time.Sleep(10 * time.Millisecond)
		procs, err := cg.Procs()
		if err != nil {
			t.Fatal(err)
		}
		family = family[:0]
		for _, p := range procs {
			if ino, err := procfs.NSInode(p, "pid"); err == nil && ino == ns && p != c.PID {
				family = append(family, p)
			}
		}
	}

	fd, err := unix.PidfdOpen(c.PID, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil {
		t.Fatal(err)
	}
	if !waitExit(fd, killWait) {
		t.Fatal("init's pidfd did not become readable after SIGKILL")
	}
	for _, p := range family {
		if _, err := os.Stat("/proc/" + strconv.Itoa(p)); err == nil {
			t.Errorf("process %d of the house is still in /proc when init's pidfd is readable", p)
		}
	}
	procs, err := cg.Procs()
	if err != nil {
		t.Fatal(err)
	}
	procs = slices.DeleteFunc(procs, func(p int) bool { return p == os.Getpid() })
	if len(procs) > 0 {
		t.Errorf("the house's group still lists %v when init's pidfd is readable", procs)
	}
	if err := r.Stop(name, time.Second); err != nil {
		t.Errorf("stop after init exited: %v", err)
	}
}
