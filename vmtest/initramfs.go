package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/rt-lab/rt-lab/internal/testutil/vminit"
)

// Paths inside the virtual machine.
const (
	guestTestDir = "/vmtest"
	guestSrcDir  = "/vmtest/src"
	guestBusybox = "/bin/busybox"
)

// initramfsSpec lists what goes into one virtual machine's initramfs.
type initramfsSpec struct {
	init     string // host path of the init binary (vmtest/init)
	busybox  string // host path of a static busybox
	rtlab    string // host path of the static rt-lab binary, or ""
	test     string // host path of the static test binary
	testdata string // host path of the package's testdata folder, or ""
	kernel   kernel
	// modules are module files, relative to the kernel's module folder, that
	// the init loads in this order.
	modules []string
	// autoload are more module files that modprobe loads on demand.
	autoload []string
	// programs are dynamically linked host programs to copy with their
	// libraries, such as /bin/bash, which every Debian host has.
	programs []string
}

// writeInitramfs writes the initramfs of spec to file as an uncompressed
// newc cpio archive.
func writeInitramfs(file string, spec initramfsSpec) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	c := newCPIOWriter(w)
	err = addInitramfs(c, spec)
	if err == nil {
		err = c.Close()
	}
	if err == nil {
		err = w.Flush()
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	return err
}

func addInitramfs(c *cpioWriter, spec initramfsSpec) error {
	for _, dir := range []string{"proc", "sys", "dev", "run", "root", "etc", "var/tmp", "usr/local/bin"} {
		c.Dir(dir, 0o755)
	}
	c.Dir("tmp", 0o1777)
	// The kernel opens /dev/console for the init's standard streams before
	// the init mounts devtmpfs.
	c.CharDev("dev/console", 0o600, 5, 1)
	c.File("etc/passwd", 0o644, int64(len(passwd)), strings.NewReader(passwd))
	c.File("etc/group", 0o644, int64(len(group)), strings.NewReader(group))
	c.File("etc/hostname", 0o644, int64(len(hostname)), strings.NewReader(hostname))

	if err := addHostFile(c, "init", spec.init); err != nil {
		return err
	}
	if err := addBusybox(c, spec.busybox); err != nil {
		return err
	}
	added := map[string]bool{}
	for _, program := range spec.programs {
		if err := addHostProgram(c, program, added); err != nil {
			return err
		}
	}
	if spec.rtlab != "" {
		if err := addHostFile(c, strings.TrimPrefix(vminit.RTLabBinary, "/"), spec.rtlab); err != nil {
			return err
		}
	}
	testPath := path.Join(guestTestDir, filepath.Base(spec.test))
	if err := addHostFile(c, testPath, spec.test); err != nil {
		return err
	}
	c.Dir(guestSrcDir, 0o755)
	if spec.testdata != "" {
		if err := addHostTree(c, path.Join(guestSrcDir, "testdata"), spec.testdata); err != nil {
			return err
		}
	}

	cfg := vminit.Config{Test: testPath, Dir: guestSrcDir}
	guestModules := path.Join("/lib/modules", spec.kernel.release)
	for _, rel := range spec.modules {
		cfg.Modules = append(cfg.Modules, vminit.Module{
			Path:   path.Join(guestModules, filepath.ToSlash(rel)),
			Params: moduleParams[moduleName(rel)],
		})
	}
	if err := addModules(c, spec, guestModules); err != nil {
		return err
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return c.File(vminit.ConfigPath, 0o644, int64(len(data)), strings.NewReader(string(data)))
}

// addModules adds the preloaded and the on-demand module files, and the
// lines of modules.dep and modules.alias that name them, which busybox's
// modprobe reads.
func addModules(c *cpioWriter, spec initramfsSpec, guestDir string) error {
	hostDir := spec.kernel.moduleDir()
	files := map[string]bool{}
	names := map[string]bool{}
	for _, rel := range append(append([]string{}, spec.modules...), spec.autoload...) {
		if files[rel] {
			continue
		}
		files[rel] = true
		names[moduleName(rel)] = true
		if err := addHostFile(c, path.Join(guestDir, filepath.ToSlash(rel)), filepath.Join(hostDir, rel)); err != nil {
			return err
		}
	}
	for _, list := range []struct {
		name   string
		filter func(string) string
	}{
		{"modules.dep", func(data string) string { return filterModulesDep(data, files) }},
		{"modules.alias", func(data string) string { return filterModulesAlias(data, names) }},
		{"modules.builtin", func(data string) string { return data }},
	} {
		data, err := os.ReadFile(filepath.Join(hostDir, list.name))
		if err != nil {
			return err
		}
		content := list.filter(string(data))
		if err := c.File(path.Join(guestDir, list.name), 0o644, int64(len(content)), strings.NewReader(content)); err != nil {
			return err
		}
	}
	return nil
}

const (
	passwd   = "root:x:0:0:root:/root:/bin/sh\n"
	group    = "root:x:0:\n"
	hostname = "rt-lab-vm\n"
)

// addHostFile adds the host file src as name, keeping its permission bits.
func addHostFile(c *cpioWriter, name, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", src)
	}
	return c.File(name, uint32(info.Mode().Perm()), info.Size(), f)
}

// addHostTree adds the folder src and everything in it as name. Symbolic
// links are added as links.
func addHostTree(c *cpioWriter, name, src string) error {
	return filepath.WalkDir(src, func(file string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, file)
		guest := path.Join(name, filepath.ToSlash(rel))
		switch {
		case entry.IsDir():
			return c.Dir(guest, 0o755)
		case entry.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(file)
			if err != nil {
				return err
			}
			return c.Symlink(guest, target)
		default:
			return addHostFile(c, guest, file)
		}
	})
}

// addBusybox adds busybox as /bin/busybox and a symbolic link for each of its
// applets, at the paths that `busybox --list-full` prints (bin/sh, sbin/ip).
func addBusybox(c *cpioWriter, busybox string) error {
	if err := addHostFile(c, guestBusybox, busybox); err != nil {
		return err
	}
	out, err := exec.Command(busybox, "--list-full").Output()
	if err != nil {
		return fmt.Errorf("%s --list-full: %w", busybox, err)
	}
	for _, applet := range strings.Fields(string(out)) {
		name := cleanName(applet)
		// linuxrc is busybox's init for old-style initrds; /init is ours.
		if name == strings.TrimPrefix(guestBusybox, "/") || name == "init" || name == "linuxrc" {
			continue
		}
		if err := c.Symlink(name, guestBusybox); err != nil {
			return err
		}
	}
	return nil
}

// addHostProgram adds a dynamically linked host program and the shared
// libraries that ldd lists for it, each at its host path, so that it runs in
// the virtual machine as on the host. Files already in added are skipped.
func addHostProgram(c *cpioWriter, program string, added map[string]bool) error {
	out, err := exec.Command("ldd", program).Output()
	if err != nil {
		return fmt.Errorf("ldd %s: %w", program, err)
	}
	files, err := parseLdd(string(out))
	if err != nil {
		return fmt.Errorf("ldd %s: %w", program, err)
	}
	for _, file := range append([]string{program}, files...) {
		if added[file] {
			continue
		}
		added[file] = true
		// os.Open follows symbolic links such as /lib64 -> usr/lib64, so the
		// virtual machine gets a regular file at the path the loader uses.
		if err := addHostFile(c, file, file); err != nil {
			return err
		}
	}
	return nil
}

// parseLdd returns the files in ldd's output: the targets of "name => path"
// lines and the program interpreter, which ldd lists by its path alone.
func parseLdd(out string) ([]string, error) {
	var files []string
	for _, line := range strings.Split(out, "\n") {
		fields := strings.Fields(line)
		switch {
		case len(fields) >= 3 && fields[1] == "=>" && strings.HasPrefix(fields[2], "/"):
			files = append(files, fields[2])
		case len(fields) >= 3 && fields[1] == "=>" && fields[2] == "not":
			return nil, fmt.Errorf("library %s not found", fields[0])
		case len(fields) >= 1 && strings.HasPrefix(fields[0], "/"):
			files = append(files, fields[0])
		}
	}
	return files, nil
}
