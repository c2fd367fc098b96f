package checker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/locales"
	"github.com/rt-lab/rt-lab/runtime"
)

func TestMain(m *testing.M) {
	runtime.MaybeInit()
	testutil.ExitUnlessStatic()
	os.Exit(m.Run())
}

// fakeHouse describes a container built by the test itself, without the runtime:
// the host's busybox mounts an overlay in new namespaces and chroots into it. The
// checker must grade it from the kernel alone.
type fakeHouse struct {
	hostname   string
	sharedNet  bool   // stay in the host's network namespace
	proc       string // "own" (default), "none" or "host"
	loDown     bool   // leave lo down
	initArgs   string // command run as PID 1 inside; default busybox init
	waitMember string // comm of a process to wait for before returning
}

const fakeBase = "fake-base"

// hostBusybox returns a static busybox on the host, or ends the test.
func hostBusybox(t *testing.T) string {
	t.Helper()
	for _, path := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if interp, err := elfInterpreter(path); err == nil && interp == "" {
			return path
		}
	}
	if os.Getenv("RT_LAB_REQUIRE_ROOT") != "" {
		t.Fatal("no static busybox on this host (install busybox-static)")
	}
	t.Skip("no static busybox on this host (install busybox-static)")
	return ""
}

// buildFakeBase writes a busybox base under root/base like the runtime's.
func buildFakeBase(t *testing.T, r *runtime.Runtime, busybox string) string {
	t.Helper()
	base := r.BaseDir(fakeBase)
	if _, err := os.Stat(base); err == nil {
		return base
	}
	for _, d := range []string{"bin", "etc", "proc", "dev", "tmp"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "bin", "busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, applet := range []string{"sh", "init", "sleep", "ps", "hostname"} {
		if err := os.Symlink("busybox", filepath.Join(base, "bin", applet)); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(base, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\n")
	writeFile(t, filepath.Join(base, "etc", "inittab"), "::respawn:/bin/sleep 100000\n")
	return base
}

// writeState records container name as the runtime would, with pid and start.
func writeState(t *testing.T, r *runtime.Runtime, name, hostname string, pid int, start uint64) {
	t.Helper()
	c := runtime.Container{Version: runtime.StateVersion, Name: name, Hostname: hostname, Base: fakeBase,
		Created: time.Now(), PID: pid, PIDStart: start}
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.ContainerDir(name), "state.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// start runs the fake house name and returns the host PID of its PID 1. The house
// is killed when the test ends.
func (f fakeHouse) start(t *testing.T, r *runtime.Runtime, name string) int {
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
	writeFile(t, filepath.Join(upper, "etc", "hostname"), f.hostname+"\n")

	script := []string{
		"set -e",
		"mount --make-rprivate /",
		fmt.Sprintf("mount -t overlay overlay -o lowerdir=%s,upperdir=%s,workdir=%s %s", base, upper, work, rootfs),
		"hostname " + f.hostname,
	}
	switch f.proc {
	case "", "own":
		script = append(script, "mount -t proc proc "+rootfs+"/proc")
	case "host":
		script = append(script, "mount --rbind /proc "+rootfs+"/proc")
	}
	if !f.loDown && !f.sharedNet {
		script = append(script, "ip link set lo up")
	}
	initArgs := f.initArgs
	if initArgs == "" {
		initArgs = "/bin/init"
	}
	script = append(script, "exec chroot "+rootfs+" "+initArgs)

	flags := syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC
	if !f.sharedNet {
		flags |= syscall.CLONE_NEWNET
	}
	var out bytes.Buffer
	cmd := exec.Command(busybox, "sh", "-c", strings.Join(script, "\n"))
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: uintptr(flags), Pdeathsig: syscall.SIGKILL}
	// Pdeathsig fires when the thread that forked the child exits, and the
	// checker ends threads on purpose after setns, so fork from a thread that
	// stays locked until the test ends.
	started, release := make(chan error), make(chan struct{})
	go func() {
		goruntime.LockOSThread()
		started <- cmd.Start()
		<-release
		goruntime.UnlockOSThread()
	}()
	t.Cleanup(func() { close(release) })
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	// Killing a pid namespace's init kills every process in it, and the
	// namespace's mounts go with its last process.
	exited := killOnCleanup(t, cmd)

	pid := cmd.Process.Pid
	wantComm := filepath.Base(strings.Fields(initArgs)[0])
	ready := func() bool {
		st, err := procfs.ReadStat(pid)
		if err != nil || st.Comm != wantComm {
			return false
		}
		if f.waitMember == "" {
			return true
		}
		ns, err := procfs.NSInode(pid, "pid")
		if err != nil {
			return false
		}
		members, _ := family(ns)
		for _, m := range members {
			if m.Comm == f.waitMember && m.InnerPID > 1 {
				return true
			}
		}
		return false
	}
	// No deadline: a house that never gets ready exits (and fails the test here)
	// or hangs until go test's own -timeout.
	for !ready() {
		select {
		case <-exited:
			t.Fatalf("fake house %s exited during setup: %s", name, out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return pid
}

func startTime(t *testing.T, pid int) uint64 {
	t.Helper()
	st, err := procfs.ReadStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	return st.StartTime
}

func newRootEnv(t *testing.T) *Env {
	t.Helper()
	testutil.RequireRoot(t)
	return newTestEnv(t, locales.EN)
}

func run(env *Env, check string, kv ...string) Result {
	with := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		with[kv[i]] = kv[i+1]
	}
	return Run(env, lessons.Check{Check: check, With: with})
}

func assertResult(t *testing.T, res Result, wantPass bool, evidence string) {
	t.Helper()
	all := strings.Join(res.Evidence, "\n")
	if res.Passed != wantPass {
		t.Errorf("passed = %v, want %v; evidence:\n%s\nexpected: %s", res.Passed, wantPass, all, res.Expected)
	}
	if !strings.Contains(all, evidence) {
		t.Errorf("evidence does not contain %q:\n%s", evidence, all)
	}
	if !res.Passed && res.Expected == "" {
		t.Error("failed result has no Expected text")
	}
	if strings.Contains(all+res.Expected, "<no value>") {
		t.Errorf("a message template field is missing:\n%s\n%s", all, res.Expected)
	}
}

func TestFakeHouseAllChecksPass(t *testing.T) {
	env := newRootEnv(t)
	pid := fakeHouse{hostname: "palsu", waitMember: "sleep"}.start(t, env.Runtime, "rumah-palsu")
	// No state.json: the house is found by scanning /proc.
	tests := []struct {
		check    string
		params   []string
		evidence string
	}{
		{"house-running", nil, fmt.Sprintf("host PID %d (init) is PID 1 in its own PID namespace", pid)},
		{"family-member", []string{"comm", "sleep"}, "sleep runs in the house as PID"},
		{"ps-shows-family", nil, "both lists match"},
		{"hostname", []string{"hostname", "palsu"}, "inside the house (UTS namespace uts:["},
		{"own-namespace", []string{"ns", "pid"}, "pid namespace: house pid:["},
		{"own-namespace", []string{"ns", "net"}, "net namespace"},
		{"own-namespace", []string{"ns", "uts"}, "uts namespace"},
		{"own-namespace", []string{"ns", "ipc"}, "ipc namespace"},
		{"own-namespace", []string{"ns", "mnt"}, "mnt namespace"},
		{"own-links", nil, "lo (UP)"},
	}
	for _, tt := range tests {
		t.Run(tt.check+strings.Join(tt.params, "-"), func(t *testing.T) {
			res := run(env, tt.check, append([]string{"name", "rumah-palsu"}, tt.params...)...)
			assertResult(t, res, true, tt.evidence)
		})
	}
	t.Run("no record noted", func(t *testing.T) {
		assertResult(t, run(env, "house-running", "name", "rumah-palsu"), true, "has no record of house rumah-palsu")
	})
}

func TestFakeHouseBuilt(t *testing.T) {
	env := newRootEnv(t)
	r := env.Runtime
	buildFakeBase(t, r, hostBusybox(t))
	writeFile(t, filepath.Join(r.UpperDir("rumah-palsu"), "etc", "hostname"), "palsu\n")
	writeState(t, r, "rumah-palsu", "palsu", 0, 0)

	assertResult(t, run(env, "house-built", "name", "rumah-palsu", "hostname", "palsu"), true,
		"is a statically linked ELF executable")
	assertResult(t, run(env, "house-built", "name", "rumah-palsu", "hostname", "lain"), false,
		"but the house should be named lain")

	writeFile(t, filepath.Join(r.UpperDir("rumah-palsu"), "etc", "passwd"), "daemon:x:1:1::/:/bin/false\n")
	assertResult(t, run(env, "house-built", "name", "rumah-palsu", "hostname", "palsu"), false,
		"has no root user with UID 0")

	writeELF(t, filepath.Join(r.BaseDir(fakeBase), "bin", "busybox"), 2, "/lib64/ld-linux-x86-64.so.2")
	assertResult(t, run(env, "house-built", "name", "rumah-palsu", "hostname", "palsu"), false,
		"is dynamically linked (interpreter /lib64/ld-linux-x86-64.so.2)")
}

func TestFakeHouseRecordVerified(t *testing.T) {
	env := newRootEnv(t)
	pid := fakeHouse{hostname: "palsu"}.start(t, env.Runtime, "rumah-palsu")
	writeState(t, env.Runtime, "rumah-palsu", "palsu", pid, startTime(t, pid))
	assertResult(t, run(env, "house-running", "name", "rumah-palsu"), true,
		fmt.Sprintf("record names host PID %d, and the kernel confirms it", pid))
}

func TestFakeHouseEditedRecordStillFindsHouse(t *testing.T) {
	env := newRootEnv(t)
	pid := fakeHouse{hostname: "palsu"}.start(t, env.Runtime, "rumah-palsu")
	self := os.Getpid()
	tests := []struct {
		name     string
		pid      int
		start    uint64
		evidence string
	}{
		{"host process", self, startTime(t, self), "not PID 1 of a PID namespace of its own"},
		{"wrong start time", pid, startTime(t, pid) + 1, "no live process"},
		{"dead pid", 0x3fffff, 1, "no live process"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeState(t, env.Runtime, "rumah-palsu", "palsu", tt.pid, tt.start)
			res := run(env, "house-running", "name", "rumah-palsu")
			assertResult(t, res, true, tt.evidence)
			assertResult(t, res, true, fmt.Sprintf("host PID %d (init) is PID 1", pid))
		})
	}
}

func TestFakeHouseFailures(t *testing.T) {
	env := newRootEnv(t)
	cases := []struct {
		name     string
		house    fakeHouse
		check    string
		params   []string
		evidence string
	}{
		{"pid 1 is not init", fakeHouse{initArgs: "/bin/sleep 100000"}, "house-running", nil,
			"PID 1 runs sleep, not init"},
		{"no such member", fakeHouse{}, "family-member", []string{"comm", "nginx"},
			"no process named nginx other than PID 1"},
		{"pid 1 is not a member", fakeHouse{initArgs: "/bin/sleep 100000"}, "family-member", []string{"comm", "sleep"},
			"no process named sleep other than PID 1"},
		{"proc not mounted", fakeHouse{proc: "none"}, "ps-shows-family", nil, "lists no processes"},
		{"host proc", fakeHouse{proc: "host"}, "ps-shows-family", nil, "lists PIDs outside its family"},
		{"wrong hostname", fakeHouse{}, "hostname", []string{"hostname", "lain"}, "the hostname is palsu, not lain"},
		{"shared net", fakeHouse{sharedNet: true}, "own-namespace", []string{"ns", "net"},
			"the house shares the host's net namespace"},
		{"shared net links", fakeHouse{sharedNet: true}, "own-links", nil, "shares the host's network namespace"},
		{"lo down", fakeHouse{loDown: true}, "own-links", nil, "lo is down"},
	}
	for i, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("rumah-gagal-%d", i)
			tt.house.hostname = "palsu"
			tt.house.start(t, env.Runtime, name)
			res := run(env, tt.check, append([]string{"name", name}, tt.params...)...)
			assertResult(t, res, false, tt.evidence)
		})
	}
}

func TestStoppedHouseNeverPasses(t *testing.T) {
	env := newRootEnv(t)
	other := fakeHouse{hostname: "lain"}.start(t, env.Runtime, "rumah-lain")
	buildFakeBase(t, env.Runtime, hostBusybox(t))
	writeFile(t, filepath.Join(env.Runtime.UpperDir("rumah-mati"), "etc", "hostname"), "mati\n")
	self := os.Getpid()

	tests := []struct {
		name     string
		pid      int
		start    uint64
		evidence string
	}{
		{"stopped", 0, 0, "records house rumah-mati as stopped"},
		{"host process", self, startTime(t, self), "not PID 1 of a PID namespace of its own"},
		{"host process wrong start", self, startTime(t, self) + 1, "no live process"},
		{"another house", other, startTime(t, other), "not the house's overlay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeState(t, env.Runtime, "rumah-mati", "mati", tt.pid, tt.start)
			for _, check := range []string{"house-running", "ps-shows-family", "own-links"} {
				res := run(env, check, "name", "rumah-mati")
				assertResult(t, res, false, tt.evidence)
				assertResult(t, res, false, "house rumah-mati is not running")
			}
		})
	}
}

// killOnCleanup reaps the started cmd in the background and, when the test
// ends, kills it and waits until it has exited. The returned channel is closed
// once cmd has exited.
func killOnCleanup(t *testing.T, cmd *exec.Cmd) <-chan struct{} {
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	return exited
}
