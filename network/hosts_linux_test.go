package network

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// checkHostsLink checks that root/etc/hosts is the link to the phone book and
// that the mount point exists.
func checkHostsLink(t *testing.T, root string) {
	t.Helper()
	target, err := os.Readlink(filepath.Join(root, "etc/hosts"))
	if err != nil {
		t.Fatal(err)
	}
	if target != PhoneBookHosts {
		t.Errorf("etc/hosts links to %q, want %q", target, PhoneBookHosts)
	}
	info, err := os.Lstat(filepath.Join(root, "etc/rt-lab"))
	if err != nil {
		t.Fatal(err)
	}
	if !info.IsDir() {
		t.Errorf("etc/rt-lab is %v, want a folder", info.Mode())
	}
}

func TestLinkHostsReplacesFile(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/hosts"), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := LinkHosts(root); err != nil {
		t.Fatal(err)
	}
	checkHostsLink(t, root)
	entries, err := os.ReadDir(filepath.Join(root, "etc"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Errorf("etc holds %d entries, want hosts and rt-lab", len(entries))
	}
}

func TestLinkHostsCreatesEtc(t *testing.T) {
	root := t.TempDir()
	if err := LinkHosts(root); err != nil {
		t.Fatal(err)
	}
	checkHostsLink(t, root)
}

func TestLinkHostsKeepsLink(t *testing.T) {
	root := t.TempDir()
	if err := LinkHosts(root); err != nil {
		t.Fatal(err)
	}
	var before, after unix.Stat_t
	if err := unix.Lstat(filepath.Join(root, "etc/hosts"), &before); err != nil {
		t.Fatal(err)
	}
	if err := LinkHosts(root); err != nil {
		t.Fatal(err)
	}
	if err := unix.Lstat(filepath.Join(root, "etc/hosts"), &after); err != nil {
		t.Fatal(err)
	}
	if before.Ino != after.Ino {
		t.Errorf("link replaced: inode %d became %d", before.Ino, after.Ino)
	}
}

func TestLinkHostsReplacesOtherLink(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/tmp/hosts", filepath.Join(root, "etc/hosts")); err != nil {
		t.Fatal(err)
	}
	if err := LinkHosts(root); err != nil {
		t.Fatal(err)
	}
	checkHostsLink(t, root)
}

// A container can replace its /etc with an absolute symbolic link. Resolved
// from the host, it would point at the host's folder of that name.
func TestLinkHostsStaysInRoot(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "etc")); err != nil {
		t.Fatal(err)
	}
	err := LinkHosts(root)
	if err == nil {
		t.Error("LinkHosts followed an etc link that leaves the root")
	}
	if _, statErr := os.Lstat(filepath.Join(outside, "hosts")); !os.IsNotExist(statErr) {
		t.Errorf("LinkHosts wrote outside the root: %v", statErr)
	}
}
