package network

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/testutil"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestWriteHostsReplacesFile(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/hosts"), []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteHosts(root, []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(root, "etc/hosts")); got != "new\n" {
		t.Errorf("etc/hosts = %q, want %q", got, "new\n")
	}
	info, err := os.Stat(filepath.Join(root, "etc/hosts"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", info.Mode().Perm())
	}
	entries, err := os.ReadDir(filepath.Join(root, "etc"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("etc holds %d entries, want only hosts", len(entries))
	}
}

func TestWriteHostsCreatesEtc(t *testing.T) {
	root := t.TempDir()
	if err := WriteHosts(root, []byte("x\n")); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(root, "etc/hosts")); got != "x\n" {
		t.Errorf("etc/hosts = %q", got)
	}
}

// A container can replace its /etc with an absolute symbolic link. Resolved
// from the host, it would point at the host's folder of that name.
func TestWriteHostsStaysInRoot(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "etc")); err != nil {
		t.Fatal(err)
	}
	err := WriteHosts(root, []byte("x\n"))
	if err == nil {
		t.Error("WriteHosts followed an etc link that leaves the root")
	}
	if _, statErr := os.Stat(filepath.Join(outside, "hosts")); !os.IsNotExist(statErr) {
		t.Errorf("WriteHosts wrote outside the root: %v", statErr)
	}
}

// Writing through a mounted overlay, as through /proc/PID/root of a running
// container, must show the new file and allow the next write.
func TestWriteHostsThroughOverlay(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	for _, sub := range []string{"lower", "upper/etc", "work", "merged"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "upper/etc/hosts"), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	merged := filepath.Join(dir, "merged")
	opts := "lowerdir=" + dir + "/lower,upperdir=" + dir + "/upper,workdir=" + dir + "/work"
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		t.Fatalf("mount overlay: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(merged, 0); err != nil {
			t.Errorf("unmount %s: %v", merged, err)
		}
	})
	for _, content := range []string{"first\n", "second\n"} {
		if err := WriteHosts(merged, []byte(content)); err != nil {
			t.Fatalf("write %q: %v", content, err)
		}
		if got := readFile(t, filepath.Join(merged, "etc/hosts")); got != content {
			t.Errorf("merged etc/hosts = %q, want %q", got, content)
		}
	}
}
