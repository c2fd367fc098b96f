package runtime

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/internal/procfs"
)

// TestHouseCannotReachHost tries, as root inside a house, what a curious
// student would try against the host itself: list its processes, read its
// files through /proc, and kill one of its processes. TestHouseEscapesFail
// covers mounts, devices, modules, /sys and the hostname.
func TestHouseCannotReachHost(t *testing.T) {
	r := newTestRuntime(t)
	startHouse(t, r, "rumah-intip")

	// A host process and a host file that the house must not reach.
	victim := exec.Command("sleep", "600")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		victim.Process.Kill()
		victim.Wait()
	})
	secret := filepath.Join(t.TempDir(), "rahasia-host")
	if err := os.WriteFile(secret, []byte("milik host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	host := strconv.Itoa(victim.Process.Pid)

	t.Run("see host processes", func(t *testing.T) {
		out, code := execOutput(t, r, "rumah-intip", "sh", "-c", "ls /proc | grep -c '^[0-9]'")
		n, err := strconv.Atoi(strings.TrimSpace(out))
		if code != 0 || err != nil {
			t.Fatalf("count processes: exit %d, output %q", code, out)
		}
		// init, the shell, ls and grep: a handful, never the host's hundreds.
		if n > 10 {
			t.Errorf("the house's /proc lists %d processes; it should list only its own family", n)
		}
		if _, code := execOutput(t, r, "rumah-intip", "test", "-e", "/proc/"+host); code == 0 {
			t.Errorf("/proc/%s of the host's sleep is visible inside the house", host)
		}
	})
	t.Run("read host files through proc", func(t *testing.T) {
		script := fmt.Sprintf("cat /proc/%s/root%s; cat /proc/*/root%s; cat %s", host, secret, secret, secret)
		out, _ := execOutput(t, r, "rumah-intip", "sh", "-c", script+" 2>/dev/null")
		if strings.Contains(out, "milik host") {
			t.Errorf("the house read the host's file %s: %q", secret, out)
		}
	})
	t.Run("kill a host process", func(t *testing.T) {
		execOutput(t, r, "rumah-intip", "sh", "-c", "kill -9 "+host+" 2>/dev/null; kill -9 -1 2>/dev/null; true")
		// A killed child stays a zombie until the test reaps it, so look at
		// its state rather than whether it can be signalled.
		if st, err := procfs.ReadStat(victim.Process.Pid); err != nil || st.State == 'Z' {
			t.Errorf("the host's sleep %s died after kill -9 from inside the house (%+v, %v)", host, st, err)
		}
	})
}
