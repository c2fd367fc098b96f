// Package diag inspects the host and the containers of one root folder without
// changing anything. System checks the facilities rt-lab needs (kernel, cgroups,
// namespaces, overlayfs, veth and bridge, busybox, disk, memory). Inspect
// compares each container's state file with what the kernel shows and names
// every inconsistency, such as a dead init whose cgroup is left behind.
//
// Results carry message ids and template fields rather than text, so the
// command line renders them in the user's language. Every file system root that
// a probe reads (/proc, the cgroupfs mount) can be replaced, so unit tests run
// on fake trees.
package diag

import (
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/locales"
)

// Verdict is the result of one system check.
type Verdict string

// System check verdicts. Only Missing makes `debug system` fail.
const (
	OK      Verdict = "ok"
	Warning Verdict = "warning"
	Missing Verdict = "missing"
)

// Message is a catalog message id with its template fields, or an error to
// render. The zero Message means no message.
type Message struct {
	ID   string
	Data map[string]any
	Err  error // set instead of ID for an error found while probing
}

func msg(id string, kv ...any) Message { return Message{ID: id, Data: locales.Fields(kv...)} }

// Render returns m in p's language, or "" for the zero Message.
func (m Message) Render(p *locales.Printer) string {
	switch {
	case m.Err != nil:
		return usererr.Render(m.Err, p)
	case m.ID == "":
		return ""
	}
	return p.T(m.ID, m.Data)
}

// IsZero reports whether m is the zero Message.
func (m Message) IsZero() bool { return m.ID == "" && m.Err == nil }

// errorValue shows an error found while probing as a Message.
func errorValue(err error) Message { return Message{Err: err} }

// Check is one facility of the host with its verdict. Fix is the action that
// repairs the facility when the verdict is not OK.
type Check struct {
	ID      string // stable name, such as "kernel" or "cgroup-controllers"
	Verdict Verdict
	Value   Message // what was found
	Fix     Message // zero when Verdict is OK
}

// Check ids, in the order System reports them.
const (
	CheckRoot        = "root"
	CheckKernel      = "kernel"
	CheckCgroup      = "cgroup-version"
	CheckControllers = "cgroup-controllers"
	CheckNamespaces  = "namespaces"
	CheckUserNS      = "user-namespaces"
	CheckOverlay     = "overlayfs"
	CheckVeth        = "veth"
	CheckBridgeLink  = "bridge-support"
	CheckBusybox     = "busybox"
	CheckApplets     = "busybox-applets"
	CheckHostTools   = "host-tools"
	CheckDisk        = "disk"
	CheckMemory      = "memory"
	CheckCPUs        = "cpus"
	CheckBridge      = "bridge"
	CheckLeftovers   = "leftovers"
)

// SystemReport is the result of System.
type SystemReport struct {
	Root   string
	Checks []Check
}

// Count returns the number of checks with verdict v.
func (r *SystemReport) Count(v Verdict) int {
	n := 0
	for _, c := range r.Checks {
		if c.Verdict == v {
			n++
		}
	}
	return n
}
