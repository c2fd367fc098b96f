package diag

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeLinks is a linkView over a map of link name -> link.
type fakeLinks map[string]linkInfo

func (f fakeLinks) Link(name string) (linkInfo, bool, error) {
	l, ok := f[name]
	l.Name = name
	return l, ok, nil
}

func (f fakeLinks) Ports(bridge string) ([]string, error) {
	var names []string
	for name, l := range f {
		if l.Master == bridge {
			names = append(names, name)
		}
	}
	return names, nil
}

func mustPrefixes(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range s {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

// fakeProc is a fake /proc tree. Namespaces are files under ns/; a process's
// /proc/PID/ns/KIND is a hard link to one of them, so processes share a
// namespace exactly when their links share an inode, as on nsfs.
type fakeProc struct {
	t    *testing.T
	root string
}

func newFakeProc(t *testing.T) *fakeProc {
	t.Helper()
	f := &fakeProc{t: t, root: filepath.Join(t.TempDir(), "proc")}
	for _, ns := range []string{"pid-host", "mnt-host"} {
		writeFiles(t, f.root, map[string]string{"ns-objects/" + ns: ""})
	}
	f.linkNS("self", "pid", "pid-host")
	return f
}

func (f *fakeProc) linkNS(dir, kind, ns string) {
	f.t.Helper()
	src := filepath.Join(f.root, "ns-objects", ns)
	if _, err := os.Stat(src); err != nil {
		writeFiles(f.t, f.root, map[string]string{"ns-objects/" + ns: ""})
	}
	dst := filepath.Join(f.root, dir, "ns", kind)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Link(src, dst); err != nil {
		f.t.Fatal(err)
	}
}

// fakeProcess describes one process of a fakeProc.
type fakeProcess struct {
	PID       int
	NSpid     []int
	PidNS     string // namespace file name, such as "pid-host" or "pid-rumah"
	MntNS     string
	Start     uint64
	State     byte // 0 means 'S'
	Comm      string
	Cmdline   []string
	Cgroup    string // content of /proc/PID/cgroup
	Mountinfo string // content of /proc/PID/mountinfo
}

func (f *fakeProc) add(p fakeProcess) {
	f.t.Helper()
	if p.State == 0 {
		p.State = 'S'
	}
	dir := fmt.Sprint(p.PID)
	// Fields 3 to 22 of /proc/PID/stat; field 22 is the start time.
	fields := []string{string(p.State), "1"}
	for i := 5; i <= 21; i++ {
		fields = append(fields, "0")
	}
	fields = append(fields, fmt.Sprint(p.Start))
	var nspid []string
	for _, n := range p.NSpid {
		nspid = append(nspid, fmt.Sprint(n))
	}
	writeFiles(f.t, f.root, map[string]string{
		dir + "/stat":      fmt.Sprintf("%d (%s) %s 0 0\n", p.PID, p.Comm, strings.Join(fields, " ")),
		dir + "/status":    fmt.Sprintf("Name:\t%s\nNSpid:\t%s\n", p.Comm, strings.Join(nspid, "\t")),
		dir + "/cmdline":   strings.Join(p.Cmdline, "\x00"),
		dir + "/cgroup":    p.Cgroup,
		dir + "/mountinfo": p.Mountinfo,
	})
	f.linkNS(dir, "pid", p.PidNS)
	f.linkNS(dir, "mnt", p.MntNS)
}

// hostMountinfo is the mountinfo of a host process, with extra lines.
func hostMountinfo(extra ...string) string {
	lines := []string{"22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda1 rw"}
	return strings.Join(append(lines, extra...), "\n") + "\n"
}

// houseMountinfo is the mountinfo of a process in a house whose overlay upper
// folder is upper.
func houseMountinfo(upper string) string {
	return fmt.Sprintf("300 200 0:50 / / rw,relatime - overlay overlay rw,lowerdir=/base,upperdir=%s,workdir=/work\n"+
		"301 300 0:51 / /proc rw - proc proc rw\n", escapeOption(upper))
}

// escapeOption escapes a mount option value as the kernel's mountinfo does
// (seq_show_option), so a test folder name with a comma or space parses.
func escapeOption(s string) string {
	return strings.NewReplacer(`\`, `\134`, ",", `\054`, " ", `\040`, "\t", `\011`, "\n", `\012`).Replace(s)
}

// v1CgroupFile is /proc/PID/cgroup for a process in group path of every v1
// hierarchy rt-lab uses, with a unified line as on a hybrid host.
func v1CgroupFile(path string) string {
	return fmt.Sprintf("8:pids:%[1]s\n4:memory:%[1]s\n1:cpu,cpuacct:%[1]s\n0::/\n", path)
}

// fakeGroup creates a v1 group folder in every hierarchy under base, with the
// counters that Stats reads and procs in cgroup.procs.
func fakeGroup(t *testing.T, base, path, procs string) {
	t.Helper()
	files := map[string]map[string]string{
		"memory": {"memory.usage_in_bytes": "1048576", "memory.max_usage_in_bytes": "2097152",
			"memory.limit_in_bytes": "67108864", "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"},
		"cpu":     {"cpu.cfs_quota_us": "25000", "cpu.cfs_period_us": "100000", "cpu.stat": "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n"},
		"cpuacct": {"cpuacct.usage": "5000000"},
		"pids":    {"pids.current": "2", "pids.max": "512"},
	}
	all := map[string]string{}
	for ctrl, fs := range files {
		all[ctrl+"/cgroup.procs"] = ""
		for name, content := range fs {
			all[ctrl+path+"/"+name] = content + "\n"
		}
		all[ctrl+path+"/cgroup.procs"] = procs
	}
	writeFiles(t, base, all)
}
