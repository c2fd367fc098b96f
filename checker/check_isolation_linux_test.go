package checker

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/runtime"
)

// inIPCNamespace runs fn on a thread that joined the IPC namespace of pid. The
// thread is never unlocked, so the Go runtime ends it afterwards.
func inIPCNamespace(t *testing.T, pid int, fn func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		goruntime.LockOSThread()
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/ipc", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWIPC); err != nil {
			done <- os.NewSyscallError("setns", err)
			return
		}
		done <- fn()
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// makeQueue creates a System V message queue with key in pid's IPC namespace.
// The queue goes away with the namespace, when the house's last process ends.
func makeQueue(t *testing.T, pid int, key int32) {
	t.Helper()
	inIPCNamespace(t, pid, func() error {
		_, _, errno := unix.Syscall(unix.SYS_MSGGET, uintptr(key), unix.IPC_CREAT|unix.IPC_EXCL|0o644, 0)
		if errno != 0 {
			return os.NewSyscallError("msgget", errno)
		}
		return nil
	})
}

func randomKey() int32 {
	for {
		if k := rand.Int32(); k != 0 {
			return k
		}
	}
}

// writeInHouse writes a file at path inside the house whose PID 1 is pid.
func writeInHouse(t *testing.T, pid int, path, content string) {
	t.Helper()
	full := fmt.Sprintf("/proc/%d/root%s", pid, path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestIsolationChecksPassOnFakeHouses(t *testing.T) {
	env := newRootEnv(t)
	a := fakeHouse{hostname: "satu"}.start(t, env.Runtime, "rumah-satu")
	fakeHouse{hostname: "dua"}.start(t, env.Runtime, "rumah-dua")
	letter := fmt.Sprintf("/tmp/rt-lab-surat-%d.txt", os.Getpid())
	writeInHouse(t, a, letter, "salam\n")
	makeQueue(t, a, randomKey())

	pair := []string{"name", "rumah-satu", "other", "rumah-dua"}
	tests := []struct {
		check    string
		params   []string
		evidence string
	}{
		{"pid-isolated", pair, "all in its own PID namespace pid:["},
		{"own-proc", []string{"name", "rumah-dua"}, "so that /proc belongs to the house's own PID namespace"},
		{"file-private", append(pair, "path", letter), "in house rumah-dua, " + letter + " does not exist"},
		{"ipc-queue-private", pair, "house rumah-dua has none of the queues of house rumah-satu"},
		{"ipc-queue-private", pair, "message queues of house rumah-dua (IPC namespace ipc:["},
	}
	for _, kind := range namespaceKinds {
		tests = append(tests, struct {
			check    string
			params   []string
			evidence string
		}{"ns-separate", append(append([]string{}, pair...), "ns", kind), kind + " namespace: house rumah-satu"})
	}
	for _, tt := range tests {
		t.Run(tt.check+"-"+strings.Join(tt.params, "-"), func(t *testing.T) {
			assertResult(t, run(env, tt.check, tt.params...), true, tt.evidence)
		})
	}
}

func TestIsolationChecksFailOnFakeHouses(t *testing.T) {
	env := newRootEnv(t)
	fakeHouse{hostname: "satu"}.start(t, env.Runtime, "rumah-satu")
	cases := []struct {
		name     string
		other    fakeHouse
		check    string
		params   []string
		evidence string
	}{
		{"host proc", fakeHouse{proc: "host"}, "pid-isolated", nil, "lists processes of other PID namespaces: 1 ("},
		{"no proc", fakeHouse{proc: "none"}, "pid-isolated", nil, "lists no processes"},
		{"shared net", fakeHouse{sharedNet: true}, "ns-separate", []string{"ns", "net"},
			"house rumah-lain-2 shares the host's net namespace"},
		{"no queue", fakeHouse{}, "ipc-queue-private", nil, "house rumah-satu has no message queue yet"},
	}
	for i, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			other := fmt.Sprintf("rumah-lain-%d", i)
			tt.other.hostname = "lain"
			tt.other.start(t, env.Runtime, other)
			params := append([]string{"name", "rumah-satu", "other", other}, tt.params...)
			assertResult(t, run(env, tt.check, params...), false, tt.evidence)
		})
	}
}

// TestPIDIsolatedAllowsNestedNamespace starts a process in a PID namespace
// nested inside one house. The house's /proc lists it, and it is still the
// house's own family.
func TestPIDIsolatedAllowsNestedNamespace(t *testing.T) {
	env := newRootEnv(t)
	a := fakeHouse{hostname: "satu", waitMember: "sleep"}.start(t, env.Runtime, "rumah-satu")
	fakeHouse{hostname: "dua"}.start(t, env.Runtime, "rumah-dua")
	nested := exec.Command(hostBusybox(t), "nsenter", "-t", fmt.Sprint(a), "-p", "-m", "-r",
		"/bin/busybox", "unshare", "-p", "-f", "/bin/busybox", "sleep", "100000")
	nested.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := nested.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		nested.Process.Kill()
		nested.Wait()
	})
	houseNS, err := procfs.NSInode(a, "pid")
	if err != nil {
		t.Fatal(err)
	}
	// No deadline: the nested sleep appears, or go test's -timeout ends the test.
	for found := false; !found; time.Sleep(10 * time.Millisecond) {
		pids, _ := procfs.ListPIDs(fmt.Sprintf("/proc/%d/root/proc", a))
		for _, pid := range pids {
			var st unix.Stat_t
			err := unix.Stat(fmt.Sprintf("/proc/%d/root/proc/%d/ns/pid", a, pid), &st)
			found = found || err == nil && st.Ino != houseNS
		}
	}

	assertResult(t, run(env, "pid-isolated", "name", "rumah-satu", "other", "rumah-dua"), true,
		"all in its own PID namespace")
}

func TestOwnProcFails(t *testing.T) {
	env := newRootEnv(t)
	for i, tt := range []struct {
		proc, evidence string
	}{
		{"host", "is another process, not the house's own"},
		{"none", "nothing is mounted at /proc in house"},
	} {
		t.Run(tt.proc, func(t *testing.T) {
			name := fmt.Sprintf("rumah-proc-%d", i)
			fakeHouse{hostname: "proc", proc: tt.proc}.start(t, env.Runtime, name)
			assertResult(t, run(env, "own-proc", "name", name), false, tt.evidence)
		})
	}
}

func TestFilePrivateFailures(t *testing.T) {
	env := newRootEnv(t)
	a := fakeHouse{hostname: "satu"}.start(t, env.Runtime, "rumah-satu")
	b := fakeHouse{hostname: "dua"}.start(t, env.Runtime, "rumah-dua")
	letter := fmt.Sprintf("/tmp/rt-lab-surat-%d.txt", os.Getpid())
	params := []string{"name", "rumah-satu", "other", "rumah-dua", "path", letter}

	assertResult(t, run(env, "file-private", params...), false, "the file is missing in house rumah-satu")

	writeInHouse(t, a, letter, "salam\n")
	writeInHouse(t, b, letter, "juga\n")
	assertResult(t, run(env, "file-private", params...), false, "in house rumah-dua, there is a file at "+letter)

	if err := os.Remove(fmt.Sprintf("/proc/%d/root%s", b, letter)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, letter, "host\n")
	t.Cleanup(func() { os.Remove(letter) })
	assertResult(t, run(env, "file-private", params...), false, "on the host, there is a file at "+letter)
}

// TestFilePrivateStaysInHouseRoot plants an absolute symbolic link in the other
// house that points at a host folder holding the file. Resolved from the host,
// the link would find the file; resolved inside the house, it finds nothing.
func TestFilePrivateStaysInHouseRoot(t *testing.T) {
	env := newRootEnv(t)
	a := fakeHouse{hostname: "satu"}.start(t, env.Runtime, "rumah-satu")
	b := fakeHouse{hostname: "dua"}.start(t, env.Runtime, "rumah-dua")
	hostDir := t.TempDir()
	writeFile(t, filepath.Join(hostDir, "surat.txt"), "host\n")
	dir := fmt.Sprintf("/tmp/rt-lab-pos-%d", os.Getpid())
	writeInHouse(t, a, dir+"/surat.txt", "salam\n")
	if err := os.Symlink(hostDir, fmt.Sprintf("/proc/%d/root%s", b, dir)); err != nil {
		t.Fatal(err)
	}

	res := run(env, "file-private", "name", "rumah-satu", "other", "rumah-dua", "path", dir+"/surat.txt")
	assertResult(t, res, true, "in house rumah-dua, "+dir+"/surat.txt does not exist")
}

// TestSysvipcFollowsReader pins the kernel behaviour houseQueues relies on:
// /proc/sysvipc/msg lists the reader's IPC namespace, not the one of the house
// whose proc mount it is on.
func TestSysvipcFollowsReader(t *testing.T) {
	env := newRootEnv(t)
	a := fakeHouse{hostname: "satu"}.start(t, env.Runtime, "rumah-satu")
	key := randomKey()
	makeQueue(t, a, key)

	fromHost, err := readQueues(fmt.Sprintf("/proc/%d/root/proc/sysvipc/msg", a))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range fromHost {
		if q.Key == key {
			t.Errorf("the host reads the house's queue %s through the house's proc mount", formatKey(key))
		}
	}
	inside, _, err := houseQueues(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(inside) != 1 || inside[0].Key != key {
		t.Errorf("queues in the house's IPC namespace = %+v, want one with key %s", inside, formatKey(key))
	}
}

func TestIPCQueuePrivateComparesKeys(t *testing.T) {
	env := newRootEnv(t)
	a := fakeHouse{hostname: "satu"}.start(t, env.Runtime, "rumah-satu")
	b := fakeHouse{hostname: "dua"}.start(t, env.Runtime, "rumah-dua")
	key := randomKey()
	makeQueue(t, a, key)
	makeQueue(t, b, key^0x5a5a)
	params := []string{"name", "rumah-satu", "other", "rumah-dua"}
	assertResult(t, run(env, "ipc-queue-private", params...), true, "house rumah-dua has none of the queues")

	makeQueue(t, b, key)
	assertResult(t, run(env, "ipc-queue-private", params...), false,
		"house rumah-dua has a queue with the same key: "+formatKey(key))
}

// userHouse starts a fake house whose namespaces are owned by a new user
// namespace that maps uids and gids 0 to 65535 inside to hostID onwards. Its
// PID 1 runs as hostID on the host. The house is killed when the test ends.
func userHouse(t *testing.T, r *runtime.Runtime, name string, hostID int) int {
	t.Helper()
	busybox := hostBusybox(t)
	base := buildFakeBase(t, r, busybox)
	dir := r.ContainerDir(name)
	upper, work, rootfs := r.UpperDir(name), filepath.Join(dir, "work"), filepath.Join(dir, "rootfs")
	for _, d := range []string{upper, work, rootfs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Root of the new user namespace may write only where its host uid may:
	// the overlay's upper and work folders become its own, and every folder
	// above them, all made by this test, becomes searchable.
	for _, d := range []string{upper, work} {
		if err := os.Chown(d, hostID, hostID); err != nil {
			t.Fatal(err)
		}
	}
	for d := dir; d != "/" && strings.HasPrefix(d, os.TempDir()+"/"); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	script := strings.Join([]string{
		"set -e",
		"mount --make-rprivate /",
		fmt.Sprintf("mount -t overlay overlay -o lowerdir=%s,upperdir=%s,workdir=%s,userxattr %s", base, upper, work, rootfs),
		"mount -t proc proc " + rootfs + "/proc",
		"hostname " + name,
		"ip link set lo up",
		"exec chroot " + rootfs + " /bin/init",
	}, "\n")
	var out bytes.Buffer
	cmd := exec.Command(busybox, "sh", "-c", script)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS |
			syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: hostID, Size: 65536}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: hostID, Size: 65536}},
		Credential:  &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true},
		Pdeathsig:   syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := killOnCleanup(t, cmd)
	pid := cmd.Process.Pid
	for {
		if st, err := procfs.ReadStat(pid); err == nil && st.Comm == "init" {
			return pid
		}
		select {
		case <-exited:
			t.Fatalf("user namespace house %s exited during setup: %s", name, out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestUserMapped(t *testing.T) {
	env := newRootEnv(t)
	const hostID = 2000000000
	userHouse(t, env.Runtime, "rumah-tamu", hostID)
	fakeHouse{hostname: "biasa"}.start(t, env.Runtime, "rumah-biasa")

	res := run(env, "user-mapped", "name", "rumah-tamu")
	assertResult(t, res, true, fmt.Sprintf("root inside the house is host uid %d", hostID))
	assertResult(t, res, true, fmt.Sprintf("(inside -> host, count): 0 -> %d (65536)", hostID))
	assertResult(t, run(env, "user-mapped", "name", "rumah-biasa"), false,
		"shares the host's user namespace, so root inside the house is root on the host")
}

func TestUserRangesApart(t *testing.T) {
	env := newRootEnv(t)
	userHouse(t, env.Runtime, "rumah-satu", 2000000000)
	userHouse(t, env.Runtime, "rumah-dua", 2000065536)
	userHouse(t, env.Runtime, "rumah-kembar", 2000032768)
	fakeHouse{hostname: "biasa"}.start(t, env.Runtime, "rumah-biasa")

	assertResult(t, run(env, "user-ranges-apart", "name", "rumah-satu", "other", "rumah-dua"), true,
		"their residents are different people on the host")
	assertResult(t, run(env, "user-ranges-apart", "name", "rumah-satu", "other", "rumah-kembar"), false,
		"both houses map host uids 2000032768-2000065535")
	assertResult(t, run(env, "user-ranges-apart", "name", "rumah-satu", "other", "rumah-biasa"), false,
		"house rumah-biasa shares the host's user namespace")
}

func TestUserMappedRootToRoot(t *testing.T) {
	env := newRootEnv(t)
	userHouse(t, env.Runtime, "rumah-akar", 0)
	assertResult(t, run(env, "user-mapped", "name", "rumah-akar"), false,
		"maps uid 0 inside to uid 0 on the host")
}

func TestCapsReducedFakeHouseFails(t *testing.T) {
	env := newRootEnv(t)
	fakeHouse{hostname: "kuasa"}.start(t, env.Runtime, "rumah-kuasa")
	res := run(env, "caps-reduced", "name", "rumah-kuasa")
	assertResult(t, res, false, "can still gain capabilities that reach beyond the house: dac_read_search, sys_module, sys_rawio")
	assertResult(t, res, false, "sys_admin")
}

// TestIsolationChecksOnRuntimeHouses grades two houses of the real runtime.
func TestIsolationChecksOnRuntimeHouses(t *testing.T) {
	env := newRuntimeEnv(t)
	r := env.Runtime
	a := createAndStart(t, r, "rumah-bandung", "bandung")
	createAndStart(t, r, "rumah-surabaya", "surabaya")
	letter := fmt.Sprintf("/tmp/rt-lab-surat-%d.txt", os.Getpid())
	var out bytes.Buffer
	code, err := r.Exec("rumah-bandung", runtime.Process{Args: []string{"sh", "-c", "echo salam > " + letter},
		Stdout: &out, Stderr: &out})
	if err != nil || code != 0 {
		t.Fatalf("write the letter: exit %d, %v: %s", code, err, out.String())
	}
	makeQueue(t, a.PID, randomKey())

	pair := []string{"name", "rumah-bandung", "other", "rumah-surabaya"}
	tests := []struct {
		check    string
		params   []string
		pass     bool
		evidence string
	}{
		{"pid-isolated", pair, true, "all in its own PID namespace"},
		{"own-proc", []string{"name", "rumah-bandung"}, true, "so that /proc belongs to the house's own PID namespace"},
		{"own-proc", []string{"name", "rumah-surabaya"}, true, "so that /proc belongs to the house's own PID namespace"},
		{"file-private", append(pair, "path", letter), true, "in house rumah-bandung, " + letter + " exists"},
		{"ns-separate", append(pair, "ns", "uts"), true, "uts namespace: house rumah-bandung"},
		{"ns-separate", append(pair, "ns", "net"), true, "net namespace: house rumah-bandung"},
		{"ipc-queue-private", pair, true, "house rumah-surabaya has none of the queues"},
		{"caps-reduced", []string{"name", "rumah-bandung"}, true, "none of these is left: dac_read_search"},
		{"user-mapped", []string{"name", "rumah-bandung"}, true, "root inside the house is host uid 100000"},
		{"user-mapped", []string{"name", "rumah-surabaya"}, true, "root inside the house is host uid 165536"},
		{"user-ranges-apart", pair, true, "their residents are different people on the host"},
	}
	for _, tt := range tests {
		t.Run(tt.check, func(t *testing.T) {
			assertResult(t, run(env, tt.check, tt.params...), tt.pass, tt.evidence)
		})
	}
}
