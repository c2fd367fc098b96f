package runtime_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/diag"
	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/network"
	"github.com/rt-lab/rt-lab/runtime"
)

// recoverRuntime returns a runtime on a fresh root folder whose houses,
// unfinished folders and bridge are removed when the test ends, even when it
// fails.
func recoverRuntime(t *testing.T) *runtime.Runtime {
	t.Helper()
	testutil.RequireRoot(t)
	r, err := runtime.New(runtime.Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		entries, _ := os.ReadDir(r.ContainersDir())
		for _, e := range entries {
			if err := r.Delete(e.Name(), true); err != nil {
				t.Errorf("cleanup: delete %s: %v", e.Name(), err)
			}
		}
		if err := r.RemoveBridge(true); err != nil {
			t.Errorf("cleanup: remove bridge: %v", err)
		}
	})
	return r
}

// rootHash returns 8 hex digits derived from the root folder, for kernel
// object names that two test roots must not share.
func rootHash(r *runtime.Runtime) string {
	sum := sha256.Sum256([]byte(r.Root()))
	return hex.EncodeToString(sum[:4])
}

// parentDirs returns the folders of the root's parent cgroup, one per
// hierarchy.
func parentDirs(t *testing.T, r *runtime.Runtime) []string {
	t.Helper()
	m, err := cgroups.New(cgroups.Config{Parent: cgroups.ParentName(r.Root()), Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, ctrl := range []string{cgroups.Memory, cgroups.CPU, cgroups.CPUAcct, cgroups.Pids} {
		dirs = append(dirs, filepath.Dir(m.Path(ctrl)))
	}
	slices.Sort(dirs)
	return slices.Compact(dirs)
}

// groupsUnderParent lists the groups below the root's parent cgroup, in every
// hierarchy, as "folder/group".
func groupsUnderParent(t *testing.T, r *runtime.Runtime) []string {
	t.Helper()
	var out []string
	for _, dir := range parentDirs(t, r) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.IsDir() {
				out = append(out, filepath.Base(dir)+"/"+e.Name())
			}
		}
	}
	slices.Sort(out)
	return out
}

// bridgePorts lists the links attached to the root's bridge.
func bridgePorts(t *testing.T, r *runtime.Runtime) []string {
	t.Helper()
	n, err := r.Network()
	if errors.Is(err, network.ErrNotConfigured) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	br, err := netlink.LinkByName(n.Config().Bridge)
	if err != nil {
		return nil
	}
	links := linkList(t)
	var out []string
	for _, l := range links {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			out = append(out, l.Attrs().Name)
		}
	}
	slices.Sort(out)
	return out
}

// linkList lists the host's links. A dump that a concurrent change of the
// links interrupted (NLM_F_DUMP_INTR) may be incomplete, so it is repeated.
func linkList(t *testing.T) []netlink.Link {
	t.Helper()
	for attempt := 1; ; attempt++ {
		links, err := netlink.LinkList()
		if err == nil {
			return links
		}
		if !errors.Is(err, netlink.ErrDumpInterrupted) || attempt == 10 {
			t.Fatalf("list links: %v", err)
		}
	}
}

// mountsUnder lists the mount points at or below dir in this process's mount
// namespace.
func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	mounts, err := procfs.Mounts(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range mounts {
		if m.MountPoint == dir || strings.HasPrefix(m.MountPoint, dir+"/") {
			out = append(out, m.MountPoint)
		}
	}
	return out
}

// treeOf describes every file under dir: type, mode, size, modification time
// and, for regular files, the content's hash.
func treeOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		desc := fmt.Sprintf("%v %d %d", fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			desc += " " + hex.EncodeToString(sum[:])
		}
		out[path] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// world is what recover-state may change: the root's files and the kernel
// objects of the root.
type world struct {
	Tree    map[string]string
	Groups  []string
	Ports   []string
	Mounts  []string
	Running map[string]int // house -> PID of its init
}

func worldOf(t *testing.T, r *runtime.Runtime) world {
	t.Helper()
	w := world{Tree: treeOf(t, r.Root()), Groups: groupsUnderParent(t, r), Ports: bridgePorts(t, r),
		Mounts: mountsUnder(t, r.Root()), Running: map[string]int{}}
	cs, err := r.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Status == runtime.StatusRunning {
			w.Running[c.Name] = c.PID
		}
	}
	return w
}

func mustCreate(t *testing.T, r *runtime.Runtime, opts runtime.CreateOptions) {
	t.Helper()
	if _, err := r.Create(opts); err != nil {
		t.Fatalf("create %s: %v", opts.Name, err)
	}
}

func mustStart(t *testing.T, r *runtime.Runtime, name string) *runtime.Container {
	t.Helper()
	c, err := r.Start(name)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	return c
}

// killInit kills a house's init with SIGKILL, as the student does from the
// host in the emergency lesson. It waits until the init is gone and the
// kernel has removed the veth pair with the house's network namespace, which
// happens a moment later.
func killInit(t *testing.T, r *runtime.Runtime, c *runtime.Container) {
	t.Helper()
	if err := syscall.Kill(c.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	n, err := r.Network()
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := n.Allocation(c.Name)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, linkErr := netlink.LinkByName(a.HostLink())
		if !procfs.Alive(c.PID, c.PIDStart) && linkErr != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("init %d of %s or its veth %s still there 10 s after SIGKILL", c.PID, c.Name, a.HostLink())
		}
	}
}

// editState rewrites house name's state file through edit.
func editState(t *testing.T, r *runtime.Runtime, name string, edit func(map[string]any)) {
	t.Helper()
	data, err := os.ReadFile(r.StatePath(name))
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	edit(st)
	if data, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(r.StatePath(name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeOld writes a file whose modification time is an hour ago.
func writeOld(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}

// addOrphanLink attaches an rt-v- veth that no address names to the root's
// bridge, as a crash between attaching a house and recording it could leave.
func addOrphanLink(t *testing.T, r *runtime.Runtime) string {
	t.Helper()
	n, err := r.Network()
	if err != nil {
		t.Fatal(err)
	}
	br, err := netlink.LinkByName(n.Config().Bridge)
	if err != nil {
		t.Fatal(err)
	}
	name := network.HostLinkName(rootHash(r))
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: "rtp-" + rootHash(r)}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if l, err := netlink.LinkByName(name); err == nil {
			netlink.LinkDel(l)
		}
	})
	l, err := netlink.LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetMaster(l, br); err != nil {
		t.Fatal(err)
	}
	return name
}

// findingCodes lists "house:code" for each finding.
func findingCodes(fs []diag.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name+":"+f.Issue.Code)
	}
	slices.Sort(out)
	return out
}

func recoverAll(t *testing.T, r *runtime.Runtime, name string, dryRun bool) []diag.Finding {
	t.Helper()
	fs, err := (&diag.Inspector{Runtime: r}).Recover(name, dryRun)
	if err != nil {
		t.Fatalf("recover %q (dry run %v): %v", name, dryRun, err)
	}
	return fs
}

// TestRecoverRepairsOnlyDamage breaks a complex in every way recover-state
// repairs, next to healthy houses, and checks that a dry run changes nothing,
// that the repair leaves only the healthy houses, and that a second run finds
// nothing.
func TestRecoverRepairsOnlyDamage(t *testing.T) {
	r := recoverRuntime(t)
	for _, name := range []string{"sehat-jalan", "sehat-diam", "mati", "tanpa-catatan", "palsu"} {
		mustCreate(t, r, runtime.CreateOptions{Name: name})
	}
	mustCreate(t, r, runtime.CreateOptions{Name: "rusak-hidup", Hostname: "rusak",
		MemoryBytes: 64 << 20, CPUPercent: 50, Pids: 100})
	healthy := mustStart(t, r, "sehat-jalan")
	dead := mustStart(t, r, "mati")
	unrecorded := mustStart(t, r, "tanpa-catatan")
	broken := mustStart(t, r, "rusak-hidup")

	// A letter in each healthy house, written the way its family would.
	if _, err := r.Exec("sehat-jalan", runtime.Process{Args: []string{"sh", "-c", "echo surat > /root/surat"}}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(r.UpperDir("sehat-diam"), "root"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.UpperDir("sehat-diam"), "root", "surat"), []byte("surat\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// The damage.
	killInit(t, r, dead)
	rootfs := r.RootfsDir("mati")
	if err := unix.Mount("tmpfs", rootfs, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(rootfs, 0) })
	editState(t, r, "tanpa-catatan", func(st map[string]any) { delete(st, "pid"); delete(st, "pid_start") })
	if err := os.WriteFile(r.StatePath("rusak-hidup"), []byte(`{"version":1,"name":"rusak-hi`), 0o644); err != nil {
		t.Fatal(err)
	}
	self, err := procfs.ReadStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	editState(t, r, "palsu", func(st map[string]any) { st["pid"], st["pid_start"] = os.Getpid(), self.StartTime })
	if err := os.MkdirAll(filepath.Join(r.UpperDir("setengah"), "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	ghost, err := cgroups.New(cgroups.Config{Parent: cgroups.ParentName(r.Root()), Name: "hantu"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ghost.Create(cgroups.Limits{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ghost.Destroy() })
	orphanLink := addOrphanLink(t, r)
	n, err := r.Network()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Allocate("hilang"); err != nil {
		t.Fatal(err)
	}
	stale := []string{
		filepath.Join(r.Root(), ".network.json.tmp-123"),
		filepath.Join(r.ContainerDir("sehat-diam"), ".state.json.tmp-456"),
		filepath.Join(r.UpperDir("sehat-diam"), "etc", ".hosts.rt-lab-0123456789ab"),
		fmt.Sprintf("/proc/%d/root/etc/.hosts.rt-lab-abcdef012345", healthy.PID),
	}
	for _, p := range stale {
		writeOld(t, p)
	}
	halfBase := filepath.Join(r.Root(), "base", ".tmp-0123456789abcdef-789")
	if err := os.Mkdir(halfBase, 0o755); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(halfBase, old, old); err != nil {
		t.Fatal(err)
	}
	// Written "later" than the recovery: it may belong to a write in progress.
	fresh := filepath.Join(r.ContainerDir("sehat-diam"), ".state.json.tmp-999")
	if err := os.WriteFile(fresh, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(fresh, future, future); err != nil {
		t.Fatal(err)
	}

	wantCodes := []string{
		":cgroup-orphan", ":temp-left", ":temp-left", ":veth-orphan",
		"hilang:address-orphan",
		"mati:cgroup-left", "mati:init-dead", "mati:mount-left",
		"palsu:init-dead",
		"rusak-hidup:state-unreadable",
		"sehat-diam:temp-left", "sehat-diam:temp-left",
		"sehat-jalan:temp-left",
		"setengah:state-missing",
		"tanpa-catatan:init-unrecorded",
	}
	healthyState, err := os.ReadFile(r.StatePath("sehat-jalan"))
	if err != nil {
		t.Fatal(err)
	}
	stoppedState, err := os.ReadFile(r.StatePath("sehat-diam"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("dry run changes nothing", func(t *testing.T) {
		before := worldOf(t, r)
		fs := recoverAll(t, r, "", true)
		if got := findingCodes(fs); !slices.Equal(got, wantCodes) {
			t.Errorf("findings\n%v\nwant\n%v", got, wantCodes)
		}
		for _, f := range fs {
			for _, res := range f.Results {
				if res.Done || res.Err != nil {
					t.Errorf("dry run result %+v, want nothing done", res)
				}
			}
		}
		after := worldOf(t, r)
		for path, desc := range before.Tree {
			if after.Tree[path] != desc {
				t.Errorf("dry run changed %s: %q -> %q", path, desc, after.Tree[path])
			}
		}
		for path := range after.Tree {
			if _, ok := before.Tree[path]; !ok {
				t.Errorf("dry run made %s", path)
			}
		}
		if !slices.Equal(before.Groups, after.Groups) || !slices.Equal(before.Ports, after.Ports) ||
			!slices.Equal(before.Mounts, after.Mounts) {
			t.Errorf("dry run changed the kernel:\nbefore %+v\nafter  %+v", before, after)
		}
	})

	t.Run("repair", func(t *testing.T) {
		fs := recoverAll(t, r, "", false)
		for _, f := range fs {
			if !f.Repaired() {
				t.Errorf("%s: %s not repaired: results %+v, manual %+v", f.Name, f.Issue.Code, f.Results, f.Manual)
			}
		}
		if got := findingCodes(fs); !slices.Equal(got, wantCodes) {
			t.Errorf("findings\n%v\nwant\n%v", got, wantCodes)
		}

		w := worldOf(t, r)
		running := map[string]int{"sehat-jalan": healthy.PID, "tanpa-catatan": unrecorded.PID, "rusak-hidup": broken.PID}
		if fmt.Sprint(w.Running) != fmt.Sprint(running) {
			t.Errorf("running houses %v, want %v", w.Running, running)
		}
		var wantGroups []string
		for _, dir := range parentDirs(t, r) {
			for _, name := range []string{"rusak-hidup", "sehat-jalan", "tanpa-catatan"} {
				wantGroups = append(wantGroups, filepath.Base(dir)+"/"+name)
			}
		}
		slices.Sort(wantGroups)
		if !slices.Equal(w.Groups, wantGroups) {
			t.Errorf("groups %v, want %v", w.Groups, wantGroups)
		}
		if slices.Contains(w.Ports, orphanLink) || len(w.Ports) != 3 {
			t.Errorf("bridge ports %v, want the three running houses' cables only", w.Ports)
		}
		if len(w.Mounts) > 0 {
			t.Errorf("mounts left under the root: %v", w.Mounts)
		}
		if _, ok, _ := n.Allocation("hilang"); ok {
			t.Error("address of hilang still allocated")
		}
		if _, err := os.Stat(r.ContainerDir("setengah")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("unfinished folder setengah: %v, want it removed", err)
		}
		for _, p := range append(stale, halfBase) {
			if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("stale %s: %v, want it removed", p, err)
			}
		}
		if _, err := os.Stat(fresh); err != nil {
			t.Errorf("fresh temporary file: %v, want it kept", err)
		}

		for name, want := range map[string][]byte{"sehat-jalan": healthyState, "sehat-diam": stoppedState} {
			if got, err := os.ReadFile(r.StatePath(name)); err != nil || string(got) != string(want) {
				t.Errorf("state of healthy %s changed: %v\n%s\nwant\n%s", name, err, got, want)
			}
		}
		if !procfs.Alive(healthy.PID, healthy.PIDStart) {
			t.Error("the healthy house's init died")
		}
		if out, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/root/surat", healthy.PID)); err != nil || string(out) != "surat\n" {
			t.Errorf("letter in sehat-jalan: %q, %v", out, err)
		}
		if out, err := os.ReadFile(filepath.Join(r.UpperDir("sehat-diam"), "root", "surat")); err != nil || string(out) != "surat\n" {
			t.Errorf("letter in sehat-diam: %q, %v", out, err)
		}
		for _, name := range []string{"mati", "palsu"} {
			if c, err := r.Get(name); err != nil || c.PID != 0 || c.Status != runtime.StatusStopped {
				t.Errorf("%s after repair: %+v, %v; want stopped without a PID", name, c, err)
			}
		}
		if c, err := r.Get("tanpa-catatan"); err != nil || c.PID != unrecorded.PID || c.PIDStart != unrecorded.PIDStart {
			t.Errorf("tanpa-catatan after repair: %+v, %v; want PID %d recorded", c, err, unrecorded.PID)
		}
		c, err := r.Get("rusak-hidup")
		if err != nil {
			t.Fatalf("rebuilt state: %v", err)
		}
		if c.PID != broken.PID || c.PIDStart != broken.PIDStart || c.Status != runtime.StatusRunning {
			t.Errorf("rebuilt PID %d start %d status %s, want %d %d running", c.PID, c.PIDStart, c.Status, broken.PID, broken.PIDStart)
		}
		if c.Hostname != "rusak" || c.Base != broken.Base || c.Address != broken.Address {
			t.Errorf("rebuilt hostname %q base %q address %v, want rusak %q %v", c.Hostname, c.Base, c.Address, broken.Base, broken.Address)
		}
		if c.MemoryBytes != 64<<20 || c.CPUPercent != 50 || c.Pids != 100 {
			t.Errorf("rebuilt limits %d bytes, %d%%, %d pids; want 64 MiB, 50%%, 100", c.MemoryBytes, c.CPUPercent, c.Pids)
		}
	})

	t.Run("second run finds nothing", func(t *testing.T) {
		if fs := recoverAll(t, r, "", false); len(fs) > 0 {
			t.Errorf("second run found %v", findingCodes(fs))
		}
	})

	t.Run("unreadable state without init is left", func(t *testing.T) {
		if err := os.WriteFile(r.StatePath("sehat-diam"), []byte("{"), 0o644); err != nil {
			t.Fatal(err)
		}
		fs := recoverAll(t, r, "sehat-diam", false)
		if got := findingCodes(fs); !slices.Equal(got, []string{"sehat-diam:state-unreadable"}) {
			t.Fatalf("findings %v, want the unreadable state only", got)
		}
		if f := fs[0]; len(f.Repairs) > 0 || f.Manual.ID != "RecoverManualStateUnreadable" || f.Repaired() {
			t.Errorf("finding %+v, want no repair and the delete --force advice", f)
		}
		if got, _ := os.ReadFile(r.StatePath("sehat-diam")); string(got) != "{" {
			t.Errorf("state file changed to %q", got)
		}
		if _, err := os.Stat(filepath.Join(r.UpperDir("sehat-diam"), "root", "surat")); err != nil {
			t.Errorf("house files touched: %v", err)
		}
	})
}
