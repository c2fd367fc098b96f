package checker

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/internal/testutil/rttest"
	"github.com/rt-lab/rt-lab/locales"
	"github.com/rt-lab/rt-lab/runtime"
)

// newRuntimeEnv returns an Env on a fresh root folder whose houses are deleted
// when the test ends, even when it fails.
func newRuntimeEnv(t *testing.T) *Env {
	t.Helper()
	testutil.RequireRoot(t)
	r := rttest.NewRuntime(t, t.TempDir())
	return &Env{Runtime: r, P: locales.For(locales.EN)}
}

func createAndStart(t *testing.T, r *runtime.Runtime, name, hostname string) *runtime.Container {
	t.Helper()
	if _, err := r.Create(runtime.CreateOptions{Name: name, Hostname: hostname}); err != nil {
		t.Fatal(err)
	}
	c, err := r.Start(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// editState rewrites the pid and pid_start fields of name's state.json until
// the test ends (see rttest.EditState).
func editState(t *testing.T, r *runtime.Runtime, name string, pid int, start uint64) {
	t.Helper()
	rttest.EditState(t, r, name, map[string]any{"pid": pid, "pid_start": start})
}

func TestRuntimeHouseAllChecksPass(t *testing.T) {
	env := newRuntimeEnv(t)
	r := env.Runtime
	if _, err := r.Create(runtime.CreateOptions{Name: "rumah-cek", Hostname: "cek"}); err != nil {
		t.Fatal(err)
	}
	assertResult(t, run(env, "house-built", "name", "rumah-cek", "hostname", "cek"), true,
		"is a statically linked ELF executable")
	assertResult(t, run(env, "house-running", "name", "rumah-cek"), false, "records house rumah-cek as stopped")

	c, err := r.Start("rumah-cek")
	if err != nil {
		t.Fatal(err)
	}
	// The shell exits at once and leaves sleep to PID 1 as a family member.
	if code, err := r.Exec("rumah-cek", runtime.Process{Args: []string{"sh", "-c", "sleep 100000 >/dev/null 2>&1 &"}}); err != nil || code != 0 {
		t.Fatalf("exec sleep: status %d, %v", code, err)
	}
	// The shell may exit before its child has become sleep: wait for it.
	waitForMember(t, c.PID, "sleep")

	tests := []struct {
		check    string
		params   []string
		evidence string
	}{
		{"house-built", []string{"hostname", "cek"}, "has the root user"},
		{"house-running", nil, fmt.Sprintf("record names host PID %d, and the kernel confirms it", c.PID)},
		{"family-member", []string{"comm", "sleep"}, "sleep runs in the house as PID"},
		{"ps-shows-family", nil, "both lists match"},
		{"hostname", []string{"hostname", "cek"}, "the hostname is cek"},
		{"own-namespace", []string{"ns", "pid"}, "pid namespace: house pid:["},
		{"own-namespace", []string{"ns", "net"}, "net namespace"},
		{"own-namespace", []string{"ns", "uts"}, "uts namespace"},
		{"own-namespace", []string{"ns", "ipc"}, "ipc namespace"},
		{"own-namespace", []string{"ns", "mnt"}, "mnt namespace"},
		{"own-links", nil, "lo (UP)"},
		{"own-links", nil, "eth0 (UP)"},
	}
	for _, tt := range tests {
		t.Run(tt.check+"-"+strings.Join(tt.params, "-"), func(t *testing.T) {
			res := run(env, tt.check, append([]string{"name", "rumah-cek"}, tt.params...)...)
			assertResult(t, res, true, tt.evidence)
		})
	}

	t.Run("edited record while running", func(t *testing.T) {
		editState(t, r, "rumah-cek", os.Getpid(), startTime(t, os.Getpid()))
		res := run(env, "house-running", "name", "rumah-cek")
		assertResult(t, res, true, "not PID 1 of a PID namespace of its own")
		assertResult(t, res, true, fmt.Sprintf("host PID %d (init) is PID 1", c.PID))
	})
}

func TestRuntimeStoppedHouseNeverPasses(t *testing.T) {
	env := newRuntimeEnv(t)
	r := env.Runtime
	createAndStart(t, r, "rumah-mati", "mati")
	other := createAndStart(t, r, "rumah-lain", "lain")
	if err := r.Stop("rumah-mati", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	self := os.Getpid()

	tests := []struct {
		name     string
		pid      int
		start    uint64
		evidence string
	}{
		{"as stopped", 0, 0, "records house rumah-mati as stopped"},
		{"host process", self, startTime(t, self), "not PID 1 of a PID namespace of its own"},
		{"wrong start time", self, startTime(t, self) + 1, "no live process"},
		{"another house", other.PID, other.PIDStart, "not the house's overlay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			editState(t, r, "rumah-mati", tt.pid, tt.start)
			for _, check := range []string{"house-running", "hostname", "own-namespace"} {
				res := run(env, check, "name", "rumah-mati", "hostname", "mati", "ns", "pid")
				assertResult(t, res, false, tt.evidence)
				assertResult(t, res, false, "house rumah-mati is not running")
			}
		})
	}
}
