package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// kernelMeta is Debian's package that always depends on the current kernel
// image for amd64.
const kernelMeta = "linux-image-amd64"

// completeMark is written into a cached kernel folder once it is unpacked.
const completeMark = ".complete"

// errNoTools means the virtual machine cannot run here because a tool is
// missing and cannot be installed, such as apt-get on a non-Debian host.
var errNoTools = errors.New("tools missing")

// kernel is a Debian kernel package unpacked in the cache.
type kernel struct {
	pkg, version string
	dir          string // the unpacked package
	release      string // uname -r, such as 6.1.0-57-amd64
}

func (k kernel) vmlinuz() string   { return filepath.Join(k.dir, "boot", "vmlinuz-"+k.release) }
func (k kernel) moduleDir() string { return filepath.Join(k.dir, "lib", "modules", k.release) }

// defaultCacheDir returns RT_LAB_VMTEST_CACHE, else rt-lab-vmtest in
// XDG_CACHE_HOME, else /var/cache/rt-lab-vmtest for root and ~/.cache for
// other users.
func defaultCacheDir() string {
	if dir := os.Getenv("RT_LAB_VMTEST_CACHE"); dir != "" {
		return dir
	}
	if dir := os.Getenv("XDG_CACHE_HOME"); dir != "" {
		return filepath.Join(dir, "rt-lab-vmtest")
	}
	if os.Geteuid() == 0 {
		return "/var/cache/rt-lab-vmtest"
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".cache", "rt-lab-vmtest")
	}
	return filepath.Join(os.TempDir(), "rt-lab-vmtest")
}

// fetchKernel returns the kernel that linux-image-amd64 depends on, from the
// cache when it is there, else downloaded with apt-get, unpacked with dpkg-deb
// into cacheDir/PACKAGE_VERSION and indexed with busybox depmod. Older cached
// versions are removed after a new one is in place.
//
// The returned lock is a shared flock on cacheDir/.lock that the caller holds
// while it boots the kernel. Changes to the cache take the lock exclusively,
// so a run never deletes a kernel that another run is booting.
func fetchKernel(cacheDir, busybox string, logf func(string, ...any)) (kernel, *cacheLock, error) {
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return kernel{}, nil, err
	}
	lock, err := lockCache(cacheDir)
	if err != nil {
		return kernel{}, nil, err
	}
	k, err := findOrFetchKernel(cacheDir, busybox, lock, logf)
	if err != nil {
		lock.release()
		return kernel{}, nil, err
	}
	return k, lock, nil
}

func findOrFetchKernel(cacheDir, busybox string, lock *cacheLock, logf func(string, ...any)) (kernel, error) {
	pkg, version, err := kernelPackage()
	if err != nil {
		if cached, ok := newestCached(cacheDir); ok {
			logf("cannot ask apt for the current kernel (%v); using the cached %s %s", err, cached.pkg, cached.version)
			return cached, nil
		}
		return kernel{}, err
	}
	dir := filepath.Join(cacheDir, pkg+"_"+version)
	if isComplete(dir) {
		logf("kernel %s %s from the cache %s", pkg, version, dir)
		return openKernel(dir, pkg, version)
	}

	// flock(2) converts a shared lock to an exclusive one, but not atomically,
	// so another run may have fetched the kernel in between.
	if err := lock.set(unix.LOCK_EX); err != nil {
		return kernel{}, err
	}
	if !isComplete(dir) {
		logf("downloading kernel %s %s with apt-get into %s", pkg, version, cacheDir)
		if err := downloadKernel(cacheDir, busybox, pkg, version, dir); err != nil {
			return kernel{}, err
		}
		removeOtherVersions(cacheDir, pkg+"_"+version, logf)
	}
	if err := lock.set(unix.LOCK_SH); err != nil {
		return kernel{}, err
	}
	return openKernel(dir, pkg, version)
}

func isComplete(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, completeMark))
	return err == nil
}

// cacheLock is an flock(2) on the cache's lock file, released when the
// process exits.
type cacheLock struct{ f *os.File }

// lockCache opens the lock file of cacheDir and takes a shared lock on it.
func lockCache(cacheDir string) (*cacheLock, error) {
	f, err := os.OpenFile(filepath.Join(cacheDir, ".lock"), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, err
	}
	lock := &cacheLock{f: f}
	if err := lock.set(unix.LOCK_SH); err != nil {
		f.Close()
		return nil, err
	}
	return lock, nil
}

func (l *cacheLock) set(how int) error {
	for {
		err := unix.Flock(int(l.f.Fd()), how)
		if err != unix.EINTR {
			if err != nil {
				return &os.PathError{Op: "flock", Path: l.f.Name(), Err: err}
			}
			return nil
		}
	}
}

func (l *cacheLock) release() {
	l.f.Close()
}

// kernelPackage returns the name and version of the kernel image package that
// linux-image-amd64 depends on. It runs apt-get update once when apt finds no
// such package, as on a machine whose package lists were never fetched.
func kernelPackage() (name, version string, err error) {
	if _, err := exec.LookPath("apt-cache"); err != nil {
		return "", "", fmt.Errorf("%w: apt-cache not found, so no Debian kernel can be fetched", errNoTools)
	}
	name, version, err = kernelDependency()
	if err != nil && os.Geteuid() == 0 {
		if updateErr := aptUpdate(); updateErr == nil {
			name, version, err = kernelDependency()
		}
	}
	return name, version, err
}

var dependsKernel = regexp.MustCompile(`^(linux-image-[^ ]+)(?: \(= ([^)]+)\))?$`)

func kernelDependency() (name, version string, err error) {
	out, err := exec.Command("apt-cache", "show", "--no-all-versions", kernelMeta).Output()
	if err != nil {
		return "", "", fmt.Errorf("apt-cache show %s: %w%s", kernelMeta, err, stderrOf(err))
	}
	name, version = parseKernelDepends(string(out))
	if name == "" {
		return "", "", fmt.Errorf("apt-cache show %s lists no linux-image-* dependency", kernelMeta)
	}
	if version == "" {
		out, err := exec.Command("apt-cache", "show", "--no-all-versions", name).Output()
		if err != nil {
			return "", "", fmt.Errorf("apt-cache show %s: %w%s", name, err, stderrOf(err))
		}
		version = controlField(string(out), "Version")
	}
	return name, version, nil
}

// parseKernelDepends returns the first linux-image-* package in the Depends
// field of a package record, and its version when the dependency is "(= V)".
func parseKernelDepends(record string) (name, version string) {
	for _, dep := range strings.Split(controlField(record, "Depends"), ",") {
		for _, alt := range strings.Split(dep, "|") {
			if m := dependsKernel.FindStringSubmatch(strings.TrimSpace(alt)); m != nil {
				return m[1], m[2]
			}
		}
	}
	return "", ""
}

// controlField returns the value of a one-line field of a Debian control record.
func controlField(record, field string) string {
	for _, line := range strings.Split(record, "\n") {
		if value, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

func aptUpdate() error {
	cmd := exec.Command("apt-get", "-o", "DPkg::Lock::Timeout=300", "update", "-qq")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// downloadKernel fetches the package into a temporary folder in cacheDir,
// unpacks it and renames the result to dir, so an interrupted run never
// leaves a half-unpacked kernel under the final name.
func downloadKernel(cacheDir, busybox, pkg, version, dir string) error {
	for _, tool := range []string{"apt-get", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%w: %s not found, so no Debian kernel can be fetched", errNoTools, tool)
		}
	}
	tmp, err := os.MkdirTemp(cacheDir, ".download-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// apt-get drops root to the _apt user for downloads and warns when that
	// user cannot write the folder, so download as the current user.
	download := func() error {
		cmd := exec.Command("apt-get", "-q", "-o", "APT::Sandbox::User=root", "download", pkg+"="+version)
		cmd.Dir = tmp
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		return cmd.Run()
	}
	if err := download(); err != nil {
		// Old package lists name a version that the mirror no longer has.
		if os.Geteuid() != 0 || aptUpdate() != nil || download() != nil {
			return fmt.Errorf("apt-get download %s=%s: %w", pkg, version, err)
		}
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if len(debs) != 1 {
		return fmt.Errorf("apt-get download %s=%s left %d .deb files, want 1", pkg, version, len(debs))
	}
	unpacked := filepath.Join(tmp, "root")
	if out, err := exec.Command("dpkg-deb", "-x", debs[0], unpacked).CombinedOutput(); err != nil {
		return fmt.Errorf("dpkg-deb -x %s: %w: %s", debs[0], err, bytes.TrimSpace(out))
	}
	k, err := openKernel(unpacked, pkg, version)
	if err != nil {
		return err
	}
	if err := runDepmod(busybox, unpacked, k.release); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(unpacked, completeMark), []byte(pkg+" "+version+"\n"), 0o644); err != nil {
		return err
	}
	os.RemoveAll(dir)
	return os.Rename(unpacked, dir)
}

// openKernel finds the kernel release in an unpacked package. It does not
// require modules.dep, which the caller adds to a new package.
func openKernel(dir, pkg, version string) (kernel, error) {
	images, _ := filepath.Glob(filepath.Join(dir, "boot", "vmlinuz-*"))
	if len(images) != 1 {
		return kernel{}, fmt.Errorf("%s has %d boot/vmlinuz-* files, want 1; remove the folder and run again", dir, len(images))
	}
	release := strings.TrimPrefix(filepath.Base(images[0]), "vmlinuz-")
	k := kernel{pkg: pkg, version: version, dir: dir, release: release}
	if _, err := os.Stat(k.moduleDir()); err != nil {
		return kernel{}, fmt.Errorf("kernel package in %s has no modules: %w", dir, err)
	}
	return k, nil
}

// newestCached returns the cached kernel with the highest version, compared
// as Debian versions by dpkg.
func newestCached(cacheDir string) (kernel, bool) {
	marks, _ := filepath.Glob(filepath.Join(cacheDir, "linux-image-*", completeMark))
	var found []kernel
	for _, mark := range marks {
		dir := filepath.Dir(mark)
		pkg, version, ok := strings.Cut(filepath.Base(dir), "_")
		if !ok {
			continue
		}
		if k, err := openKernel(dir, pkg, version); err == nil {
			found = append(found, k)
		}
	}
	if len(found) == 0 {
		return kernel{}, false
	}
	sort.Slice(found, func(i, j int) bool {
		return exec.Command("dpkg", "--compare-versions", found[i].version, "lt", found[j].version).Run() == nil
	})
	return found[len(found)-1], true
}

// removeOtherVersions deletes the cached kernels other than keep.
func removeOtherVersions(cacheDir, keep string, logf func(string, ...any)) {
	dirs, _ := filepath.Glob(filepath.Join(cacheDir, "linux-image-*"))
	for _, dir := range dirs {
		if filepath.Base(dir) == keep {
			continue
		}
		logf("removing the older cached kernel %s", dir)
		if err := os.RemoveAll(dir); err != nil {
			logf("remove %s: %v", dir, err)
		}
	}
}

// stderrOf returns ": " and the trimmed standard error of a failed command.
func stderrOf(err error) string {
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && len(bytes.TrimSpace(exitErr.Stderr)) > 0 {
		return ": " + string(bytes.TrimSpace(exitErr.Stderr))
	}
	return ""
}
