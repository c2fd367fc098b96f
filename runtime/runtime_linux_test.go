package runtime

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

func TestMain(m *testing.M) {
	MaybeInit()
	testutil.ExitUnlessStatic()
	os.Exit(m.Run())
}

// newTestRuntime returns a runtime on a fresh root folder whose containers are
// deleted when the test ends, even when it fails.
func newTestRuntime(t testing.TB) *Runtime {
	t.Helper()
	testutil.RequireRoot(t)
	r, err := New(Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cs, _ := r.List()
		for _, c := range cs {
			if err := r.Delete(c.Name, true); err != nil {
				t.Errorf("cleanup: delete %s: %v", c.Name, err)
			}
		}
		// The last delete removes the bridge; this catches a test that
		// failed before it.
		if err := r.RemoveBridge(true); err != nil {
			t.Errorf("cleanup: remove bridge: %v", err)
		}
		if n, err := r.Network(); err == nil {
			if _, err := net.InterfaceByName(n.Config().Bridge); err == nil {
				t.Errorf("cleanup: bridge %s is left", n.Config().Bridge)
			}
		}
	})
	return r
}

func execOutput(t *testing.T, r *Runtime, name string, args ...string) (string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code, err := r.Exec(name, Process{Args: args, Stdout: &out, Stderr: &errOut})
	if err != nil {
		t.Fatalf("exec %v in %s: %v (stderr %q)", args, name, err, errOut.String())
	}
	return out.String(), code
}

func TestLifecycle(t *testing.T) {
	r := newTestRuntime(t)
	if _, err := r.Create(CreateOptions{Name: "rumah-uji", Hostname: "uji"}); err != nil {
		t.Fatal(err)
	}
	c, err := r.Start("rumah-uji")
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != StatusRunning {
		t.Fatalf("status after start = %s", c.Status)
	}
	nspid, err := procfs.NSpid(c.PID)
	if err != nil {
		t.Fatal(err)
	}
	if nspid[len(nspid)-1] != 1 {
		t.Errorf("init NSpid = %v, want last 1", nspid)
	}

	if out, _ := execOutput(t, r, "rumah-uji", "hostname"); strings.TrimSpace(out) != "uji" {
		t.Errorf("hostname inside = %q, want uji", out)
	}
	if out, _ := execOutput(t, r, "rumah-uji", "cat", "/proc/1/comm"); strings.TrimSpace(out) != "init" {
		t.Errorf("PID 1 comm = %q, want init", out)
	}
	out, _ := execOutput(t, r, "rumah-uji", "ps", "-o", "pid,comm")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 { // header, init, ps
		t.Errorf("ps inside shows %d lines, want header, init and ps:\n%s", len(lines), out)
	}
	if out, _ := execOutput(t, r, "rumah-uji", "ip", "-o", "link"); strings.Count(out, "\n") != 2 ||
		!strings.Contains(out, "lo:") || !strings.Contains(out, "eth0@") {
		t.Errorf("links inside = %q, want lo and eth0", out)
	}
	if _, code := execOutput(t, r, "rumah-uji", "sh", "-c", "exit 7"); code != 7 {
		t.Errorf("exit status = %d, want 7", code)
	}
	if code, err := r.Exec("rumah-uji", Process{Args: []string{"no-such-command"}}); code != ExitNotFound || err == nil {
		t.Errorf("missing command: status %d, err %v; want %d and an error", code, err, ExitNotFound)
	}

	// Mounts stay inside the house.
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(mounts, []byte(r.Root())) {
		t.Errorf("host mountinfo mentions the house's root folder %s:\n%s", r.Root(), mounts)
	}

	if err := r.Stop("rumah-uji", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if procfs.Alive(c.PID, c.PIDStart) {
		t.Errorf("init %d still alive after stop", c.PID)
	}
	// busybox init logs its shutdown only when it handled SIGTERM itself, not when
	// the SIGKILL fallback ended it.
	if log, _ := os.ReadFile(r.logPath("rumah-uji")); !bytes.Contains(log, []byte("Sent SIGTERM to all processes")) {
		t.Errorf("init.log shows no SIGTERM shutdown:\n%s", log)
	}
	if got, _ := r.Get("rumah-uji"); got.Status != StatusStopped || got.PID != 0 {
		t.Errorf("after stop: status %s pid %d", got.Status, got.PID)
	}
	// Start again: the upper folder survives, so it is the same house.
	if _, err := r.Start("rumah-uji"); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete("rumah-uji", true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(r.ContainerDir("rumah-uji")); !os.IsNotExist(err) {
		t.Errorf("container folder left after delete: %v", err)
	}
}

func TestInitReapsZombies(t *testing.T) {
	r := newTestRuntime(t)
	if _, err := r.Create(CreateOptions{Name: "rumah-zombi"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start("rumah-zombi"); err != nil {
		t.Fatal(err)
	}
	// The shell exits at once, orphaning the sleeps to PID 1, which must reap them
	// when they end.
	execOutput(t, r, "rumah-zombi", "sh", "-c", "for i in 1 2 3; do sleep 0.2 & done")
	var out string
	for i := 0; i < 50; i++ {
		time.Sleep(100 * time.Millisecond)
		out, _ = execOutput(t, r, "rumah-zombi", "ps", "-o", "stat,comm")
		if !strings.Contains(out, "sleep") {
			break
		}
	}
	if strings.Contains(out, "Z") || strings.Contains(out, "sleep") {
		t.Errorf("orphans not reaped by PID 1:\n%s", out)
	}
}

func TestDeleteRunningNeedsForce(t *testing.T) {
	r := newTestRuntime(t)
	if _, err := r.Create(CreateOptions{Name: "rumah-paksa"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start("rumah-paksa"); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete("rumah-paksa", false); err == nil {
		t.Fatal("delete of a running house without force succeeded")
	}
	if _, err := os.Stat(filepath.Join(r.ContainerDir("rumah-paksa"), "state.json")); err != nil {
		t.Errorf("refused delete removed state: %v", err)
	}
}

func TestCreateRejectsDynamicBusybox(t *testing.T) {
	testutil.RequireRoot(t)
	notELF := filepath.Join(t.TempDir(), "busybox")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		busybox, wantErr string
	}{
		{"/bin/bash", "ErrBusyboxDynamic"}, // a dynamically linked ELF
		{notELF, "ErrBusyboxNotELF"},
		{"/nonexistent/busybox", "ErrBusyboxNotFound"},
	}
	for _, tt := range tests {
		root := t.TempDir()
		r, err := New(Options{Root: root, Busybox: tt.busybox})
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Create(CreateOptions{Name: "rumah-uji"})
		if !usererr.Is(err, tt.wantErr) {
			t.Errorf("busybox %s: error %v, want %s", tt.busybox, err, tt.wantErr)
		}
		if entries, _ := os.ReadDir(root); len(entries) != 0 {
			t.Errorf("busybox %s: failed create left %d entries in the root folder", tt.busybox, len(entries))
		}
	}
}

func TestReusedPIDIsNotRunning(t *testing.T) {
	r := newTestRuntime(t)
	c, err := r.Create(CreateOptions{Name: "rumah-palsu"})
	if err != nil {
		t.Fatal(err)
	}
	// Point the record at a live process that is not the house: this test itself,
	// with a start time that does not match.
	c.PID, c.PIDStart = os.Getpid(), 1
	if err := r.save(c); err != nil {
		t.Fatal(err)
	}
	got, err := r.Get("rumah-palsu")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusStopped {
		t.Errorf("status with a reused PID = %s, want stopped", got.Status)
	}
	if err := r.Stop("rumah-palsu", time.Second); err != nil {
		t.Fatalf("stop with a reused PID: %v", err)
	}
	if got, _ := r.Get("rumah-palsu"); got.PID != 0 {
		t.Errorf("stop kept the stale PID %d", got.PID)
	}
}

func TestCreateLeavesNothingOnBadInput(t *testing.T) {
	testutil.RequireRoot(t)
	root := t.TempDir()
	r, err := New(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []CreateOptions{{Name: "../x"}, {Name: "ok", Hostname: "bad_host"}, {Name: ""}} {
		if _, err := r.Create(opts); usererr.ExitCode(err) != usererr.ExitUsage {
			t.Errorf("create %+v: error %v, want a usage error", opts, err)
		}
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("rejected creates left %d entries in the root folder", len(entries))
	}
}
