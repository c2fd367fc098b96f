// Package leftovers finds and removes the kernel objects of rt-lab state
// folders other than the caller's: bridges, veth host ends, nftables tables
// and cgroup parents. They are named from a hash of their folder's path, so a
// folder that was removed, or a test that lost its folder while its houses
// ran, leaves objects that no command on another folder ever looks at.
//
// A set of objects with one hash is removable when no process in its cgroups
// belongs to a state folder that still exists, and its bridge's alias, which
// rt-lab sets to the folder's path, names no folder that exists. A house's
// init is recognised by the overlay at its "/": its upper folder is
// ROOT/containers/NAME/upper. A set without processes or alias is removable
// too. If its folder does exist, it only has stopped houses, and rt-lab makes
// the bridge, the table and the cgroup parent again at the next start.
package leftovers

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"

	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/network"
)

// Name patterns with the 8 hex digits of the hash as the first group: those of
// network.BridgeName, network.TableName and cgroups.ParentName.
var (
	bridgePattern = regexp.MustCompile(`^rt-br-([0-9a-f]{8})$`)
	tablePattern  = regexp.MustCompile(`^rtlab_([0-9a-f]{8})$`)
	cgroupPattern = regexp.MustCompile(`^rt-lab-([0-9a-f]{8})$`)
)

// Settings that tests can change.
var (
	mountinfoPath = "/proc/self/mountinfo"
	killWait      = 5 * time.Second
)

// Set is the group of kernel objects of one state folder other than the
// caller's.
type Set struct {
	Hash    string   `json:"hash"`
	Bridge  string   `json:"bridge,omitempty"`
	Veths   []string `json:"veths,omitempty"` // host ends attached to Bridge
	Table   string   `json:"table,omitempty"`
	Cgroups []string `json:"cgroups,omitempty"` // parent folders, one per hierarchy
	// PIDs are the processes in the cgroups, and Roots the state folders their
	// houses belong to, when known.
	PIDs  []int    `json:"pids,omitempty"`
	Roots []string `json:"roots,omitempty"`
	// InUse is set when a process belongs to a state folder that still exists,
	// or to none that rt-lab can name, or when the bridge's alias names a
	// folder that exists. Such a set is never removed.
	InUse bool `json:"in_use"`

	bridgeRoot string // the state folder that the bridge's alias names
}

// Hash returns the hash that names the objects of state folder root.
func Hash(root string) string {
	return strings.TrimPrefix(network.BridgeName(root), "rt-br-")
}

// Find lists the object sets of every state folder except self (a cleaned
// absolute path), sorted by hash.
func Find(self string) ([]*Set, error) {
	sets := map[string]*Set{}
	get := func(hash string) *Set {
		if sets[hash] == nil {
			sets[hash] = &Set{Hash: hash}
		}
		return sets[hash]
	}
	if err := findLinks(get); err != nil {
		return nil, err
	}
	if err := findTables(get); err != nil {
		return nil, err
	}
	if err := findCgroups(get); err != nil {
		return nil, err
	}
	delete(sets, Hash(self))
	out := make([]*Set, 0, len(sets))
	for _, s := range sets {
		s.classify()
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Hash < out[j].Hash })
	return out, nil
}

func findLinks(get func(string) *Set) error {
	links, err := netlink.LinkList()
	if err != nil {
		return fmt.Errorf("list network links: %w", err)
	}
	bridges := map[int]*Set{}
	for _, l := range links {
		if m := bridgePattern.FindStringSubmatch(l.Attrs().Name); m != nil && l.Type() == "bridge" {
			s := get(m[1])
			s.Bridge = l.Attrs().Name
			if alias := l.Attrs().Alias; alias != "" && Hash(alias) == m[1] {
				s.bridgeRoot = alias
			}
			bridges[l.Attrs().Index] = s
		}
	}
	for _, l := range links {
		name := l.Attrs().Name
		if s := bridges[l.Attrs().MasterIndex]; s != nil && strings.HasPrefix(name, network.LinkPrefix+"v-") {
			s.Veths = append(s.Veths, name)
		}
	}
	return nil
}

func findTables(get func(string) *Set) error {
	conn, err := nftables.New()
	if err != nil {
		return fmt.Errorf("open nftables: %w", err)
	}
	tables, err := conn.ListTablesOfFamily(nftables.TableFamilyIPv4)
	if err != nil {
		// A kernel without nf_tables has no tables to leave behind.
		if errors.Is(err, syscall.EPROTONOSUPPORT) || errors.Is(err, syscall.ENOENT) {
			return nil
		}
		return fmt.Errorf("list nftables tables: %w", err)
	}
	for _, t := range tables {
		if m := tablePattern.FindStringSubmatch(t.Name); m != nil {
			get(m[1]).Table = t.Name
		}
	}
	return nil
}

// findCgroups looks for parent folders in every cgroup hierarchy that the
// caller sees, v1 and v2, and reads the processes below them.
func findCgroups(get func(string) *Set) error {
	points, err := cgroupMounts()
	if err != nil {
		return err
	}
	for _, point := range points {
		entries, err := os.ReadDir(point)
		if err != nil {
			continue
		}
		for _, e := range entries {
			m := cgroupPattern.FindStringSubmatch(e.Name())
			if m == nil || !e.IsDir() {
				continue
			}
			s := get(m[1])
			dir := filepath.Join(point, e.Name())
			s.Cgroups = append(s.Cgroups, dir)
			for _, pid := range procsBelow(dir) {
				if !slices.Contains(s.PIDs, pid) {
					s.PIDs = append(s.PIDs, pid)
				}
			}
		}
	}
	return nil
}

// cgroupMounts returns the mount points of the cgroup and cgroup2 file systems
// in the caller's mount namespace, each once.
func cgroupMounts() ([]string, error) {
	data, err := os.ReadFile(mountinfoPath)
	if err != nil {
		return nil, err
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		_, after, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		fields := strings.Fields(line)
		fstype := strings.Fields(after)
		if len(fields) < 5 || len(fstype) == 0 || (fstype[0] != "cgroup" && fstype[0] != "cgroup2") {
			continue
		}
		if !slices.Contains(points, fields[4]) {
			points = append(points, fields[4])
		}
	}
	return points, nil
}

// procsBelow returns the processes in group folder dir and its descendants.
func procsBelow(dir string) []int {
	var pids []int
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(filepath.Join(path, "cgroup.procs"))
		if err != nil {
			return nil
		}
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	return pids
}

// classify names the state folders of the set's processes and bridge, and
// decides InUse.
func (s *Set) classify() {
	if s.bridgeRoot != "" {
		s.Roots = append(s.Roots, s.bridgeRoot)
		if _, err := os.Stat(s.bridgeRoot); err == nil {
			s.InUse = true
		}
	}
	for _, pid := range s.PIDs {
		root, ok := rootOf(pid)
		if !ok {
			// A process that rt-lab cannot place may belong to anything.
			if processExists(pid) {
				s.InUse = true
			}
			continue
		}
		if !slices.Contains(s.Roots, root) {
			s.Roots = append(s.Roots, root)
		}
		if _, err := os.Stat(filepath.Join(root, "containers")); err == nil {
			s.InUse = true
		}
	}
	sort.Strings(s.Roots)
	sort.Ints(s.PIDs)
}

func processExists(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

// rootOf returns the state folder of the house that process pid lives in,
// from the upper folder of the overlay at its "/".
func rootOf(pid int) (string, bool) {
	m, err := procfs.RootMount(pid)
	if err != nil || m.FSType != "overlay" {
		return "", false
	}
	upper, ok := m.Option("upperdir")
	if !ok || filepath.Base(upper) != "upper" {
		return "", false
	}
	containers := filepath.Dir(filepath.Dir(upper))
	if filepath.Base(containers) != "containers" {
		return "", false
	}
	return filepath.Dir(containers), true
}

// Remove deletes the objects of set s, which must not be InUse: it kills the
// processes in its cgroups and waits for them, removes the cgroup folders,
// the veth host ends, the bridge and the table.
func Remove(s *Set) error {
	if s.InUse {
		return fmt.Errorf("objects %s are in use by a state folder that exists", s.Hash)
	}
	var errs []error
	if err := killAll(s.Cgroups); err != nil {
		errs = append(errs, err)
	}
	for _, dir := range s.Cgroups {
		if err := removeTree(dir); err != nil {
			errs = append(errs, err)
		}
	}
	for _, name := range append(append([]string{}, s.Veths...), s.Bridge) {
		if name == "" {
			continue
		}
		if err := deleteLink(name); err != nil {
			errs = append(errs, err)
		}
	}
	if s.Table != "" {
		if err := deleteTable(s.Table); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// killAll sends SIGKILL to every process in the group folders and waits until
// they are empty. Killing a house's init ends every process of its pid
// namespace too.
func killAll(dirs []string) error {
	deadline := time.Now().Add(killWait)
	for {
		var left []int
		for _, dir := range dirs {
			left = append(left, procsBelow(dir)...)
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v still run after SIGKILL", left)
		}
		for _, pid := range left {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// removeTree removes a group folder and its descendants, deepest first.
func removeTree(dir string) error {
	var dirs []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	var errs []error
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := syscall.Rmdir(dirs[i]); err != nil && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, &os.PathError{Op: "rmdir", Path: dirs[i], Err: err})
		}
	}
	return errors.Join(errs...)
}

func deleteLink(name string) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		var notFound netlink.LinkNotFoundError
		if errors.As(err, &notFound) {
			return nil
		}
		return fmt.Errorf("find link %s: %w", name, err)
	}
	if err := netlink.LinkDel(l); err != nil {
		return fmt.Errorf("delete link %s: %w", name, err)
	}
	return nil
}

func deleteTable(name string) error {
	conn, err := nftables.New()
	if err != nil {
		return fmt.Errorf("open nftables: %w", err)
	}
	conn.DelTable(&nftables.Table{Name: name, Family: nftables.TableFamilyIPv4})
	if err := conn.Flush(); err != nil && !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("delete nftables table %s: %w", name, err)
	}
	return nil
}

// Name returns the name that stands for the set in a list: its bridge, else
// its table, else its first cgroup folder.
func (s *Set) Name() string {
	switch {
	case s.Bridge != "":
		return s.Bridge
	case s.Table != "":
		return s.Table
	case len(s.Cgroups) > 0:
		return s.Cgroups[0]
	}
	return s.Hash
}
