package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestModuleName(t *testing.T) {
	tests := map[string]string{
		"kernel/net/bridge/bridge.ko":           "bridge",
		"kernel/net/netfilter/nf-nat.ko":        "nf_nat",
		"kernel/fs/overlayfs/overlay.ko.xz":     "overlay",
		"nf-conntrack":                          "nf_conntrack",
		"kernel/drivers/net/veth.ko.zst":        "veth",
		"kernel/net/802/stp.ko":                 "stp",
		"kernel/net/llc/llc.ko":                 "llc",
		"kernel/drivers/net/wireguard/wg.ko.gz": "wg",
	}
	for file, want := range tests {
		if got := moduleName(file); got != want {
			t.Errorf("moduleName(%q) = %q, want %q", file, got, want)
		}
	}
}

// fakeIndex has bridge -> stp, llc and stp -> llc, as in Debian's kernel, a
// built-in module, a dependency cycle and a dependency on a missing file.
func fakeIndex() *moduleIndex {
	deps := map[string][]string{
		"kernel/net/bridge/bridge.ko":    {"kernel/net/802/stp.ko", "kernel/net/llc/llc.ko"},
		"kernel/net/802/stp.ko":          {"kernel/net/llc/llc.ko"},
		"kernel/net/llc/llc.ko":          nil,
		"kernel/drivers/net/veth.ko":     nil,
		"kernel/fs/overlayfs/overlay.ko": nil,
		"kernel/loop/a.ko":               {"kernel/loop/b.ko"},
		"kernel/loop/b.ko":               {"kernel/loop/a.ko"},
		"kernel/broken/c.ko":             {"kernel/broken/gone.ko"},
	}
	index := &moduleIndex{dir: "/lib/modules/test", files: map[string]string{}, deps: deps, builtin: map[string]bool{"unix": true}}
	for path := range deps {
		index.files[moduleName(path)] = path
	}
	return index
}

func TestResolveModules(t *testing.T) {
	got, err := fakeIndex().resolve([]string{"veth", "bridge", "stp", "llc", "overlay", "unix"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"kernel/drivers/net/veth.ko",
		"kernel/net/llc/llc.ko",
		"kernel/net/802/stp.ko",
		"kernel/net/bridge/bridge.ko",
		"kernel/fs/overlayfs/overlay.ko",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resolve = %q, want %q", got, want)
	}
}

func TestResolveModulesErrors(t *testing.T) {
	tests := []struct {
		name    string
		modules []string
		want    string
	}{
		{"unknown", []string{"nosuch"}, "kernel module nosuch is neither built in nor in /lib/modules/test"},
		{"missing dependency", []string{"c"}, "kernel module kernel/broken/gone.ko, needed by kernel/broken/c.ko, is not in"},
		{"cycle", []string{"a"}, "depends on itself"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fakeIndex().resolve(tt.modules)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("resolve(%q) error = %v, want one containing %q", tt.modules, err, tt.want)
			}
		})
	}
}

func TestLoadModuleIndex(t *testing.T) {
	dir := t.TempDir()
	dep := "kernel/net/bridge/bridge.ko: kernel/net/802/stp.ko kernel/net/llc/llc.ko\n" +
		"kernel/net/802/stp.ko: kernel/net/llc/llc.ko\n" +
		"kernel/net/llc/llc.ko:\n"
	os.WriteFile(filepath.Join(dir, "modules.dep"), []byte(dep), 0o644)
	os.WriteFile(filepath.Join(dir, "modules.builtin"), []byte("kernel/net/unix/unix.ko\n"), 0o644)
	index, err := loadModuleIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := index.resolve([]string{"bridge", "unix"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"kernel/net/llc/llc.ko", "kernel/net/802/stp.ko", "kernel/net/bridge/bridge.ko"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resolve = %q, want %q", got, want)
	}
}

func TestModulesBelow(t *testing.T) {
	got := fakeIndex().below([]string{"kernel/net/bridge/", "kernel/drivers/net/veth.ko", "kernel/fs/over"})
	want := []string{"kernel/drivers/net/veth.ko", "kernel/net/802/stp.ko", "kernel/net/bridge/bridge.ko", "kernel/net/llc/llc.ko"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("below = %q, want %q", got, want)
	}
}

func TestFilterModuleLists(t *testing.T) {
	dep := "kernel/a.ko: kernel/b.ko\nkernel/b.ko:\nkernel/c.ko:\n"
	if got, want := filterModulesDep(dep, map[string]bool{"kernel/a.ko": true, "kernel/b.ko": true}), "kernel/a.ko: kernel/b.ko\nkernel/b.ko:\n"; got != want {
		t.Errorf("filterModulesDep = %q, want %q", got, want)
	}
	alias := "# Aliases extracted from modules themselves.\nalias net-pf-16-proto-6 xfrm_user\nalias rtnl-link-veth veth\n"
	if got, want := filterModulesAlias(alias, map[string]bool{"veth": true}), "alias rtnl-link-veth veth\n"; got != want {
		t.Errorf("filterModulesAlias = %q, want %q", got, want)
	}
}
