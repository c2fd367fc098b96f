package runtime

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/internal/housetools"
)

// startHouse creates and starts a house on r; newTestRuntime deletes it.
func startHouse(t *testing.T, r *Runtime, name string) *Container {
	t.Helper()
	if _, err := r.Create(CreateOptions{Name: name, Hostname: name}); err != nil {
		t.Fatal(err)
	}
	c, err := r.Start(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// toolsMount returns the line of mountinfo(5) text that mounts target.
func toolsMount(mountinfo, target string) (string, bool) {
	for _, line := range strings.Split(mountinfo, "\n") {
		fields := strings.Fields(line)
		if len(fields) > 5 && fields[4] == target {
			return line, true
		}
	}
	return "", false
}

func TestHouseToolsBinaryReadOnly(t *testing.T) {
	r := newTestRuntime(t)
	startHouse(t, r, "rumah-alat")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	hostSum := fileSHA256(t, self)

	mountinfo, _ := execOutput(t, r, "rumah-alat", "cat", "/proc/self/mountinfo")
	line, ok := toolsMount(mountinfo, housetools.ToolsBinary)
	if !ok {
		t.Fatalf("no mount at %s inside the house:\n%s", housetools.ToolsBinary, mountinfo)
	}
	options := strings.Split(strings.Fields(line)[5], ",")
	for _, want := range []string{"ro", "nosuid", "nodev"} {
		if !containsString(options, want) {
			t.Errorf("mount options of %s = %v, want %s among them", housetools.ToolsBinary, options, want)
		}
	}

	out, _ := execOutput(t, r, "rumah-alat", "sha256sum", housetools.ToolsBinary)
	if got, _, _ := strings.Cut(out, " "); got != hostSum {
		t.Errorf("sha256 of %s inside = %s, want the running binary's %s", housetools.ToolsBinary, got, hostSum)
	}

	writes := []string{
		"echo x >> " + housetools.ToolsBinary,
		"echo x > " + housetools.ToolsBinary,
		"rm -f " + housetools.ToolsBinary,
		"chmod u+s " + housetools.ToolsBinary,
		"touch " + housetools.ToolsBinary,
	}
	for _, script := range writes {
		var errOut bytes.Buffer
		code, err := r.Exec("rumah-alat", Process{Args: []string{"sh", "-c", script}, Stderr: &errOut})
		if err != nil {
			t.Fatalf("exec %q: %v", script, err)
		}
		if code == 0 {
			t.Errorf("%q inside the house succeeded, want it to fail on the read-only mount", script)
		}
	}
	if got := fileSHA256(t, self); got != hostSum {
		t.Errorf("host binary %s changed from %s to %s", self, hostSum, got)
	}
	if out, _ := execOutput(t, r, "rumah-alat", "sha256sum", housetools.ToolsBinary); !strings.HasPrefix(out, hostSum) {
		t.Errorf("binary inside changed after the write attempts: %s", out)
	}
}

func TestHouseToolsLinks(t *testing.T) {
	r := newTestRuntime(t)
	startHouse(t, r, "rumah-tautan")
	for _, name := range housetools.Names() {
		path := filepath.Join(housetools.ToolsDir, name)
		out, code := execOutput(t, r, "rumah-tautan", "readlink", path)
		if code != 0 || strings.TrimSpace(out) != housetools.ToolsBinary {
			t.Errorf("readlink %s = %q (status %d), want %s", path, out, code, housetools.ToolsBinary)
		}
	}
}

// TestHouseToolsOldBase starts a house whose base lacks the mount point, as a
// base built by an older rt-lab does: the house starts without the tools.
func TestHouseToolsOldBase(t *testing.T) {
	r := newTestRuntime(t)
	c, err := r.Create(CreateOptions{Name: "rumah-lama", Hostname: "lama"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(r.BaseDir(c.Base), housetools.ToolsBinary)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start("rumah-lama"); err != nil {
		t.Fatalf("start on a base without the mount point: %v", err)
	}
	mountinfo, _ := execOutput(t, r, "rumah-lama", "cat", "/proc/self/mountinfo")
	if line, ok := toolsMount(mountinfo, housetools.ToolsBinary); ok {
		t.Errorf("house on an old base mounts the tools: %s", line)
	}
	log, err := os.ReadFile(r.logPath("rumah-lama"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(log, []byte("has no house tools")) {
		t.Errorf("init.log does not explain the missing tools:\n%s", log)
	}
}

func TestBaseIDCoversLayout(t *testing.T) {
	r := newTestRuntime(t)
	busybox, err := FindBusybox("")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	id, err := r.ensureBase(busybox)
	if err != nil {
		t.Fatal(err)
	}
	// The id of the layout before the house tools: a digest of busybox alone.
	sum := sha256.Sum256(data)
	if old := hex.EncodeToString(sum[:8]); id == old {
		t.Errorf("base id %s equals the id of the old layout, so old bases would be reused", id)
	}
	fi, err := os.Stat(filepath.Join(r.BaseDir(id), housetools.ToolsBinary))
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || fi.Size() != 0 {
		t.Errorf("mount point %s in the base: mode %v size %d, want an empty regular file", housetools.ToolsBinary, fi.Mode(), fi.Size())
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
