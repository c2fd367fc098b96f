package diag

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/locales"
	"github.com/rt-lab/rt-lab/network"
)

// Issue codes: one inconsistency between a state file and the kernel, or an
// object of rt-lab that belongs to no container. The codes are stable and
// appear in the JSON output; each has the message id "DebugIssue_" followed by
// the code with '-' replaced by '_'.
const (
	IssueStateUnreadable = "state-unreadable"  // the state file cannot be parsed
	IssueStateMissing    = "state-missing"     // a folder without a state file
	IssueInitDead        = "init-dead"         // the recorded init is gone and no other lives
	IssueInitMismatch    = "init-pid-mismatch" // the recorded PID is wrong, but the init lives elsewhere
	IssueInitUnrecorded  = "init-unrecorded"   // the state file records no init, but one lives
	IssueCgroupLeft      = "cgroup-left"       // no init, but the empty cgroup remains
	IssueCgroupBusy      = "cgroup-busy"       // no init, but the cgroup has processes
	IssueCgroupForeign   = "cgroup-foreign"    // the init is not in the container's cgroup
	IssueVethLeft        = "veth-left"         // no init, but the host end of the veth remains
	IssueVethMissing     = "veth-missing"      // the init lives without its veth
	IssueVethDetached    = "veth-detached"     // the veth is not on the bridge
	IssueRootfsMissing   = "rootfs-missing"    // the overlay upper folder is gone
	IssueBaseMissing     = "base-missing"      // the shared lower folder is gone
	IssueRootfsMounted   = "rootfs-mounted"    // the overlay is mounted outside the container
	IssueCgroupOrphan    = "cgroup-orphan"     // a group of this root without a container
	IssueVethOrphan      = "veth-orphan"       // a link on the bridge without an address
	IssueAddressOrphan   = "address-orphan"    // an address of a container that does not exist
	IssuePhoneBookStale  = "phone-book-stale"  // the phone book does not match the address table
	// IssuePhoneBookDetached: the running house reads an old phone book folder.
	IssuePhoneBookDetached = "phone-book-detached"
	// IssueHostsUnlinked: the running house's /etc/hosts is not the phone book link.
	IssueHostsUnlinked = "hosts-unlinked"
)

// Issue is one inconsistency. Cause, when set, explains it further, such as
// why the recorded PID was rejected.
type Issue struct {
	Code  string
	Data  map[string]any
	Cause Message
}

// Message returns the issue's catalog message.
func (i Issue) Message() Message {
	return Message{ID: "DebugIssue_" + strings.ReplaceAll(i.Code, "-", "_"), Data: i.Data}
}

func issue(code string, kv ...any) Issue { return Issue{Code: code, Data: locales.Fields(kv...)} }

// assess fills c.Issues from what inspect found.
func assess(c *Container) {
	add := func(i Issue) { c.Issues = append(c.Issues, i) }
	rec := c.Recorded
	switch rec.State {
	case RecordedUnreadable:
		i := issue(IssueStateUnreadable, "Path", rec.Path)
		i.Cause = rec.Error
		add(i)
	case RecordedMissing:
		add(issue(IssueStateMissing, "Path", filepath.Dir(rec.Path)))
	}
	switch {
	case rec.State == RecordedRunning && c.Init == nil:
		i := issue(IssueInitDead, "PID", rec.PID)
		i.Cause = rec.Rejected
		add(i)
	case rec.State == RecordedRunning && !c.Init.FromState:
		i := issue(IssueInitMismatch, "PID", rec.PID, "Found", c.Init.PID)
		i.Cause = rec.Rejected
		add(i)
	case (rec.State == RecordedStopped || rec.State == RecordedMissing) && c.Init != nil:
		add(issue(IssueInitUnrecorded, "PID", c.Init.PID))
	}
	assessCgroup(c, add)
	assessNetwork(c, add)
	assessRootfs(c, add)
	if c.PhoneBookDetached {
		add(issue(IssuePhoneBookDetached, "Path", network.PhoneBookMount))
	}
	if c.HostsUnlinked {
		add(issue(IssueHostsUnlinked, "Target", network.PhoneBookHosts))
	}
}

func assessCgroup(c *Container, add func(Issue)) {
	cg := c.Cgroup
	path := cg.Paths[cgroups.Memory]
	switch {
	case c.Init != nil && cg.Expected != "" && path != "" && filepath.Clean(path) != filepath.Clean(cg.Expected):
		add(issue(IssueCgroupForeign, "PID", c.Init.PID, "Path", path, "Want", cg.Expected))
	case c.Init == nil && cg.Exists && len(cg.Procs) > 0:
		add(issue(IssueCgroupBusy, "Path", existingPath(cg.Paths), "PIDs", formatInts(cg.Procs)))
	case c.Init == nil && cg.Exists:
		add(issue(IssueCgroupLeft, "Path", existingPath(cg.Paths)))
	}
}

func assessNetwork(c *Container, add func(Issue)) {
	n := c.Network
	switch {
	case n == nil:
	case n.LinkExists && !n.OnBridge:
		add(issue(IssueVethDetached, "Link", n.Link, "Bridge", n.Bridge))
	case c.Init == nil && n.LinkExists:
		add(issue(IssueVethLeft, "Link", n.Link))
	case c.Init != nil && !n.LinkExists:
		add(issue(IssueVethMissing, "Link", n.Link, "Address", n.Address))
	}
}

func assessRootfs(c *Container, add func(Issue)) {
	fs := c.Rootfs
	if c.Recorded.State != RecordedMissing && !fs.UpperExists {
		add(issue(IssueRootfsMissing, "Path", fs.Upper))
	}
	if fs.Base != "" && !fs.BaseExists {
		add(issue(IssueBaseMissing, "Path", fs.Base))
	}
	for _, m := range fs.Mounts {
		if c.Init != nil && m.MountNS == c.Init.MountNS {
			continue
		}
		add(issue(IssueRootfsMounted, "PID", m.PID, "MountPoint", m.MountPoint))
	}
}

// existingPath returns the first folder in paths that exists, memory first,
// so a v1 leftover in only some hierarchies is still named.
func existingPath(paths map[string]string) string {
	for _, ctrl := range []string{cgroups.Memory, cgroups.CPU, cgroups.CPUAcct, cgroups.Pids} {
		if p, ok := paths[ctrl]; ok && fileExists(p) {
			return p
		}
	}
	return ""
}

// orphans finds the cgroups, bridge ports and addresses of this root that
// belong to none of the container folders names.
func (in *Inspector) orphans(net *network.Network, names []string) []Issue {
	var out []Issue
	groups := in.groupFolders()
	var groupNames []string
	for g := range groups {
		groupNames = append(groupNames, g)
	}
	slices.Sort(groupNames)
	for _, g := range groupNames {
		if slices.Contains(names, g) {
			continue
		}
		var pids []int
		for _, dir := range groups[g] {
			pids = append(pids, readProcsFile(filepath.Join(dir, "cgroup.procs"))...)
		}
		slices.Sort(pids)
		pids = slices.Compact(pids)
		out = append(out, issue(IssueCgroupOrphan, "Path", groups[g][0], "Count", len(pids), "PIDs", formatInts(pids)))
	}

	if net == nil {
		return out
	}
	allocs, err := net.Allocations()
	if err != nil {
		return out
	}
	links := map[string]bool{}
	for _, a := range allocs {
		links[a.HostLink()] = true
		if !slices.Contains(names, a.Name) {
			out = append(out, issue(IssueAddressOrphan, "Name", a.Name, "Address", a.Address.String()))
		}
	}

	bridge := net.Config().Bridge
	ports, _ := in.links.Ports(bridge)
	slices.Sort(ports)
	for _, p := range ports {
		if !links[p] {
			out = append(out, issue(IssueVethOrphan, "Link", p, "Bridge", bridge))
		}
	}
	return out
}

func readProcsFile(path string) []int {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	return pids
}
