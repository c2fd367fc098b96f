package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseKernelDepends(t *testing.T) {
	tests := []struct {
		name        string
		record      string
		wantName    string
		wantVersion string
	}{
		{
			"debian 12",
			"Package: linux-image-amd64\nVersion: 6.1.192-3\nDepends: linux-image-6.1.0-57-amd64 (= 6.1.192-3)\nDescription: Linux\n",
			"linux-image-6.1.0-57-amd64", "6.1.192-3",
		},
		{
			"no version",
			"Depends: kmod, linux-image-6.12.0-1-amd64\n",
			"linux-image-6.12.0-1-amd64", "",
		},
		{
			"alternatives",
			"Depends: linux-image-6.1.0-57-amd64-unsigned (= 6.1.192-3) | linux-image-6.1.0-57-amd64 (= 6.1.192-3)\n",
			"linux-image-6.1.0-57-amd64-unsigned", "6.1.192-3",
		},
		{"no kernel", "Depends: kmod\n", "", ""},
		{"no depends", "Package: linux-image-amd64\n", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, version := parseKernelDepends(tt.record)
			if name != tt.wantName {
				t.Errorf("name = %q, want %q", name, tt.wantName)
			}
			if version != tt.wantVersion {
				t.Errorf("version = %q, want %q", version, tt.wantVersion)
			}
		})
	}
}

// fakeCachedKernel makes an unpacked kernel package in the cache folder.
func fakeCachedKernel(t *testing.T, cacheDir, pkg, version, release string) string {
	t.Helper()
	dir := filepath.Join(cacheDir, pkg+"_"+version)
	for _, sub := range []string{"boot", filepath.Join("lib", "modules", release)} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, file := range []string{filepath.Join("boot", "vmlinuz-"+release), completeMark} {
		if err := os.WriteFile(filepath.Join(dir, file), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestNewestCached(t *testing.T) {
	if _, err := os.Stat("/usr/bin/dpkg"); err != nil {
		t.Skip("dpkg compares the versions and is not installed")
	}
	cache := t.TempDir()
	fakeCachedKernel(t, cache, "linux-image-6.1.0-9-amd64", "6.1.27-1", "6.1.0-9-amd64")
	want := fakeCachedKernel(t, cache, "linux-image-6.1.0-57-amd64", "6.1.192-3", "6.1.0-57-amd64")
	// Unpacked but not complete: an interrupted download.
	os.MkdirAll(filepath.Join(cache, "linux-image-6.1.0-99-amd64_6.1.999-1", "boot"), 0o755)

	k, ok := newestCached(cache)
	if !ok {
		t.Fatal("newestCached found no kernel")
	}
	if k.dir != want {
		t.Errorf("newestCached = %s, want %s", k.dir, want)
	}
	if k.release != "6.1.0-57-amd64" {
		t.Errorf("release = %q, want 6.1.0-57-amd64", k.release)
	}
	if k.vmlinuz() != filepath.Join(want, "boot", "vmlinuz-6.1.0-57-amd64") {
		t.Errorf("vmlinuz = %s", k.vmlinuz())
	}
}

func TestRemoveOtherVersions(t *testing.T) {
	cache := t.TempDir()
	old := fakeCachedKernel(t, cache, "linux-image-6.1.0-9-amd64", "6.1.27-1", "6.1.0-9-amd64")
	keep := fakeCachedKernel(t, cache, "linux-image-6.1.0-57-amd64", "6.1.192-3", "6.1.0-57-amd64")
	removeOtherVersions(cache, filepath.Base(keep), t.Logf)
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("old kernel %s still exists (stat error %v)", old, err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("kept kernel: %v", err)
	}
}

// A run that boots a cached kernel holds a shared lock, which blocks a run
// that wants to change the cache but not another run that boots.
func TestCacheLockShared(t *testing.T) {
	cache := t.TempDir()
	booting, err := lockCache(cache)
	if err != nil {
		t.Fatal(err)
	}
	defer booting.release()
	other, err := lockCache(cache)
	if err != nil {
		t.Fatalf("second shared lock: %v", err)
	}
	defer other.release()
	if err := other.set(unix.LOCK_EX | unix.LOCK_NB); !errors.Is(err, unix.EWOULDBLOCK) {
		t.Errorf("exclusive lock beside a shared one: error %v, want EWOULDBLOCK", err)
	}
	booting.release()
	if err := other.set(unix.LOCK_EX | unix.LOCK_NB); err != nil {
		t.Errorf("exclusive lock after the other run released: %v", err)
	}
}
