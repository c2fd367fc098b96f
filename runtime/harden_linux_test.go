package runtime

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/network"
)

// startHostSleep starts a sleep on the host, outside every house, and returns
// its PID and start time. It is killed when the test ends.
func startHostSleep(t *testing.T) (int, uint64) {
	t.Helper()
	cmd := exec.Command("sleep", "100000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	st, err := procfs.ReadStat(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid, st.StartTime
}

// pointStateAt rewrites the PID fields of house name's state file, as a user
// editing state.json would.
func pointStateAt(t *testing.T, r *Runtime, name string, pid int, start uint64) {
	t.Helper()
	c, err := r.load(name)
	if err != nil {
		t.Fatal(err)
	}
	c.PID, c.PIDStart = pid, start
	if err := r.save(c); err != nil {
		t.Fatal(err)
	}
}

func TestEditedPIDIsNeverSignalled(t *testing.T) {
	r := newTestRuntime(t)
	house := createOnSubnet(t, r, "rumah-asli", testSubnet(t, r), true)
	sleepPID, sleepStart := startHostSleep(t)

	pointStateAt(t, r, house.Name, sleepPID, sleepStart)
	got, err := r.Get(house.Name)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusStopped {
		t.Errorf("status with the record on a host process = %s, want stopped", got.Status)
	}
	if code, err := r.Exec(house.Name, Process{Args: []string{"true"}}); !usererr.Is(err, "ErrNotRunning") {
		t.Errorf("exec with the record on a host process: status %d, %v; want ErrNotRunning", code, err)
	}

	// Start finds the house's running init instead of mounting its upper
	// folder a second time.
	started, err := r.Start(house.Name)
	if err != nil {
		t.Fatal(err)
	}
	if started.PID != house.PID {
		t.Errorf("start recorded PID %d, want the running init %d", started.PID, house.PID)
	}
	if pid, _, _, _ := r.findInit(house.Name); pid != house.PID {
		t.Errorf("init on the overlay is PID %d, want %d", pid, house.PID)
	}

	pointStateAt(t, r, house.Name, sleepPID, sleepStart)
	if err := r.Stop(house.Name, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if !procfs.Alive(sleepPID, sleepStart) {
		t.Error("stop killed the host process that the edited state file named")
	}
	if procfs.Alive(house.PID, house.PIDStart) {
		t.Errorf("the house's init %d still runs after stop", house.PID)
	}
	if got, _ := r.Get(house.Name); got.PID != 0 {
		t.Errorf("stop kept PID %d in the state file", got.PID)
	}

	// A stopped house whose record names a host process stays stopped, and
	// delete leaves the process alone.
	pointStateAt(t, r, house.Name, sleepPID, sleepStart)
	if err := r.Delete(house.Name, false); err != nil {
		t.Fatal(err)
	}
	if !procfs.Alive(sleepPID, sleepStart) {
		t.Error("delete killed the host process that the edited state file named")
	}
}

func TestVerifyInitRejects(t *testing.T) {
	r := newTestRuntime(t)
	subnet := testSubnet(t, r)
	a := createOnSubnet(t, r, "rumah-satu", subnet, true)
	b := createOnSubnet(t, r, "rumah-dua", subnet, true)
	sleepPID, sleepStart := startHostSleep(t)

	tests := []struct {
		name  string
		pid   int
		start uint64
		want  string
	}{
		{"host process", sleepPID, sleepStart, "not PID 1"},
		{"wrong start time", a.PID, a.PIDStart + 1, "no live process"},
		{"another house", b.PID, b.PIDStart, "not the overlay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := verifyInit(tt.pid, tt.start, r.UpperDir(a.Name))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("verifyInit: %v, want an error with %q", err, tt.want)
			}
		})
	}
	if err := verifyInit(a.PID, a.PIDStart, r.UpperDir(a.Name)); err != nil {
		t.Errorf("verifyInit of the real init: %v", err)
	}
}

func TestBrokenStateFile(t *testing.T) {
	r := newTestRuntime(t)
	c := createOnSubnet(t, r, "rumah-rusak", testSubnet(t, r), true)
	n, err := r.Network()
	if err != nil {
		t.Fatal(err)
	}
	hostLink := allocationOf(t, r, c.Name).HostLink()
	bridge := n.Config().Bridge
	if err := os.WriteFile(r.statePath(c.Name), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}

	cs, err := r.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Name != c.Name || cs[0].Status != StatusBroken || cs[0].Err == nil {
		t.Fatalf("list = %+v, want %s as broken with its error", cs, c.Name)
	}
	if _, err := r.Get(c.Name); !usererr.Is(err, "ErrContainerBroken") {
		t.Errorf("get: %v, want ErrContainerBroken", err)
	}
	_, err = r.Create(CreateOptions{Name: c.Name})
	if !usererr.Is(err, "ErrContainerExistsBroken") || usererr.ExitCode(err) != usererr.ExitUsage {
		t.Errorf("create over a broken house: %v, want usage error ErrContainerExistsBroken", err)
	}
	// The command line adds the fix (recover-state, then delete --force); the
	// runtime's error names the damaged file.
	if !strings.Contains(err.Error(), r.statePath(c.Name)) {
		t.Errorf("create error %q does not name the state file", err)
	}
	if err := r.Delete(c.Name, false); !usererr.Is(err, "ErrContainerBroken") {
		t.Errorf("delete without force: %v, want ErrContainerBroken", err)
	}
	if !procfs.Alive(c.PID, c.PIDStart) {
		t.Fatal("the refused delete stopped the house")
	}

	if err := r.Delete(c.Name, true); err != nil {
		t.Fatalf("delete --force of a broken house: %v", err)
	}
	if procfs.Alive(c.PID, c.PIDStart) {
		t.Error("init of the broken house still runs after delete --force")
	}
	if _, err := os.Stat(r.ContainerDir(c.Name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("folder left after delete --force: %v", err)
	}
	checkNoGroup(t, r, c.Name, "after delete --force")
	for _, name := range []string{hostLink, bridge} {
		if linkExists(t, name) {
			t.Errorf("link %s left after delete --force", name)
		}
	}
	if _, ok, _ := n.Allocation(c.Name); ok {
		t.Error("the broken house's address was not released")
	}
}

// makeHalfBuilt leaves the folder of house name as a create killed before it
// wrote state.json would.
func makeHalfBuilt(t *testing.T, r *Runtime, name string) {
	t.Helper()
	for _, d := range []string{"upper/etc", "work", "rootfs"} {
		if err := os.MkdirAll(filepath.Join(r.ContainerDir(name), d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(r.ContainerDir(name), ".state.json.tmp-1234"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestHalfBuiltFolder(t *testing.T) {
	r := newTestRuntime(t)
	subnet := testSubnet(t, r)
	const name = "rumah-setengah"
	makeHalfBuilt(t, r, name)

	if cs, err := r.List(); err != nil || len(cs) != 0 {
		t.Errorf("list = %v, %v; want no houses", cs, err)
	}
	if _, err := r.Get(name); !usererr.Is(err, "ErrContainerNotFound") {
		t.Errorf("get: %v, want ErrContainerNotFound", err)
	}
	if err := r.Delete(name, false); !usererr.Is(err, "ErrContainerIncomplete") {
		t.Errorf("delete without force: %v, want ErrContainerIncomplete", err)
	}

	t.Run("live mount blocks create", func(t *testing.T) {
		rootfs := r.rootfsDir(name)
		if err := unix.Mount("tmpfs", rootfs, "tmpfs", 0, "size=64k"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Unmount(rootfs, 0) })
		_, err := r.Create(CreateOptions{Name: name, Subnet: subnet})
		if !usererr.Is(err, "ErrContainerFolderMounted") || usererr.ExitCode(err) != usererr.ExitUsage {
			t.Errorf("create over a mounted folder: %v, want usage error ErrContainerFolderMounted", err)
		}
		if mounts, _ := hostMountsUnder(r.ContainerDir(name)); len(mounts) != 1 {
			t.Errorf("mounts under the folder after the refused create: %v, want the tmpfs", mounts)
		}
		if err := r.Delete(name, true); err != nil {
			t.Fatalf("delete --force: %v", err)
		}
		if mounts, _ := hostMountsUnder(r.ContainerDir(name)); len(mounts) != 0 {
			t.Errorf("mounts left after delete --force: %v", mounts)
		}
		if _, err := os.Stat(r.ContainerDir(name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("folder left after delete --force: %v", err)
		}
	})

	t.Run("create cleans up", func(t *testing.T) {
		makeHalfBuilt(t, r, name)
		if _, err := r.Create(CreateOptions{Name: name, Subnet: subnet}); err != nil {
			t.Fatalf("create over a half-built folder: %v", err)
		}
		if _, err := os.Stat(filepath.Join(r.ContainerDir(name), ".state.json.tmp-1234")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("leftover temporary state file survived the create: %v", err)
		}
		if _, err := r.Start(name); err != nil {
			t.Fatal(err)
		}
	})
}

func TestStopSkipsIdleWait(t *testing.T) {
	r := newTestRuntime(t)
	c := createOnSubnet(t, r, "rumah-sepi", testSubnet(t, r), true)
	if err := r.Stop(c.Name, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	log, err := os.ReadFile(r.logPath(c.Name))
	if err != nil {
		t.Fatal(err)
	}
	// busybox init logs SIGTERM to the family, sleeps a second, then logs
	// SIGKILL: the second line means stop waited for nothing.
	if !bytes.Contains(log, []byte("Sent SIGTERM to all processes")) {
		t.Errorf("init.log shows no SIGTERM shutdown:\n%s", log)
	}
	if bytes.Contains(log, []byte("Sent SIGKILL to all processes")) {
		t.Errorf("stop waited for init's sleep with no family left:\n%s", log)
	}
}

func TestStopWaitsForStubbornFamily(t *testing.T) {
	r := newTestRuntime(t)
	c := createOnSubnet(t, r, "rumah-bandel", testSubnet(t, r), true)
	// The ignored SIGTERM is inherited by the sleeps, so only init's SIGKILL
	// ends this family.
	stubborn := "(trap '' TERM; touch /root/trap-set; while :; do sleep 1; done) >/dev/null 2>&1 &"
	if _, code := execOutput(t, r, c.Name, "sh", "-c", stubborn); code != 0 {
		t.Fatalf("start the stubborn family: exit %d", code)
	}
	// sh -c returns before the background subshell has set its trap, and a
	// SIGTERM from init before that would end it. The go test timeout ends a
	// subshell that never gets there.
	for {
		if _, code := execOutput(t, r, c.Name, "test", "-e", "/root/trap-set"); code == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := r.Stop(c.Name, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	log, err := os.ReadFile(r.logPath(c.Name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(log, []byte("Sent SIGKILL to all processes")) {
		t.Errorf("stop ended init before init sent SIGKILL to a family that ignores SIGTERM:\n%s", log)
	}
}

// BenchmarkStopIdleHouse measures Stop of a started house with no family.
// Without the early SIGKILL it takes about 2 s, busybox init's two sleeps.
func BenchmarkStopIdleHouse(b *testing.B) {
	r := newTestRuntime(b)
	subnet, err := network.FreeSubnet(r.Root())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := r.Create(CreateOptions{Name: "rumah-bangku", Subnet: subnet.String()}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		if _, err := r.Start("rumah-bangku"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := r.Stop("rumah-bangku", 10*time.Second); err != nil {
			b.Fatal(err)
		}
	}
}
