package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Kernel module files that go into the initramfs. The preloaded ones are
// loaded by the init; the others load on demand, as on a host: the kernel
// runs /sbin/modprobe (busybox) when code requests a missing feature, such as
// a netlink family that the netlink library opens.
var (
	// defaultPreload are the modules that the runtime and the network code
	// need from the start, and dummy for the init's stand-in network card.
	// bridge depends on stp and llc.
	defaultPreload = []string{"veth", "bridge", "stp", "llc", "overlay", "dummy"}
	// defaultAutoload are folders and files below the module folder whose
	// modules, and their dependencies, are available on demand. nf_tables
	// needs libcrc32c, whose soft dependency crc32c_generic modules.dep does
	// not list.
	defaultAutoload = []string{
		"kernel/net/core", "kernel/net/ipv4", "kernel/net/ipv6", "kernel/net/netfilter",
		"kernel/net/bridge", "kernel/net/sched", "kernel/net/xfrm", "kernel/net/key",
		"kernel/net/packet", "kernel/fs/overlayfs", "kernel/drivers/net/veth.ko",
		"kernel/drivers/net/dummy.ko", "kernel/drivers/net/macvlan.ko",
		"kernel/drivers/net/ipvlan", "kernel/drivers/net/vxlan", "kernel/drivers/net/tun.ko",
		"kernel/crypto/crc32c_generic.ko",
	}
)

// moduleParams are the parameters of preloaded modules. dummy makes a device
// dummy0 by default, and the init adds its own device instead.
var moduleParams = map[string]string{"dummy": "numdummies=0"}

// moduleIndex is the list of modules of one kernel's module folder
// (lib/modules/RELEASE) with their dependencies, read from modules.dep.
type moduleIndex struct {
	dir     string
	files   map[string]string   // name -> path relative to dir
	deps    map[string][]string // path -> paths of the modules it needs
	builtin map[string]bool
}

// moduleName normalizes a module name or file name: "nf-nat.ko" is "nf_nat".
func moduleName(file string) string {
	name := filepath.Base(file)
	for _, ext := range []string{".xz", ".zst", ".gz"} {
		name = strings.TrimSuffix(name, ext)
	}
	return strings.ReplaceAll(strings.TrimSuffix(name, ".ko"), "-", "_")
}

// runDepmod writes modules.dep, modules.alias and modules.symbols into the
// module folder of release below root. A Debian kernel package ships none of
// them, because its postinst runs depmod, so busybox's depmod does it here.
func runDepmod(busybox, root, release string) error {
	out, err := exec.Command(busybox, "depmod", "-b", root, release).CombinedOutput()
	if err != nil {
		return fmt.Errorf("busybox depmod -b %s %s: %w: %s", root, release, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func loadModuleIndex(dir string) (*moduleIndex, error) {
	index := &moduleIndex{dir: dir, files: map[string]string{}, deps: map[string][]string{}, builtin: map[string]bool{}}
	err := readLines(filepath.Join(dir, "modules.dep"), func(line string) error {
		path, deps, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Errorf("invalid line %q in modules.dep", line)
		}
		index.files[moduleName(path)] = path
		index.deps[path] = strings.Fields(deps)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = readLines(filepath.Join(dir, "modules.builtin"), func(line string) error {
		index.builtin[moduleName(line)] = true
		return nil
	})
	return index, err
}

func readLines(file string, handle func(string) error) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := handle(line); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
	}
	return scanner.Err()
}

// resolve returns the files of the named modules and of all the modules they
// depend on, dependencies first. Modules built into the kernel need no file.
func (m *moduleIndex) resolve(names []string) ([]string, error) {
	var order []string
	state := map[string]int{} // 1 while visiting, 2 when done
	var visit func(path, from string) error
	visit = func(path, from string) error {
		switch state[path] {
		case 2:
			return nil
		case 1:
			return fmt.Errorf("kernel module %s depends on itself through %s", path, from)
		}
		deps, ok := m.deps[path]
		if !ok {
			return fmt.Errorf("kernel module %s, needed by %s, is not in %s/modules.dep", path, from, m.dir)
		}
		state[path] = 1
		for _, dep := range deps {
			if err := visit(dep, path); err != nil {
				return err
			}
		}
		state[path] = 2
		order = append(order, path)
		return nil
	}
	for _, name := range names {
		name = moduleName(name)
		if m.builtin[name] {
			continue
		}
		path, ok := m.files[name]
		if !ok {
			return nil, fmt.Errorf("kernel module %s is neither built in nor in %s", name, m.dir)
		}
		if err := visit(path, name); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// below returns the modules whose path is one of prefixes or lies in a folder
// named by one, with their dependencies, sorted.
func (m *moduleIndex) below(prefixes []string) []string {
	found := map[string]bool{}
	var add func(path string)
	add = func(path string) {
		if found[path] {
			return
		}
		found[path] = true
		for _, dep := range m.deps[path] {
			add(dep)
		}
	}
	for path := range m.deps {
		for _, prefix := range prefixes {
			if path == prefix || strings.HasPrefix(path, strings.TrimSuffix(prefix, "/")+"/") {
				add(path)
			}
		}
	}
	paths := make([]string, 0, len(found))
	for path := range found {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	return paths
}

// filterModulesDep returns the lines of modules.dep for the modules in keep.
func filterModulesDep(data string, keep map[string]bool) string {
	var b strings.Builder
	for _, line := range strings.Split(data, "\n") {
		if path, _, ok := strings.Cut(line, ":"); ok && keep[path] {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// filterModulesAlias returns the "alias PATTERN MODULE" lines of
// modules.alias whose module is in keep, given as module names.
func filterModulesAlias(data string, keep map[string]bool) string {
	var b strings.Builder
	for _, line := range strings.Split(data, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 3 && fields[0] == "alias" && keep[moduleName(fields[2])] {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}
