package diag

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/network"
	"github.com/rt-lab/rt-lab/runtime"
)

// Issue codes that only recover-state looks for.
const (
	IssueMountLeft    = "mount-left"         // a mount below a house folder in rt-lab's mount namespace
	IssueTempLeft     = "temp-left"          // a temporary file of a write cut short
	IssueNetworkFiles = "network-unreadable" // network.json or network-addresses.json cannot be read
)

// Finding is one problem that recover-state found and the repairs that fix it.
// A finding without repairs is left as it is, and Manual says why and what
// the user can do.
type Finding struct {
	Name    string // the house, or "" for the root
	Issue   Issue
	Repairs []runtime.Repair
	Results []runtime.RepairResult // one per repair, after Recover
	Manual  Message
}

// Repaired reports whether every repair of f was made.
func (f *Finding) Repaired() bool {
	if len(f.Repairs) == 0 || len(f.Results) != len(f.Repairs) {
		return false
	}
	for _, r := range f.Results {
		if !r.Done {
			return false
		}
	}
	return true
}

// Recover finds what is broken in house name, or in the whole root when name
// is "", and repairs it through the runtime, which holds the root's lock from
// the search to the last repair. With dryRun it only finds. A house that
// Inspect finds healthy gets no repair.
func (in *Inspector) Recover(name string, dryRun bool) ([]Finding, error) {
	var findings []Finding
	results, err := in.Runtime.Recover(dryRun, func() ([]runtime.Repair, error) {
		var err error
		if findings, err = in.PlanRecovery(name); err != nil {
			return nil, err
		}
		var all []runtime.Repair
		for _, f := range findings {
			all = append(all, f.Repairs...)
		}
		return all, nil
	})
	if err != nil {
		return nil, err
	}
	for i := range findings {
		n := len(findings[i].Repairs)
		findings[i].Results, results = results[:n], results[n:]
	}
	return findings, nil
}

// PlanRecovery inspects house name, or the whole root when name is "", and
// returns what is broken with the repairs that fix it, in the order they must
// run. It only reads.
func (in *Inspector) PlanRecovery(name string) ([]Finding, error) {
	rep, err := in.Inspect(name)
	if err != nil {
		return nil, err
	}
	mounts := in.hostMounts()
	selfMnt, _ := nsInode(filepath.Join(in.Proc, "self", "ns", "mnt"))

	var out []Finding
	for _, c := range rep.Containers {
		out = append(out, in.planContainer(c, mounts[c.Name], selfMnt)...)
	}
	if rep.NetworkError != nil {
		i := issue(IssueNetworkFiles, "Root", rep.Root)
		i.Cause = errorValue(rep.NetworkError)
		out = append(out, Finding{Issue: i, Manual: msg("DebugFixNetFile", "Root", rep.Root)})
	}
	for _, o := range rep.Orphans {
		out = append(out, planOrphan(o))
	}
	temps, err := in.Runtime.StaleTempFiles(name, time.Now())
	if err != nil {
		return nil, err
	}
	for _, t := range temps {
		out = append(out, Finding{
			Name:    t.Name,
			Issue:   issue(IssueTempLeft, "Path", t.Path, "Time", t.ModTime.Format(time.DateTime)),
			Repairs: []runtime.Repair{{Kind: runtime.RepairRemoveTemp, Name: t.Name, Target: t.Path}},
		})
	}
	return out, nil
}

// planContainer returns the findings of one house: first the state repairs
// that record a live init, then the mounts, the cgroup and the veth, and last
// the repairs that mark the house stopped or remove a folder without a state
// file.
func (in *Inspector) planContainer(c *Container, mounts []string, selfMnt uint64) []Finding {
	var first, middle, last []Finding
	repair := func(kind runtime.RepairKind, target string) []runtime.Repair {
		return []runtime.Repair{{Kind: kind, Name: c.Name, Target: target}}
	}
	live := c.Init != nil
	readable := c.Recorded.State == RecordedRunning || c.Recorded.State == RecordedStopped

	for _, m := range mounts {
		middle = append(middle, Finding{Name: c.Name, Issue: issue(IssueMountLeft, "MountPoint", m),
			Repairs: repair(runtime.RepairUnmount, m)})
	}
	for _, i := range c.Issues {
		f := Finding{Name: c.Name, Issue: i}
		switch i.Code {
		case IssueStateMissing, IssueStateUnreadable:
			switch {
			case live:
				f.Repairs = repair(runtime.RepairRebuildState, "")
				first = append(first, f)
			case i.Code == IssueStateMissing:
				f.Repairs = repair(runtime.RepairRemoveFolder, "")
				last = append(last, f)
			default:
				f.Manual = msg("RecoverManualStateUnreadable", "Name", c.Name)
				last = append(last, f)
			}
			continue
		case IssueInitMismatch, IssueInitUnrecorded:
			if !readable {
				continue // the state file is rebuilt from the live init
			}
			f.Repairs = repair(runtime.RepairRecordInit, "")
			first = append(first, f)
			continue
		case IssueInitDead:
			f.Repairs = repair(runtime.RepairMarkStopped, "")
			last = append(last, f)
			continue
		case IssueRootfsMounted:
			if in.mountCovered(c, i, selfMnt) {
				continue // a mount-left finding unmounts it
			}
			f.Manual = msg("RecoverManualMountElsewhere", "PID", i.Data["PID"], "MountPoint", i.Data["MountPoint"])
		case IssueCgroupLeft:
			f.Repairs = repair(runtime.RepairRemoveCgroup, "")
		case IssueVethLeft:
			f.Repairs = repair(runtime.RepairRemoveVeth, "")
		case IssueCgroupBusy:
			f.Manual = msg("RecoverManualBusy", "PIDs", i.Data["PIDs"])
		case IssueRootfsMissing, IssueBaseMissing:
			f.Manual = msg("RecoverManualFiles", "Name", c.Name)
		default: // cgroup-foreign, veth-missing, veth-detached
			f.Manual = msg("RecoverManualRestart", "Name", c.Name)
		}
		middle = append(middle, f)
	}
	return slices.Concat(first, middle, last)
}

// mountCovered reports whether the rootfs-mounted issue i names a mount in
// rt-lab's own mount namespace below c's folder, which a mount-left finding
// already unmounts.
func (in *Inspector) mountCovered(c *Container, i Issue, selfMnt uint64) bool {
	dir := in.Runtime.ContainerDir(c.Name) + "/"
	for _, m := range c.Rootfs.Mounts {
		if m.PID == i.Data["PID"] && m.MountPoint == i.Data["MountPoint"] {
			return m.MountNS == selfMnt && strings.HasPrefix(m.MountPoint, dir)
		}
	}
	return false
}

// planOrphan returns the finding for an object of this root that belongs to
// no house.
func planOrphan(o Issue) Finding {
	f := Finding{Issue: o}
	switch o.Code {
	case IssueCgroupOrphan:
		if o.Data["Count"] != 0 {
			f.Manual = msg("RecoverManualBusy", "PIDs", o.Data["PIDs"])
			break
		}
		group := filepath.Base(o.Data["Path"].(string))
		f.Repairs = []runtime.Repair{{Kind: runtime.RepairRemoveCgroup, Name: group}}
	case IssueVethOrphan:
		link := o.Data["Link"].(string)
		if !strings.HasPrefix(link, network.HostLinkName("")) {
			f.Manual = msg("RecoverManualForeignLink", "Link", link, "Bridge", o.Data["Bridge"])
			break
		}
		f.Repairs = []runtime.Repair{{Kind: runtime.RepairRemoveLink, Target: link}}
	case IssueAddressOrphan:
		f.Name = o.Data["Name"].(string)
		f.Repairs = []runtime.Repair{{Kind: runtime.RepairReleaseAddress, Name: f.Name}}
	case IssuePhoneBookStale:
		f.Repairs = []runtime.Repair{{Kind: runtime.RepairPhoneBook, Target: o.Data["Path"].(string)}}
	}
	return f
}

// hostMounts returns the mount points below each house folder in the mount
// namespace of the inspecting process (rt-lab's), by house name, deepest
// first so that they can be unmounted in that order.
func (in *Inspector) hostMounts() map[string][]string {
	f, err := os.Open(filepath.Join(in.Proc, "self", "mountinfo"))
	if err != nil {
		return nil
	}
	defer f.Close()
	mounts, err := procfs.ParseMountinfo(f)
	if err != nil {
		return nil
	}
	dir := in.Runtime.ContainersDir() + "/"
	out := map[string][]string{}
	for i := len(mounts) - 1; i >= 0; i-- { // a mount is listed after the one it sits on
		rest, ok := strings.CutPrefix(filepath.Clean(mounts[i].MountPoint), dir)
		if !ok {
			continue
		}
		house, _, _ := strings.Cut(rest, "/")
		out[house] = append(out[house], mounts[i].MountPoint)
	}
	return out
}
