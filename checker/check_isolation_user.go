package checker

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/procfs"
)

// idMapping is one line of /proc/PID/uid_map or gid_map (user_namespaces(7)):
// IDs Inside to Inside+Count-1 in the process's user namespace are Outside to
// Outside+Count-1 in the user namespace of the process reading the file.
type idMapping struct {
	Inside, Outside, Count uint64
}

// parseIDMap parses the text of a uid_map or gid_map file.
func parseIDMap(text string) ([]idMapping, error) {
	var out []idMapping
	for _, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 3 {
			return nil, fmt.Errorf("id map line %q: %d fields, want 3", line, len(fields))
		}
		var m idMapping
		for i, dst := range []*uint64{&m.Inside, &m.Outside, &m.Count} {
			n, err := strconv.ParseUint(fields[i], 10, 32)
			if err != nil {
				return nil, fmt.Errorf("id map line %q: %w", line, err)
			}
			*dst = n
		}
		out = append(out, m)
	}
	return out, nil
}

// outsideID returns the ID that id inside maps to, and false when the map does
// not cover it.
func outsideID(maps []idMapping, id uint64) (uint64, bool) {
	for _, m := range maps {
		if id >= m.Inside && id-m.Inside < m.Count {
			return m.Outside + id - m.Inside, true
		}
	}
	return 0, false
}

// formatIDMap lists mappings as "0 -> 100000 (65536 IDs)", or "-" for none.
func formatIDMap(maps []idMapping) string {
	if len(maps) == 0 {
		return "-"
	}
	parts := make([]string, len(maps))
	for i, m := range maps {
		parts[i] = fmt.Sprintf("%d -> %d (%d)", m.Inside, m.Outside, m.Count)
	}
	return strings.Join(parts, ", ")
}

// readUIDMap reads /proc/PID/uid_map. Read from the host, outside IDs are host
// uids.
func readUIDMap(pid int) ([]idMapping, error) {
	path := fmt.Sprintf("%s/%d/uid_map", procfs.Root, pid)
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	maps, err := parseIDMap(string(text))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return maps, nil
}

// overlap returns the first host uid range that both a and b map, as
// "FIRST-LAST", or "" when none does.
func overlap(a, b []idMapping) string {
	for _, x := range a {
		for _, y := range b {
			first, end := max(x.Outside, y.Outside), min(x.Outside+x.Count, y.Outside+y.Count)
			if first < end {
				return fmt.Sprintf("%d-%d", first, end-1)
			}
		}
	}
	return ""
}

// statusField returns the value of one "Key:\tvalue" line of /proc/PID/status.
func statusField(pid int, key string) (string, error) {
	path := fmt.Sprintf("%s/%d/status", procfs.Root, pid)
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if value, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.TrimSpace(value), nil
		}
	}
	return "", fmt.Errorf("%s has no %s line", path, key)
}

// checkUserMapped checks that the house has a user namespace of its own whose
// uid_map maps root (uid 0) to an unprivileged host uid, and that its PID 1
// runs as that host uid: root inside the house is an unprivileged user outside.
func checkUserMapped(env *Env, with map[string]string) Result {
	p := env.printer()
	name := with["name"]
	expected := p.Tf("CheckIsoExpectUser", "Name", name)
	h, ev, fail := houseEvidence(env, name)
	if fail != nil {
		return *fail
	}
	procErr := func(err error) Result {
		return Result{Evidence: append(ev, p.Tf("CheckProcError", "Error", err.Error())), Expected: expected}
	}

	houseNS, err := procfs.NSInode(h.PID, "user")
	if err != nil {
		return procErr(err)
	}
	hostNS, err := procfs.SelfNSInode("user")
	if err != nil {
		return procErr(err)
	}
	maps, err := readUIDMap(h.PID)
	if err != nil {
		return procErr(err)
	}
	uids, err := statusField(h.PID, "Uid")
	if err != nil {
		return procErr(err)
	}
	// Uid: real, effective, saved set and file system uid, as host uids.
	fields := strings.Fields(uids)
	if len(fields) < 2 {
		return procErr(fmt.Errorf("status line Uid %q has %d fields, want 4", uids, len(fields)))
	}
	effective, err := strconv.ParseUint(fields[1], 10, 32)
	if err != nil {
		return procErr(fmt.Errorf("status line Uid %q: %w", uids, err))
	}

	ev = append(ev,
		p.Tf("CheckIsoUserNS", "Name", name, "House", nsLabel("user", houseNS), "Host", nsLabel("user", hostNS)),
		p.Tf("CheckIsoUidMap", "PID", h.PID, "Map", formatIDMap(maps)),
		p.Tf("CheckIsoUidHost", "PID", h.PID, "UID", effective))
	root, mapped := outsideID(maps, 0)
	switch {
	case houseNS == hostNS:
		ev = append(ev, p.T("CheckIsoUserShared", nil))
	case !mapped:
		ev = append(ev, p.T("CheckIsoRootUnmapped", nil))
	case root == 0:
		ev = append(ev, p.T("CheckIsoRootIsRoot", nil))
	case effective != root:
		ev = append(ev, p.Tf("CheckIsoInitNotMapped", "UID", effective, "Root", root))
	default:
		ev = append(ev, p.Tf("CheckIsoRootMapped", "Root", root))
		return Result{Passed: true, Evidence: ev}
	}
	return Result{Evidence: ev, Expected: expected}
}

// checkUserRangesApart checks that two houses have user namespaces of their
// own whose uid ranges do not overlap on the host. Then root of one house is a
// different host user from every user of the other, so a process that breaks
// out of one house owns nothing of the other.
func checkUserRangesApart(env *Env, with map[string]string) Result {
	p := env.printer()
	name, other := with["name"], with["other"]
	if bad := pairProblem(p, "user-ranges-apart", with); bad != nil {
		return *bad
	}
	expected := p.Tf("CheckIsoExpectRanges", "Name", name, "Other", other)
	a, b, ev, fail := findPair(env, name, other)
	if fail != nil {
		return *fail
	}

	hostNS, err := procfs.SelfNSInode("user")
	if err != nil {
		return Result{Evidence: append(ev, p.Tf("CheckProcError", "Error", err.Error())), Expected: expected}
	}
	var maps [2][]idMapping
	passed := true
	for i, h := range []struct {
		name string
		pid  int
	}{{name, a.PID}, {other, b.PID}} {
		ns, err := procfs.NSInode(h.pid, "user")
		if err == nil {
			maps[i], err = readUIDMap(h.pid)
		}
		if err != nil {
			return Result{Evidence: append(ev, p.Tf("CheckProcError", "Error", err.Error())), Expected: expected}
		}
		ev = append(ev, p.Tf("CheckIsoUidMapOf", "Name", h.name, "NS", nsLabel("user", ns), "Map", formatIDMap(maps[i])))
		if ns == hostNS {
			ev = append(ev, p.Tf("CheckIsoHostNS", "Name", h.name, "Kind", "user"))
			passed = false
		}
	}
	if !passed {
		return Result{Evidence: ev, Expected: expected}
	}
	if both := overlap(maps[0], maps[1]); both != "" {
		ev = append(ev, p.Tf("CheckIsoRangesOverlap", "Range", both))
		return Result{Evidence: ev, Expected: expected}
	}
	ev = append(ev, p.Tf("CheckIsoRangesApart", "Name", name, "Other", other))
	return Result{Passed: true, Evidence: ev}
}

// escapeCapabilities are capabilities with which root in a house could act on
// the host: each one is outside Docker's default set.
var escapeCapabilities = []int{
	unix.CAP_SYS_ADMIN,       // mount file systems, leave namespaces, remount read-only mounts
	unix.CAP_SYS_MODULE,      // load kernel modules
	unix.CAP_SYS_RAWIO,       // raw I/O ports and /dev/mem
	unix.CAP_SYS_PTRACE,      // trace and inject into processes
	unix.CAP_DAC_READ_SEARCH, // open_by_handle_at(2) reaches host files by inode
	unix.CAP_SYS_TIME,        // set the host's clock
	unix.CAP_SYS_BOOT,        // reboot, kexec_load(2)
	unix.CAP_MAC_ADMIN,       // change the security module's policy
	unix.CAP_MAC_OVERRIDE,    // bypass the security module
	unix.CAP_SYSLOG,          // read and clear the kernel log
	unix.CAP_BPF,             // load BPF programs into the kernel
	unix.CAP_PERFMON,         // trace the whole kernel with perf
}

// capabilityNames are the names of capabilities(7), without the CAP_ prefix,
// indexed by number.
var capabilityNames = []string{
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid",
	"setpcap", "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw",
	"ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
	"sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time", "sys_tty_config", "mknod",
	"lease", "audit_write", "audit_control", "setfcap", "mac_override", "mac_admin", "syslog",
	"wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
}

func capabilityName(c int) string {
	if c < len(capabilityNames) {
		return capabilityNames[c]
	}
	return fmt.Sprintf("cap_%d", c)
}

// formatCapabilities lists the capabilities in mask by name, or "-" for none.
func formatCapabilities(mask uint64) string {
	var names []string
	for c := 0; c < 64; c++ {
		if mask&(1<<c) != 0 {
			names = append(names, capabilityName(c))
		}
	}
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, ", ")
}

// checkCapsReduced checks that the bounding set of the house's PID 1 lacks
// every capability in escapeCapabilities. The bounding set limits what any
// process of the house can ever gain, root and set-user-ID programs included.
//
// NOTE: in a house with its own user namespace, capabilities act only on
// namespaces that user namespace owns, yet this check still asks for the
// reduced bounding set.
func checkCapsReduced(env *Env, with map[string]string) Result {
	p := env.printer()
	name := with["name"]
	expected := p.Tf("CheckIsoExpectCaps", "Name", name)
	h, ev, fail := houseEvidence(env, name)
	if fail != nil {
		return *fail
	}

	value, err := statusField(h.PID, "CapBnd")
	if err != nil {
		return Result{Evidence: append(ev, p.Tf("CheckProcError", "Error", err.Error())), Expected: expected}
	}
	bounding, err := strconv.ParseUint(value, 16, 64)
	if err != nil {
		return Result{Evidence: append(ev, p.Tf("CheckProcError", "Error", err.Error())), Expected: expected}
	}
	ev = append(ev, p.Tf("CheckIsoCapBnd", "PID", h.PID, "Mask", value, "Caps", formatCapabilities(bounding)))
	if nnp, err := statusField(h.PID, "NoNewPrivs"); err == nil {
		ev = append(ev, p.Tf("CheckIsoNoNewPrivs", "Value", nnp))
	}

	var escape uint64
	for _, c := range escapeCapabilities {
		escape |= 1 << c
	}
	if kept := bounding & escape; kept != 0 {
		ev = append(ev, p.Tf("CheckIsoCapsKept", "Caps", formatCapabilities(kept)))
		return Result{Evidence: ev, Expected: expected}
	}
	ev = append(ev, p.Tf("CheckIsoCapsDropped", "Caps", formatCapabilities(escape)))
	return Result{Passed: true, Evidence: ev}
}

// rootHostUID returns the host uid that uid 0 of house name maps to, read from
// /proc/PID/uid_map of its father.
func rootHostUID(env *Env, name string) (string, []string, *Result) {
	p := env.printer()
	expected := p.Tf("CheckExpectAnswerRootUID", "Name", name)
	h, ev, fail := houseEvidence(env, name)
	if fail != nil {
		fail.Expected = expected
		return "", nil, fail
	}
	maps, err := readUIDMap(h.PID)
	if err != nil {
		return "", nil, &Result{Evidence: append(ev, p.Tf("CheckProcError", "Error", err.Error())), Expected: expected}
	}
	uid, ok := outsideID(maps, 0)
	if !ok {
		return "", nil, &Result{Evidence: append(ev, p.Tf("CheckAnswerRootUnmapped", "PID", h.PID,
			"Map", formatIDMap(maps))), Expected: expected}
	}
	return strconv.FormatUint(uid, 10), append(ev, p.Tf("CheckAnswerRootUID", "PID", h.PID,
		"Map", formatIDMap(maps), "UID", uid)), nil
}

// hostHostname returns the hostname of the checker's UTS namespace, which is
// the host's when rt-lab runs on the host.
func hostHostname(env *Env) (string, []string, *Result) {
	p := env.printer()
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", nil, &Result{Evidence: []string{p.Tf("CheckProcError", "Error", err.Error())},
			Expected: p.T("CheckExpectAnswerHostname", nil)}
	}
	name := unix.ByteSliceToString(u.Nodename[:])
	return name, []string{p.Tf("CheckAnswerHostHostname", "Hostname", name)}, nil
}
