package diag

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// writeFiles creates files under dir from a path -> content map.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDiagParseKernelRelease(t *testing.T) {
	tests := []struct {
		release string
		want    kernelVersion
		wantErr bool
	}{
		{"6.1.0-18-amd64", kernelVersion{6, 1}, false},
		{"5.15.0-105-generic", kernelVersion{5, 15}, false},
		{"5.4", kernelVersion{5, 4}, false},
		{"6.18.44-fc-v1252", kernelVersion{6, 18}, false},
		{"4.19rc1", kernelVersion{4, 19}, false},
		{"6", kernelVersion{}, true},
		{"x.1", kernelVersion{}, true},
		{"6.rc", kernelVersion{}, true},
	}
	for _, tt := range tests {
		got, err := parseKernelRelease(tt.release)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseKernelRelease(%q) error = %v, want error %v", tt.release, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("parseKernelRelease(%q) = %v, want %v", tt.release, got, tt.want)
		}
	}
}

func TestDiagCheckKernel(t *testing.T) {
	tests := []struct {
		name    string
		release string
		version cgroups.Version
		pidfd   bool
		want    Verdict
		wantFix string
	}{
		{"new kernel", "6.1.0-18-amd64", cgroups.V2, true, OK, ""},
		{"5.4 on v1", "5.4.0", cgroups.V1, true, OK, ""},
		{"5.4 on v2", "5.4.0", cgroups.V2, true, Missing, "DebugFixKernelV2"},
		{"4.19", "4.19.0-20-amd64", cgroups.V1, true, Missing, "DebugFixKernelOld"},
		{"no pidfd_open", "6.1.0", cgroups.V1, false, Missing, "DebugFixKernelOld"},
		{"unparsable", "weird", cgroups.V1, true, Warning, "DebugFixKernelUnknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := checkKernel(tt.release, tt.version, tt.pidfd)
			if c.Verdict != tt.want {
				t.Errorf("verdict = %s, want %s", c.Verdict, tt.want)
			}
			if c.Fix.ID != tt.wantFix {
				t.Errorf("fix = %q, want %q", c.Fix.ID, tt.wantFix)
			}
		})
	}
}

// fakeV1 builds a v1 cgroupfs tree with the given controllers mounted and a
// /proc/cgroups that lists them as enabled, plus extra lines.
func fakeV1(t *testing.T, mounted []string, procCgroups string) (proc, base string) {
	t.Helper()
	dir := t.TempDir()
	proc, base = filepath.Join(dir, "proc"), filepath.Join(dir, "cgroup")
	files := map[string]string{"proc/cgroups": "#subsys_name\thierarchy\tnum_cgroups\tenabled\n" + procCgroups}
	for _, c := range mounted {
		files["cgroup/"+c+"/cgroup.procs"] = ""
		if c == cgroups.CPU {
			files["cgroup/cpu/cpu.cfs_quota_us"] = "-1\n"
		}
	}
	writeFiles(t, dir, files)
	return proc, base
}

func TestDiagCheckControllersV1(t *testing.T) {
	all := "memory\t4\t1\t1\ncpu\t1\t1\t1\ncpuacct\t2\t1\t1\npids\t8\t1\t1\n"
	tests := []struct {
		name        string
		mounted     []string
		procCgroups string
		check       string
		want        Verdict
		wantFix     string
	}{
		{"all mounted", []string{"memory", "cpu", "cpuacct", "pids"}, all, "cgroup-memory", OK, ""},
		{"memory off at boot", []string{"cpu", "cpuacct", "pids"},
			"memory\t0\t1\t0\ncpu\t1\t1\t1\ncpuacct\t2\t1\t1\npids\t8\t1\t1\n", "cgroup-memory", Missing, "DebugFixBootParam"},
		{"pids not built", []string{"memory", "cpu", "cpuacct"},
			"memory\t4\t1\t1\ncpu\t1\t1\t1\ncpuacct\t2\t1\t1\n", "cgroup-pids", Missing, "DebugFixKernelOption"},
		{"pids on but unmounted", []string{"memory", "cpu", "cpuacct"}, all, "cgroup-pids", Missing, "DebugFixControllerMount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proc, base := fakeV1(t, tt.mounted, tt.procCgroups)
			checks := checkControllers(proc, base, cgroups.V1)
			if len(checks) != 4 {
				t.Fatalf("got %d checks, want 4 (memory, cpu, cpuacct, pids)", len(checks))
			}
			c := findCheck(t, checks, tt.check)
			if c.Verdict != tt.want {
				t.Errorf("verdict = %s, want %s", c.Verdict, tt.want)
			}
			if c.Fix.ID != tt.wantFix {
				t.Errorf("fix = %q, want %q", c.Fix.ID, tt.wantFix)
			}
		})
	}
}

func TestDiagCheckControllersV1NoQuota(t *testing.T) {
	proc, base := fakeV1(t, []string{"memory", "cpu", "cpuacct", "pids"}, "")
	if err := os.Remove(filepath.Join(base, "cpu", "cpu.cfs_quota_us")); err != nil {
		t.Fatal(err)
	}
	c := findCheck(t, checkControllers(proc, base, cgroups.V1), "cgroup-cpu")
	if c.Verdict != Missing || c.Fix.Data["Option"] != "CONFIG_CFS_BANDWIDTH" {
		t.Errorf("cpu without quota: verdict %s, fix %v; want missing naming CONFIG_CFS_BANDWIDTH", c.Verdict, c.Fix)
	}
}

func TestDiagCheckControllersV2(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"proc/cgroups":              "#subsys_name\thierarchy\tnum_cgroups\tenabled\nmemory\t0\t1\t1\ncpu\t0\t1\t1\npids\t0\t1\t1\n",
		"cgroup/cgroup.controllers": "cpuset cpu io pids\n",
	})
	checks := checkControllers(filepath.Join(dir, "proc"), filepath.Join(dir, "cgroup"), cgroups.V2)
	if len(checks) != 3 {
		t.Fatalf("got %d checks, want 3 (memory, cpu, pids)", len(checks))
	}
	if c := findCheck(t, checks, "cgroup-cpu"); c.Verdict != OK {
		t.Errorf("cpu verdict = %s, want ok", c.Verdict)
	}
	if c := findCheck(t, checks, "cgroup-memory"); c.Verdict != Missing || c.Fix.ID != "DebugFixControllerMount" {
		t.Errorf("memory: verdict %s, fix %q; want missing with DebugFixControllerMount", c.Verdict, c.Fix.ID)
	}
}

func TestDiagCheckNamespaces(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"self/ns/pid": "", "self/ns/mnt": "", "self/ns/uts": "", "self/ns/ipc": ""})
	c := checkNamespaces(dir)
	if c.Verdict != Missing {
		t.Fatalf("verdict = %s, want missing", c.Verdict)
	}
	if c.Value.Data["List"] != "net" || c.Fix.Data["Option"] != "CONFIG_NET_NS" {
		t.Errorf("value %v, fix %v; want net and CONFIG_NET_NS", c.Value.Data, c.Fix.Data)
	}
}

func TestDiagCheckUserNS(t *testing.T) {
	tests := []struct {
		name    string
		content *string
		want    Verdict
	}{
		{"allowed", ptr("15000\n"), OK},
		{"zero", ptr("0\n"), Missing},
		{"no sysctl", nil, Missing},
		{"garbage", ptr("many\n"), Warning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.content != nil {
				writeFiles(t, dir, map[string]string{"sys/user/max_user_namespaces": *tt.content})
			}
			if c := checkUserNS(dir); c.Verdict != tt.want {
				t.Errorf("verdict = %s, want %s", c.Verdict, tt.want)
			}
		})
	}
}

func TestDiagCheckOverlay(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  Verdict
		value string
	}{
		{"registered", map[string]string{"proc/filesystems": "nodev\tproc\nnodev\toverlay\n"}, OK, "DebugValueOverlayLoaded"},
		{"module", map[string]string{"proc/filesystems": "nodev\tproc\n",
			"modules/6.1.0/modules.dep": "kernel/fs/overlayfs/overlay.ko.xz:\n"}, OK, "DebugValueOverlayModule"},
		{"absent", map[string]string{"proc/filesystems": "nodev\tproc\n"}, Missing, "DebugValueNotInKernel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			c := checkOverlay(filepath.Join(dir, "proc"), filepath.Join(dir, "modules"), "6.1.0")
			if c.Verdict != tt.want || c.Value.ID != tt.value {
				t.Errorf("got %s %s, want %s %s", c.Verdict, c.Value.ID, tt.want, tt.value)
			}
		})
	}
}

func TestDiagCheckLinkSupport(t *testing.T) {
	checks := checkLinkSupport(linkProbe{Veth: errors.New("operation not supported")})
	if checks[0].Verdict != Missing || checks[0].Fix.Data["Option"] != "CONFIG_VETH" {
		t.Errorf("veth failure: %+v; want missing naming CONFIG_VETH", checks[0])
	}
	if checks[1].Verdict != OK {
		t.Errorf("bridge verdict = %s, want ok", checks[1].Verdict)
	}
	for _, c := range checkLinkSupport(linkProbe{Skipped: true}) {
		if c.Verdict != Warning {
			t.Errorf("%s without root: verdict %s, want warning", c.ID, c.Verdict)
		}
	}
}

func TestDiagCheckBusybox(t *testing.T) {
	if c := checkBusybox("/bin/busybox", nil); c.Verdict != OK {
		t.Errorf("found busybox: verdict %s", c.Verdict)
	}
	dynamic := usererr.New(usererr.Environment, "ErrBusyboxDynamic", "Path", "/bin/busybox")
	c := checkBusybox("", dynamic)
	if c.Verdict != Missing || c.Fix.ID != "ErrBusyboxDynamic" {
		t.Errorf("dynamic busybox: verdict %s, fix %q; want missing with the runtime's message", c.Verdict, c.Fix.ID)
	}
}

func TestDiagCheckApplets(t *testing.T) {
	full := append([]string{"ls"}, appletsNeeded...)
	if c := checkApplets(full, nil); c.Verdict != OK {
		t.Errorf("every applet: verdict %s", c.Verdict)
	}
	c := checkApplets([]string{"init", "sh", "ps", "hostname", "sleep", "seq", "cat"}, nil)
	if c.Verdict != Missing || c.Value.Data["List"] != "ip ping nc" {
		t.Errorf("no network applets: %s %v; want missing listing ip ping nc", c.Verdict, c.Value.Data)
	}
}

func TestDiagCheckHostTools(t *testing.T) {
	lookPath := func(name string) (string, error) {
		if name == "ping" {
			return "", errors.New("not found")
		}
		return "/usr/bin/" + name, nil
	}
	c := checkHostTools(lookPath)
	if c.Verdict != Warning || c.Fix.Data["Packages"] != "iputils-ping" {
		t.Errorf("no ping: %s %v; want a warning naming iputils-ping", c.Verdict, c.Fix.Data)
	}
}

func TestDiagCheckDisk(t *testing.T) {
	tests := []struct {
		name string
		d    diskSpace
		want Verdict
	}{
		{"plenty", diskSpace{Path: "/var", Free: 10 << 30}, OK},
		{"low", diskSpace{Path: "/var", Free: 50 << 20}, Warning},
		{"read-only", diskSpace{Path: "/var", Free: 10 << 30, ReadOnly: true}, Missing},
		{"statfs failed", diskSpace{Path: "/var", Err: errors.New("EIO")}, Warning},
	}
	for _, tt := range tests {
		if c := checkDisk("/var/lib/rt-lab", tt.d); c.Verdict != tt.want {
			t.Errorf("%s: verdict %s, want %s", tt.name, c.Verdict, tt.want)
		}
	}
}

func TestDiagCheckMemory(t *testing.T) {
	tests := []struct {
		name    string
		meminfo string
		want    Verdict
	}{
		{"plenty", "MemTotal: 4000000 kB\nMemFree: 100 kB\nMemAvailable: 3000000 kB\n", OK},
		{"low", "MemTotal: 4000000 kB\nMemAvailable: 100000 kB\n", Warning},
		{"no MemAvailable", "MemTotal: 4000000 kB\n", Warning},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"meminfo": tt.meminfo})
		if c := checkMemory(dir); c.Verdict != tt.want {
			t.Errorf("%s: verdict %s, want %s", tt.name, c.Verdict, tt.want)
		}
	}
}

func TestDiagCheckRoot(t *testing.T) {
	if c := checkRoot(0); c.Verdict != OK {
		t.Errorf("uid 0: %s", c.Verdict)
	}
	if c := checkRoot(1000); c.Verdict != Warning || c.Fix.ID != "DebugFixRoot" {
		t.Errorf("uid 1000: %s %q, want a warning telling to use sudo", c.Verdict, c.Fix.ID)
	}
}

func TestDiagCheckBridge(t *testing.T) {
	netFiles := map[string]string{
		"network.json": `{"version":1,"subnet":"10.0.0.0/24","gateway":"10.0.0.1","bridge":"rt-br-test"}`,
	}
	gw := mustPrefixes("10.0.0.1/24")
	tests := []struct {
		name  string
		files map[string]string
		links fakeLinks
		want  Verdict
		value string
	}{
		{"no network yet", nil, fakeLinks{}, OK, "DebugValueBridgeNone"},
		{"bridge not created", netFiles, fakeLinks{}, OK, "DebugValueBridgeAbsent"},
		{"bridge up", netFiles, fakeLinks{"rt-br-test": {Type: "bridge", Up: true, Addrs: gw}}, OK, "DebugValueBridge"},
		{"bridge down", netFiles, fakeLinks{"rt-br-test": {Type: "bridge", Addrs: gw}}, Warning, "DebugValueBridgeBroken"},
		{"no address", netFiles, fakeLinks{"rt-br-test": {Type: "bridge", Up: true}}, Warning, "DebugValueBridgeBroken"},
		{"name taken", netFiles, fakeLinks{"rt-br-test": {Type: "dummy", Up: true}}, Missing, "DebugValueBridgeType"},
		{"corrupt file", map[string]string{"network.json": "{"}, fakeLinks{}, Missing, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, tt.files)
			c := checkBridge(root, tt.links)
			if c.Verdict != tt.want {
				t.Errorf("verdict = %s, want %s (value %+v)", c.Verdict, tt.want, c.Value)
			}
			if tt.value != "" && c.Value.ID != tt.value {
				t.Errorf("value = %q, want %q", c.Value.ID, tt.value)
			}
		})
	}
}

func findCheck(t *testing.T, checks []Check, id string) Check {
	t.Helper()
	var ids []string
	for _, c := range checks {
		if c.ID == id {
			return c
		}
		ids = append(ids, c.ID)
	}
	t.Fatalf("no check %q among %s", id, strings.Join(ids, ", "))
	return Check{}
}

func ptr(s string) *string { return &s }
