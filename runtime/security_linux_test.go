package runtime

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/housetools"
)

// wantCapMask is houseCapabilities as the 64-bit mask /proc/PID/status shows.
func wantCapMask() uint64 {
	var mask uint64
	for _, c := range houseCapabilities {
		mask |= 1 << c
	}
	return mask
}

// parseStatusCaps reads the Cap* and NoNewPrivs lines of /proc/PID/status text.
func parseStatusCaps(t *testing.T, status string) map[string]uint64 {
	t.Helper()
	got := map[string]uint64{}
	for _, line := range strings.Split(status, "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok || !(strings.HasPrefix(key, "Cap") || key == "NoNewPrivs") {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(value), 16, 64)
		if err != nil {
			t.Fatalf("parse %q: %v", line, err)
		}
		got[key] = n
	}
	return got
}

func checkCaps(t *testing.T, who string, got map[string]uint64) {
	t.Helper()
	want := map[string]uint64{
		"CapInh": 0, "CapPrm": wantCapMask(), "CapEff": wantCapMask(), "CapBnd": wantCapMask(), "CapAmb": 0,
		"NoNewPrivs": 1,
	}
	for key, w := range want {
		g, ok := got[key]
		if !ok {
			t.Errorf("%s: no %s line in /proc/PID/status", who, key)
			continue
		}
		if g != w {
			t.Errorf("%s: %s = %016x, want %016x", who, key, g, w)
		}
	}
}

func TestHouseCapabilitiesReduced(t *testing.T) {
	r := newTestRuntime(t)
	c := startHouse(t, r, "rumah-hak")

	// PID 1, read from the host.
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.PID))
	if err != nil {
		t.Fatal(err)
	}
	checkCaps(t, "PID 1", parseStatusCaps(t, string(status)))

	// A process entered with run-container, read from inside the house.
	out, _ := execOutput(t, r, "rumah-hak", "grep", "-E", "^(Cap|NoNewPrivs)", "/proc/self/status")
	checkCaps(t, "entered process", parseStatusCaps(t, out))

	// The shell of run-container, and a command it starts.
	out, _ = execOutput(t, r, "rumah-hak", "sh", "-c", "grep -E '^(Cap|NoNewPrivs)' /proc/$$/status")
	checkCaps(t, "entered shell", parseStatusCaps(t, out))

	// rt-lab itself keeps every capability: only the entering thread was reduced.
	self, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	if caps := parseStatusCaps(t, string(self)); caps["CapEff"]&(1<<unix.CAP_SYS_ADMIN) == 0 || caps["NoNewPrivs"] != 0 {
		t.Errorf("the test process lost privileges after run-container: CapEff %016x, NoNewPrivs %d",
			caps["CapEff"], caps["NoNewPrivs"])
	}
}

// rootDevice returns the major and minor number of the device holding the
// host's "/".
func rootDevice(t *testing.T) (uint32, uint32) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/", &st); err != nil {
		t.Fatal(err)
	}
	return unix.Major(st.Dev), unix.Minor(st.Dev)
}

// TestHouseEscapesFail runs, as root inside a house, what would reach the host
// or undo the house's protections. Every command must fail.
func TestHouseEscapesFail(t *testing.T) {
	r := newTestRuntime(t)
	startHouse(t, r, "rumah-kabur")
	major, minor := rootDevice(t)
	const (
		notPermitted = "Operation not permitted"
		readOnly     = "Read-only file system"
		mountDenied  = "permission denied" // busybox mount's message for EPERM
	)
	tests := []struct {
		name, script string
		want         string // in the error message; "" accepts any failure
		needs        string // host path the message needs; without it any failure counts
	}{
		// Without CAP_MKNOD no device node can be made. rt-lab has no device
		// cgroup, so only this keeps a node of the host's disk out of the house.
		{"mknod host disk", fmt.Sprintf("mknod /root/disk b %d %d", major, minor), notPermitted, ""},
		{"mknod in /dev", "mknod /dev/mem c 1 1", notPermitted, ""},
		{"remount tools binary", "mount -o remount,rw,bind " + housetools.ToolsBinary, mountDenied, ""},
		{"write tools binary", "echo x >> " + housetools.ToolsBinary, "", ""},
		{"mount tmpfs", "mount -t tmpfs none /mnt", mountDenied, ""},
		{"mount proc", "mount -t proc proc /mnt", mountDenied, ""},
		{"unmount mask", "umount /proc/keys", notPermitted, "/proc/keys"},
		{"unmount read-only /proc/sys", "umount /proc/sys", notPermitted, ""},
		{"write sysrq-trigger", "echo h > /proc/sysrq-trigger", readOnly, "/proc/sysrq-trigger"},
		{"write /proc/sys", "echo rt-lab > /proc/sys/kernel/domainname", readOnly, ""},
		{"write /sys", "cat /sys/class/net/lo/mtu > /sys/class/net/lo/mtu", readOnly, ""},
		{"set hostname", "hostname kabur", notPermitted, ""},
		{"load module", "insmod /bin/busybox", notPermitted, "/proc/modules"},
		{"new namespace", "unshare -m true", notPermitted, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if tt.needs != "" {
				if _, err := os.Stat(tt.needs); err != nil {
					// The attempt must still fail, just for another reason.
					t.Logf("this kernel has no %s, so any failure counts", tt.needs)
					want = ""
				}
			}
			var out bytes.Buffer
			code, err := r.Exec("rumah-kabur", Process{Args: []string{"sh", "-c", tt.script}, Stdout: &out, Stderr: &out})
			if err != nil {
				t.Fatal(err)
			}
			if code == 0 {
				t.Errorf("%q succeeded inside the house:\n%s", tt.script, out.String())
			}
			if !strings.Contains(out.String(), want) {
				t.Errorf("%q failed with %q, want a message containing %q", tt.script, out.String(), want)
			}
		})
	}
	if out, _ := execOutput(t, r, "rumah-kabur", "hostname"); strings.TrimSpace(out) != "rumah-kabur" {
		t.Errorf("hostname after the attempts = %q, want rumah-kabur", out)
	}
}

// TestHouseKeepsNeededCapabilities runs what the lessons do inside houses.
func TestHouseKeepsNeededCapabilities(t *testing.T) {
	r := newTestRuntime(t)
	startHouse(t, r, "rumah-boleh")
	scripts := []string{
		"ip link set lo down && ip link set lo up", // CAP_NET_ADMIN in the house's netns
		"chown nobody /tmp && chown root /tmp",     // CAP_CHOWN
		"ping -c 1 -W 1 127.0.0.1",                 // CAP_NET_RAW
	}
	for _, script := range scripts {
		var out bytes.Buffer
		code, err := r.Exec("rumah-boleh", Process{Args: []string{"sh", "-c", script}, Stdout: &out, Stderr: &out})
		if err != nil {
			t.Fatal(err)
		}
		if code != 0 {
			t.Errorf("%q: exit %d inside the house:\n%s", script, code, out.String())
		}
	}
}

// TestHouseProcMasked checks the masks from inside the house and the mount
// options from the host.
func TestHouseProcMasked(t *testing.T) {
	r := newTestRuntime(t)
	c := startHouse(t, r, "rumah-topeng")

	for _, path := range maskedPaths {
		if _, err := os.Lstat(path); err != nil {
			continue // this kernel does not have it, and the house skips it too
		}
		out, code := execOutput(t, r, "rumah-topeng", "sh", "-c",
			fmt.Sprintf("if [ -d %[1]s ]; then ls -A %[1]s; else cat %[1]s; fi", path))
		if code != 0 || out != "" {
			t.Errorf("%s inside the house: exit %d, output %q; want it empty", path, code, out)
		}
	}
	out, code := execOutput(t, r, "rumah-topeng", "sh", "-c", "wc -c < /proc/keys")
	if code != 0 || strings.TrimSpace(out) != "0" {
		t.Errorf("wc -c < /proc/keys inside: exit %d, %q; want 0 bytes", code, out)
	}

	mountinfo, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", c.PID))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range append(readonlyPaths, "/sys") {
		if _, err := os.Lstat(path); err != nil {
			continue
		}
		line, ok := toolsMount(string(mountinfo), path)
		if !ok {
			t.Errorf("no mount at %s in the house:\n%s", path, mountinfo)
			continue
		}
		options := strings.Split(strings.Fields(line)[5], ",")
		if !containsString(options, "ro") {
			t.Errorf("%s mount options %v, want ro", path, options)
		}
	}
}
