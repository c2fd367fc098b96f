package diag

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// Kernel versions rt-lab needs. Stop signals a container's init through a
// pidfd, so a reused PID is never signalled: pidfd_open(2) exists from Linux
// 5.3. On cgroup v2, start and exec place the child in its group at clone time
// with clone3(2) CLONE_INTO_CGROUP, which exists from Linux 5.7.
var (
	minKernel   = kernelVersion{5, 3}
	minKernelV2 = kernelVersion{5, 7}
)

// Thresholds for warnings. They are rules of thumb, not limits of rt-lab: the
// shared base and a container's files take a few MiB, and the resource lesson
// lets a container fill a 64 MiB memory limit, which the host must have to spare.
const (
	minFreeDisk    = 200 << 20
	minAvailMemory = 256 << 20
)

// appletsNeeded are the busybox applets that the runtime (init, sh) and the
// lessons run inside a container.
var appletsNeeded = []string{"init", "sh", "ps", "hostname", "ip", "ping", "nc", "sleep", "seq", "cat"}

// hostTools are the host commands the lessons ask the student to type, with the
// Debian package of each.
var hostTools = []struct{ name, pkg string }{
	{"ip", "iproute2"}, {"ping", "iputils-ping"}, {"hostname", "hostname"},
}

// namespaceOptions maps the namespaces every container gets to the kernel build
// option that provides each.
var namespaceOptions = []struct{ name, option string }{
	{"pid", "CONFIG_PID_NS"}, {"mnt", "CONFIG_NAMESPACES"}, {"uts", "CONFIG_UTS_NS"},
	{"ipc", "CONFIG_IPC_NS"}, {"net", "CONFIG_NET_NS"},
}

// controllerOptions maps each controller to the kernel build option behind it.
var controllerOptions = map[string]string{
	cgroups.Memory:  "CONFIG_MEMCG",
	cgroups.CPU:     "CONFIG_CFS_BANDWIDTH",
	cgroups.CPUAcct: "CONFIG_CGROUP_CPUACCT",
	cgroups.Pids:    "CONFIG_CGROUP_PIDS",
}

type kernelVersion struct{ major, minor int }

func (v kernelVersion) String() string { return fmt.Sprintf("%d.%d", v.major, v.minor) }

func (v kernelVersion) less(w kernelVersion) bool {
	return v.major < w.major || v.major == w.major && v.minor < w.minor
}

// parseKernelRelease reads the major and minor version from a release such as
// "6.1.0-18-amd64" or "5.15.0-105-generic".
func parseKernelRelease(release string) (kernelVersion, error) {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return kernelVersion{}, fmt.Errorf("parse kernel release %q: no minor version", release)
	}
	major, err := strconv.Atoi(parts[0])
	if err != nil {
		return kernelVersion{}, fmt.Errorf("parse kernel release %q: %w", release, err)
	}
	digits := parts[1]
	if i := strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		digits = digits[:i]
	}
	minor, err := strconv.Atoi(digits)
	if err != nil {
		return kernelVersion{}, fmt.Errorf("parse kernel release %q: %w", release, err)
	}
	return kernelVersion{major, minor}, nil
}

func checkRoot(euid int) Check {
	c := Check{ID: CheckRoot, Verdict: OK, Value: msg("DebugValueUID", "UID", euid)}
	if euid != 0 {
		c.Verdict = Warning
		c.Fix = msg("DebugFixRoot")
	}
	return c
}

// checkKernel judges the kernel release against the minimum for cgroup version
// v. hasPidfd is the result of calling pidfd_open(2), which also catches a
// kernel that reports a new version but lacks the call.
func checkKernel(release string, v cgroups.Version, hasPidfd bool) Check {
	min := minKernel
	if v == cgroups.V2 {
		min = minKernelV2
	}
	c := Check{ID: CheckKernel, Verdict: OK, Value: msg("DebugValueKernel", "Release", release, "Min", min.String())}
	got, err := parseKernelRelease(release)
	switch {
	case err != nil:
		c.Verdict, c.Fix = Warning, msg("DebugFixKernelUnknown", "Release", release, "Min", minKernel.String())
	case got.less(minKernel) || !hasPidfd:
		c.Verdict, c.Fix = Missing, msg("DebugFixKernelOld", "Release", release, "Min", minKernel.String())
	case v == cgroups.V2 && got.less(minKernelV2):
		c.Verdict, c.Fix = Missing, msg("DebugFixKernelV2", "Release", release, "Min", minKernelV2.String())
	}
	return c
}

// cgroupHost is the cgroup setup found on the host.
type cgroupHost struct {
	Version cgroups.Version
	Hybrid  bool   // v1 controllers with a cgroup2 hierarchy mounted beside them
	Unified string // folder of that cgroup2 hierarchy, when Hybrid
	Err     error  // no cgroup file system at the base
}

func checkCgroupVersion(base string, h cgroupHost) Check {
	c := Check{ID: CheckCgroup, Verdict: OK}
	switch {
	case h.Err != nil:
		c.Verdict = Missing
		c.Value = msg("DebugValueNotMounted", "Path", base)
		c.Fix = msg("DebugFixCgroupMount", "Path", base)
	case h.Version == cgroups.V2:
		c.Value = msg("DebugValueCgroupV2", "Path", base)
	case h.Hybrid:
		c.Value = msg("DebugValueCgroupHybrid", "Path", base, "Unified", h.Unified)
	default:
		c.Value = msg("DebugValueCgroupV1", "Path", base)
	}
	return c
}

// checkControllers returns one check per controller rt-lab uses on cgroup
// version v. A missing controller's fix depends on /proc/cgroups: a controller
// listed there with enabled 0 was turned off at boot, and one not listed at all
// is not built into the kernel.
func checkControllers(proc, base string, v cgroups.Version) []Check {
	want := []string{cgroups.Memory, cgroups.CPU, cgroups.CPUAcct, cgroups.Pids}
	if v == cgroups.V2 {
		want = []string{cgroups.Memory, cgroups.CPU, cgroups.Pids}
	}
	enabled, _ := readProcCgroups(filepath.Join(proc, "cgroups"))
	var available []string
	if v == cgroups.V2 {
		data, _ := os.ReadFile(filepath.Join(base, "cgroup.controllers"))
		available = strings.Fields(string(data))
	}
	var out []Check
	for _, name := range want {
		c := Check{ID: "cgroup-" + name, Verdict: OK}
		path := filepath.Join(base, name)
		found := fileExists(filepath.Join(path, "cgroup.procs"))
		if v == cgroups.V2 {
			path = filepath.Join(base, "cgroup.controllers")
			found = slices.Contains(available, name)
		}
		on, listed := enabled[name]
		switch {
		case found && v == cgroups.V1 && name == cgroups.CPU && !fileExists(filepath.Join(path, "cpu.cfs_quota_us")):
			c.Verdict = Missing
			c.Value = msg("DebugValueNoQuota", "Path", path)
			c.Fix = msg("DebugFixKernelOption", "Option", controllerOptions[name])
		case found:
			c.Value = msg("DebugValuePath", "Path", path)
		case listed && !on:
			c.Verdict = Missing
			c.Value = msg("DebugValueDisabled", "Controller", name)
			c.Fix = msg("DebugFixBootParam", "Param", "cgroup_enable="+name)
		case listed:
			c.Verdict = Missing
			c.Value = msg("DebugValueNotMounted", "Path", path)
			c.Fix = msg("DebugFixControllerMount", "Controller", name, "Path", path)
		default:
			c.Verdict = Missing
			c.Value = msg("DebugValueNotInKernel", "Feature", name)
			c.Fix = msg("DebugFixKernelOption", "Option", controllerOptions[name])
		}
		out = append(out, c)
	}
	return out
}

// readProcCgroups parses /proc/cgroups ("subsys_name hierarchy num_cgroups
// enabled") into controller -> enabled.
func readProcCgroups(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 4 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		out[fields[0]] = fields[3] == "1"
	}
	return out, sc.Err()
}

// checkNamespaces looks for the namespace files of the calling process, which
// exist exactly for the namespace types the kernel supports.
func checkNamespaces(proc string) Check {
	var have, missing, options []string
	for _, ns := range namespaceOptions {
		if _, err := os.Lstat(filepath.Join(proc, "self", "ns", ns.name)); err != nil {
			missing = append(missing, ns.name)
			options = append(options, ns.option)
			continue
		}
		have = append(have, ns.name)
	}
	c := Check{ID: CheckNamespaces, Verdict: OK, Value: msg("DebugValueList", "List", strings.Join(have, " "))}
	if len(missing) > 0 {
		c.Verdict = Missing
		c.Value = msg("DebugValueMissingList", "List", strings.Join(missing, " "))
		c.Fix = msg("DebugFixKernelOption", "Option", strings.Join(options, ", "))
	}
	return c
}

// checkUserNS reads user.max_user_namespaces: the sysctl exists when the kernel
// has user namespaces, and 0 forbids creating any, even for root.
// kernel.unprivileged_userns_clone (a Debian patch) only limits other users.
func checkUserNS(proc string) Check {
	c := Check{ID: CheckUserNS, Verdict: OK}
	path := filepath.Join(proc, "sys", "user", "max_user_namespaces")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		c.Verdict = Missing
		c.Value = msg("DebugValueNotInKernel", "Feature", "user")
		c.Fix = msg("DebugFixKernelOption", "Option", "CONFIG_USER_NS")
		return c
	}
	if err != nil {
		c.Verdict, c.Value = Warning, errorValue(err)
		return c
	}
	max, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		c.Verdict, c.Value = Warning, errorValue(err)
		return c
	}
	c.Value = msg("DebugValueUserNS", "Max", max)
	if max == 0 {
		c.Verdict, c.Fix = Missing, msg("DebugFixUserNS")
	}
	return c
}

// checkOverlay finds overlayfs in /proc/filesystems, or as a module of the
// running kernel in modules.dep. The kernel loads that module by itself at the
// first overlay mount (request_module "fs-overlay"), so no modprobe is needed.
func checkOverlay(proc, modules, release string) Check {
	c := Check{ID: CheckOverlay, Verdict: OK}
	data, err := os.ReadFile(filepath.Join(proc, "filesystems"))
	if err != nil {
		c.Verdict, c.Value = Warning, errorValue(err)
		return c
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[len(f)-1] == "overlay" {
			c.Value = msg("DebugValueOverlayLoaded")
			return c
		}
	}
	dep, _ := os.ReadFile(filepath.Join(modules, release, "modules.dep"))
	if strings.Contains(string(dep), "/overlay.ko") {
		c.Value = msg("DebugValueOverlayModule")
		return c
	}
	c.Verdict = Missing
	c.Value = msg("DebugValueNotInKernel", "Feature", "overlay")
	c.Fix = msg("DebugFixKernelOption", "Option", "CONFIG_OVERLAY_FS")
	return c
}

// linkProbe is the result of creating a veth pair and a bridge in a throwaway
// network namespace.
type linkProbe struct {
	Skipped bool  // not root: nothing was tried
	Veth    error // creating the veth pair
	Bridge  error // creating the bridge and attaching one veth end to it
}

func checkLinkSupport(p linkProbe) []Check {
	veth := Check{ID: CheckVeth, Verdict: OK, Value: msg("DebugValueLinkMade")}
	bridge := Check{ID: CheckBridgeLink, Verdict: OK, Value: msg("DebugValueLinkMade")}
	if p.Skipped {
		for _, c := range []*Check{&veth, &bridge} {
			c.Verdict, c.Value, c.Fix = Warning, msg("DebugValueNeedsRoot"), msg("DebugFixRoot")
		}
		return []Check{veth, bridge}
	}
	if p.Veth != nil {
		veth.Verdict = Missing
		veth.Value = errorValue(p.Veth)
		veth.Fix = msg("DebugFixKernelOption", "Option", "CONFIG_VETH")
	}
	if p.Bridge != nil {
		bridge.Verdict = Missing
		bridge.Value = errorValue(p.Bridge)
		bridge.Fix = msg("DebugFixKernelOption", "Option", "CONFIG_BRIDGE")
	}
	return []Check{veth, bridge}
}

// checkBusybox reports the busybox that runtime.FindBusybox chose, or its error,
// whose message already names the fix.
func checkBusybox(path string, err error) Check {
	c := Check{ID: CheckBusybox, Verdict: OK, Value: msg("DebugValueBusybox", "Path", path)}
	if err == nil {
		return c
	}
	c.Verdict, c.Value, c.Fix = Missing, msg("DebugValueNotFound"), msg("DebugFixBusybox")
	var ue *usererr.Error
	if errors.As(err, &ue) {
		c.Fix = Message{ID: ue.ID, Data: ue.Data}
	} else {
		c.Value = errorValue(err)
	}
	return c
}

// checkApplets compares the applets `busybox --list` printed with appletsNeeded.
func checkApplets(applets []string, err error) Check {
	c := Check{ID: CheckApplets, Verdict: OK, Value: msg("DebugValueList", "List", strings.Join(appletsNeeded, " "))}
	if err != nil {
		c.Verdict, c.Value, c.Fix = Missing, errorValue(err), msg("DebugFixBusybox")
		return c
	}
	var missing []string
	for _, a := range appletsNeeded {
		if !slices.Contains(applets, a) {
			missing = append(missing, a)
		}
	}
	if len(missing) > 0 {
		c.Verdict = Missing
		c.Value = msg("DebugValueMissingList", "List", strings.Join(missing, " "))
		c.Fix = msg("DebugFixBusybox")
	}
	return c
}

// checkHostTools looks for the host commands of the lessons with lookPath. A
// missing one breaks only commands the student types, not rt-lab, so it is a
// warning.
func checkHostTools(lookPath func(string) (string, error)) Check {
	var have, missing, pkgs []string
	for _, t := range hostTools {
		if _, err := lookPath(t.name); err != nil {
			missing = append(missing, t.name)
			pkgs = append(pkgs, t.pkg)
			continue
		}
		have = append(have, t.name)
	}
	c := Check{ID: CheckHostTools, Verdict: OK, Value: msg("DebugValueList", "List", strings.Join(have, " "))}
	if len(missing) > 0 {
		c.Verdict = Warning
		c.Value = msg("DebugValueMissingList", "List", strings.Join(missing, " "))
		c.Fix = msg("DebugFixPackages", "Packages", strings.Join(pkgs, " "))
	}
	return c
}

// diskSpace is the statfs(2) result for the file system of a folder.
type diskSpace struct {
	Path     string // the folder that was measured: the root folder or its nearest existing parent
	Free     uint64 // bytes available to unprivileged users
	ReadOnly bool
	Err      error
}

func checkDisk(root string, d diskSpace) Check {
	c := Check{ID: CheckDisk, Verdict: OK, Value: msg("DebugValueDisk", "FreeMiB", d.Free>>20, "Path", d.Path)}
	switch {
	case d.Err != nil:
		c.Verdict, c.Value = Warning, errorValue(d.Err)
	case d.ReadOnly:
		c.Verdict, c.Fix = Missing, msg("DebugFixDiskReadOnly", "Path", d.Path)
	case d.Free < minFreeDisk:
		c.Verdict, c.Fix = Warning, msg("DebugFixDiskLow", "Path", root, "MinMiB", minFreeDisk>>20)
	}
	return c
}

// checkMemory reads MemTotal and MemAvailable from /proc/meminfo.
func checkMemory(proc string) Check {
	c := Check{ID: CheckMemory, Verdict: OK}
	info, err := readMeminfo(filepath.Join(proc, "meminfo"))
	total, okTotal := info["MemTotal"]
	avail, okAvail := info["MemAvailable"]
	if err != nil || !okTotal || !okAvail {
		if err == nil {
			err = errors.New("no MemTotal or MemAvailable line")
		}
		c.Verdict, c.Value = Warning, errorValue(err)
		return c
	}
	c.Value = msg("DebugValueMemory", "TotalMiB", total>>20, "AvailableMiB", avail>>20)
	if avail < minAvailMemory {
		c.Verdict, c.Fix = Warning, msg("DebugFixMemoryLow", "MinMiB", minAvailMemory>>20)
	}
	return c
}

// readMeminfo parses the "Key: N kB" lines of /proc/meminfo into bytes.
func readMeminfo(path string) (map[string]uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for _, line := range strings.Split(string(data), "\n") {
		key, rest, ok := strings.Cut(line, ":")
		fields := strings.Fields(rest)
		if !ok || len(fields) != 2 || fields[1] != "kB" {
			continue
		}
		n, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parse %s %s: %w", path, key, err)
		}
		out[key] = n << 10
	}
	return out, nil
}

func checkCPUs(n int) Check {
	return Check{ID: CheckCPUs, Verdict: OK, Value: msg("DebugValueCPUs", "Count", n)}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
