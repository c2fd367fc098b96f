package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/internal/testutil/vminit"
)

func TestParseLdd(t *testing.T) {
	out := "\tlinux-vdso.so.1 (0x00007ffd)\n" +
		"\tlibtinfo.so.6 => /lib/x86_64-linux-gnu/libtinfo.so.6 (0x00007f98)\n" +
		"\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f97)\n" +
		"\t/lib64/ld-linux-x86-64.so.2 (0x00007f99)\n"
	got, err := parseLdd(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/lib/x86_64-linux-gnu/libtinfo.so.6", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("parseLdd = %q, want %q", got, want)
	}
	if _, err := parseLdd("\tlibfoo.so.1 => not found\n"); err == nil {
		t.Error("parseLdd with a missing library succeeded, want an error")
	}
}

// TestWriteInitramfsLayout builds an initramfs from small stand-in files and
// checks the paths and the init's configuration.
func TestWriteInitramfsLayout(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
		return path
	}
	busybox, err := findBusybox("")
	if err != nil {
		t.Skipf("no static busybox to list applets: %v", err)
	}
	k := kernel{dir: filepath.Join(dir, "kernel"), release: "6.1.0-test"}
	write("kernel/lib/modules/6.1.0-test/kernel/drivers/net/veth.ko", "module")
	write("kernel/lib/modules/6.1.0-test/kernel/net/xfrm/xfrm_user.ko", "autoload module")
	write("kernel/lib/modules/6.1.0-test/kernel/net/key/af_key.ko", "unused module")
	write("kernel/lib/modules/6.1.0-test/modules.dep",
		"kernel/drivers/net/veth.ko:\nkernel/net/xfrm/xfrm_user.ko:\nkernel/net/key/af_key.ko:\n")
	write("kernel/lib/modules/6.1.0-test/modules.alias",
		"alias rtnl-link-veth veth\nalias net-pf-16-proto-6 xfrm_user\nalias net-pf-15 af_key\n")
	write("kernel/lib/modules/6.1.0-test/modules.builtin", "kernel/net/unix/unix.ko\n")
	spec := initramfsSpec{
		init:     write("init", "init binary"),
		busybox:  busybox,
		test:     write("runtime.test", "test binary"),
		testdata: filepath.Dir(write("src/testdata/golden.txt", "golden")),
		kernel:   k,
		modules:  []string{"kernel/drivers/net/veth.ko"},
		autoload: []string{"kernel/net/xfrm/xfrm_user.ko"},
	}
	archive := filepath.Join(dir, "initrd.cpio")
	if err := writeInitramfs(archive, spec); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]cpioEntry{}
	for _, entry := range readCPIO(t, data) {
		if _, dup := entries[entry.name]; dup {
			t.Errorf("entry %s appears twice", entry.name)
		}
		entries[entry.name] = entry
	}

	files := map[string]string{
		"init":                           "init binary",
		"vmtest/runtime.test":            "test binary",
		"vmtest/src/testdata/golden.txt": "golden",
		"lib/modules/6.1.0-test/kernel/drivers/net/veth.ko":   "module",
		"lib/modules/6.1.0-test/kernel/net/xfrm/xfrm_user.ko": "autoload module",
		"lib/modules/6.1.0-test/modules.dep":                  "kernel/drivers/net/veth.ko:\nkernel/net/xfrm/xfrm_user.ko:\n",
		"lib/modules/6.1.0-test/modules.alias":                "alias rtnl-link-veth veth\nalias net-pf-16-proto-6 xfrm_user\n",
		"lib/modules/6.1.0-test/modules.builtin":              "kernel/net/unix/unix.ko\n",
	}
	for name, content := range files {
		if entries[name].data != content {
			t.Errorf("%s contains %q, want %q", name, entries[name].data, content)
		}
	}
	if _, ok := entries["lib/modules/6.1.0-test/kernel/net/key/af_key.ko"]; ok {
		t.Error("af_key.ko is in the initramfs, but neither preloaded nor on demand")
	}
	if entry := entries["bin/sh"]; entry.mode != cpioSymlink|0o777 || entry.data != "/bin/busybox" {
		t.Errorf("bin/sh = %+v, want a symbolic link to /bin/busybox", entry)
	}
	if entry := entries["dev/console"]; entry.mode != cpioCharDev|0o600 || entry.major != 5 || entry.minor != 1 {
		t.Errorf("dev/console = %+v, want character device 5:1", entry)
	}
	if entry := entries["tmp"]; entry.mode != cpioDir|0o1777 {
		t.Errorf("tmp mode = %o, want %o", entry.mode, cpioDir|0o1777)
	}

	var cfg vminit.Config
	if err := json.Unmarshal([]byte(entries[strings.TrimPrefix(vminit.ConfigPath, "/")].data), &cfg); err != nil {
		t.Fatalf("decode %s: %v", vminit.ConfigPath, err)
	}
	if cfg.Test != "/vmtest/runtime.test" {
		t.Errorf("config test = %q, want /vmtest/runtime.test", cfg.Test)
	}
	if cfg.Dir != "/vmtest/src" {
		t.Errorf("config dir = %q, want /vmtest/src", cfg.Dir)
	}
	want := []vminit.Module{{Path: "/lib/modules/6.1.0-test/kernel/drivers/net/veth.ko"}}
	if !slices.Equal(cfg.Modules, want) {
		t.Errorf("config modules = %+v, want %+v", cfg.Modules, want)
	}
}
