package checker

import (
	"fmt"
	"net"
	"os"
	goruntime "runtime"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/procfs"
)

// namespaceKinds are the values the own-namespace check accepts for ns.
var namespaceKinds = []string{"pid", "net", "uts", "ipc", "mnt"}

// checkHostname reads the hostname from inside the container's UTS namespace.
func checkHostname(env *Env, with map[string]string) Result {
	p := env.printer()
	name, want := with["name"], with["hostname"]
	expected := p.Tf("CheckExpectHostname", "Name", name, "Hostname", want)
	h, ev, fail := houseEvidence(env, name)
	if fail != nil {
		return *fail
	}

	houseNS, err := procfs.NSInode(h.PID, "uts")
	if err != nil {
		return Result{Evidence: append(ev, p.Tf("CheckProcError", "Error", err.Error())), Expected: expected}
	}
	hostNS, err := procfs.SelfNSInode("uts")
	if err != nil {
		return Result{Evidence: append(ev, p.Tf("CheckProcError", "Error", err.Error())), Expected: expected}
	}
	got, err := utsHostname(h.PID)
	if err != nil {
		return Result{Evidence: append(ev, p.Tf("CheckSetnsError", "Kind", "uts", "PID", h.PID, "Error", err.Error())),
			Expected: expected}
	}
	var host unix.Utsname
	hostName := "?"
	if unix.Uname(&host) == nil {
		hostName = unix.ByteSliceToString(host.Nodename[:])
	}

	ev = append(ev,
		p.Tf("CheckHostnameInside", "NS", nsLabel("uts", houseNS), "Got", got),
		p.Tf("CheckHostnameHost", "NS", nsLabel("uts", hostNS), "Host", hostName))
	switch {
	case houseNS == hostNS:
		ev = append(ev, p.T("CheckHostnameSharedNS", nil))
	case got != want:
		ev = append(ev, p.Tf("CheckHostnameWrong", "Got", got, "Want", want))
	default:
		return Result{Passed: true, Evidence: ev}
	}
	return Result{Evidence: ev, Expected: expected}
}

// utsHostname returns the hostname in the UTS namespace of process pid.
// Namespaces belong to threads (setns(2)), so a locked goroutine joins that
// namespace, reads the name and joins its own namespace again before it unlocks.
func utsHostname(pid int) (string, error) {
	type result struct {
		name string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		// The thread goes back to the checker's own UTS namespace and is unlocked
		// afterwards. Letting it exit instead would fire the parent-death signal
		// of any child that this thread happened to start.
		goruntime.LockOSThread()
		self, err := os.Open(procfs.Root + "/thread-self/ns/uts")
		if err != nil {
			done <- result{err: err}
			return
		}
		defer self.Close()
		path := fmt.Sprintf("%s/%d/ns/uts", procfs.Root, pid)
		f, err := os.Open(path)
		if err != nil {
			goruntime.UnlockOSThread()
			done <- result{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWUTS); err != nil {
			goruntime.UnlockOSThread()
			done <- result{err: &os.PathError{Op: "setns", Path: path, Err: err}}
			return
		}
		var u unix.Utsname
		unameErr := unix.Uname(&u)
		// Only a thread back in its own namespace may return to Go's pool; if
		// the way back fails, the thread stays locked and ends with the goroutine.
		if unix.Setns(int(self.Fd()), unix.CLONE_NEWUTS) == nil {
			goruntime.UnlockOSThread()
		}
		if unameErr != nil {
			done <- result{err: os.NewSyscallError("uname", unameErr)}
			return
		}
		done <- result{name: unix.ByteSliceToString(u.Nodename[:])}
	}()
	r := <-done
	return r.name, r.err
}

// checkOwnNamespace checks that the container's namespace of kind ns differs from
// the checker's own, which runs on the host.
func checkOwnNamespace(env *Env, with map[string]string) Result {
	p := env.printer()
	name, kind := with["name"], with["ns"]
	expected := p.Tf("CheckExpectOwnNS", "Name", name, "Kind", kind)
	h, ev, fail := houseEvidence(env, name)
	if fail != nil {
		return *fail
	}

	houseNS, err := procfs.NSInode(h.PID, kind)
	if err != nil {
		return Result{Evidence: append(ev, p.Tf("CheckProcError", "Error", err.Error())), Expected: expected}
	}
	hostNS, err := procfs.SelfNSInode(kind)
	if err != nil {
		return Result{Evidence: append(ev, p.Tf("CheckProcError", "Error", err.Error())), Expected: expected}
	}
	ev = append(ev, p.Tf("CheckNSCompare", "Kind", kind, "House", nsLabel(kind, houseNS), "Host", nsLabel(kind, hostNS)))
	if houseNS == hostNS {
		ev = append(ev, p.Tf("CheckNSShared", "Kind", kind))
		return Result{Evidence: ev, Expected: expected}
	}
	return Result{Passed: true, Evidence: ev}
}

// checkOwnLinks checks that the container's network devices are its own: its
// network namespace differs from the checker's, which runs on the host, lo is
// there and up, and none of the host's devices is visible inside. A device
// with the host's name and hardware address inside the house is the host's
// own. A house's eth0 is its end of a veth pair, so its hardware address
// differs from that of a host eth0.
func checkOwnLinks(env *Env, with map[string]string) Result {
	p := env.printer()
	name := with["name"]
	expected := p.Tf("CheckExpectOwnLinks", "Name", name)
	h, ev, fail := houseEvidence(env, name)
	if fail != nil {
		return *fail
	}

	links, inode, err := listLinks(h.PID)
	if err != nil {
		return Result{Evidence: append(ev, p.Tf("CheckSetnsError", "Kind", "net", "PID", h.PID, "Error", err.Error())),
			Expected: expected}
	}
	hostLinks, hostInode, err := listLinks(os.Getpid())
	if err != nil {
		return Result{Evidence: append(ev, p.Tf("CheckProcError", "Error", err.Error())), Expected: expected}
	}
	ev = append(ev, p.Tf("CheckLinks", "NS", nsLabel("net", inode), "Links", formatLinks(links)),
		p.Tf("CheckHostLinks", "NS", nsLabel("net", hostInode), "Links", formatLinks(hostLinks)))

	lo, hasLo := findLink(links, "lo")
	switch {
	case inode == hostInode:
		ev = append(ev, p.T("CheckLinksShared", nil))
	case !hasLo:
		ev = append(ev, p.T("CheckLoMissing", nil))
	case !lo.up:
		ev = append(ev, p.T("CheckLoDown", nil))
	default:
		for _, l := range links {
			if l.name != "lo" && slices.ContainsFunc(hostLinks, l.sameDevice) {
				ev = append(ev, p.Tf("CheckHostLinkInside", "Link", l.name, "MAC", l.mac))
				return Result{Evidence: ev, Expected: expected}
			}
		}
		return Result{Passed: true, Evidence: ev}
	}
	return Result{Evidence: ev, Expected: expected}
}

type link struct {
	name string
	mac  string // hardware address, as ip link shows it
	up   bool   // IFF_UP: the administrative state set with "ip link set up"
}

// sameDevice reports whether l and other look like one device: the same name
// and hardware address.
func (l link) sameDevice(other link) bool {
	return l.name == other.name && l.mac == other.mac
}

func findLink(links []link, name string) (link, bool) {
	for _, l := range links {
		if l.name == name {
			return l, true
		}
	}
	return link{}, false
}

// listLinks returns the network devices in pid's network namespace and the
// namespace's inode.
func listLinks(pid int) ([]link, uint64, error) {
	inode, err := procfs.NSInode(pid, "net")
	if err != nil {
		return nil, 0, err
	}
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		return nil, 0, fmt.Errorf("open net namespace of pid %d: %w", pid, err)
	}
	defer ns.Close()
	handle, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, 0, fmt.Errorf("open netlink in net namespace of pid %d: %w", pid, err)
	}
	defer handle.Close()
	list, err := handle.LinkList()
	if err != nil {
		return nil, 0, fmt.Errorf("list links of pid %d: %w", pid, err)
	}
	links := make([]link, len(list))
	for i, l := range list {
		links[i] = link{name: l.Attrs().Name, mac: l.Attrs().HardwareAddr.String(), up: l.Attrs().Flags&net.FlagUp != 0}
	}
	return links, inode, nil
}

// formatLinks lists links as "lo (UP), eth0 (DOWN)", the words ip link uses.
func formatLinks(links []link) string {
	if len(links) == 0 {
		return "-"
	}
	parts := make([]string, len(links))
	for i, l := range links {
		state := "DOWN"
		if l.up {
			state = "UP"
		}
		parts[i] = fmt.Sprintf("%s (%s)", l.name, state)
	}
	return strings.Join(parts, ", ")
}
