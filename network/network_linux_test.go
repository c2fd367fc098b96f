package network

import (
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// newHostNetwork opens a network in a new temporary root with a subnet that no
// host route uses, and removes its bridge and links when the test ends.
func newHostNetwork(t testing.TB) *Network {
	t.Helper()
	testutil.RequireRoot(t)
	root := t.TempDir()
	n, err := Open(root, Options{Subnet: freeTestSubnet(t, root)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		all, _ := n.Allocations()
		for _, a := range all {
			deleteLink(a.HostLink())
		}
		if err := n.RemoveBridge(true); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		deleteLink(n.Config().Bridge)
	})
	return n
}

// startInNewNetns starts a sleeping process in a new network namespace and
// returns its PID. The namespace lives until the process is killed at cleanup.
func startInNewNetns(t testing.TB) int {
	t.Helper()
	cmd := exec.Command("sleep", "infinity")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sleep in a new network namespace: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd.Process.Pid
}

// netlinkIn returns a netlink handle in the network namespace of pid.
func netlinkIn(t *testing.T, pid int) *netlink.Handle {
	t.Helper()
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// ping sends one ICMP echo request from the network namespace of pid to addr.
func ping(pid int, addr netip.Addr) error {
	cmd := exec.Command("nsenter", fmt.Sprintf("--net=/proc/%d/ns/net", pid),
		"ping", "-c", "1", "-W", "5", addr.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("ping %s from pid %d: %w\n%s", addr, pid, err, out)
	}
	return nil
}

func mustAttach(t *testing.T, n *Network, name string, pid int) Allocation {
	t.Helper()
	a := mustAllocate(t, n, name)
	if err := n.AttachPID(name, pid); err != nil {
		t.Fatalf("AttachPID(%s): %v", name, err)
	}
	return a
}

func checkBridge(t *testing.T, n *Network) netlink.Link {
	t.Helper()
	br, err := netlink.LinkByName(n.Config().Bridge)
	if err != nil {
		t.Fatalf("bridge %s: %v", n.Config().Bridge, err)
	}
	if br.Type() != "bridge" {
		t.Errorf("%s is a %s, want a bridge", br.Attrs().Name, br.Type())
	}
	if br.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("bridge %s is down", br.Attrs().Name)
	}
	addrs, err := netlink.AddrList(br, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	want := n.gatewayPrefix().String()
	if len(addrs) != 1 || addrs[0].IPNet.String() != want {
		t.Errorf("bridge addresses %v, want only %s", addrs, want)
	}
	return br
}

// checkAttached checks both ends of a's veth pair, the host end in the host's
// namespace and eth0 in the namespace of pid.
func checkAttached(t *testing.T, n *Network, a Allocation, pid int) {
	t.Helper()
	br := checkBridge(t, n)
	host, err := netlink.LinkByName(a.HostLink())
	if err != nil {
		t.Fatalf("host end %s: %v", a.HostLink(), err)
	}
	if len(a.HostLink()) > MaxLinkName {
		t.Errorf("host end %s is longer than %d bytes", a.HostLink(), MaxLinkName)
	}
	if host.Type() != "veth" {
		t.Errorf("host end %s is a %s, want a veth", a.HostLink(), host.Type())
	}
	if host.Attrs().MasterIndex != br.Attrs().Index {
		t.Errorf("host end %s has master index %d, want the bridge's %d", a.HostLink(), host.Attrs().MasterIndex, br.Attrs().Index)
	}
	if host.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("host end %s is down", a.HostLink())
	}
	peerIndex, err := netlink.VethPeerIndex(host.(*netlink.Veth))
	if err != nil {
		t.Fatal(err)
	}

	h := netlinkIn(t, pid)
	eth, err := h.LinkByName(ContainerLink)
	if err != nil {
		t.Fatalf("%s in pid %d: %v", ContainerLink, pid, err)
	}
	if eth.Attrs().Index != peerIndex {
		t.Errorf("%s has index %d, but the host end's peer is %d", ContainerLink, eth.Attrs().Index, peerIndex)
	}
	if eth.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("%s is down", ContainerLink)
	}
	if mac := ContainerMAC(a.Address).String(); eth.Attrs().HardwareAddr.String() != mac {
		t.Errorf("%s has MAC %s, want %s", ContainerLink, eth.Attrs().HardwareAddr, mac)
	}
	addrs, err := h.AddrList(eth, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	want := netip.PrefixFrom(a.Address, n.Config().Subnet.Bits()).String()
	if len(addrs) != 1 || addrs[0].IPNet.String() != want {
		t.Errorf("%s addresses %v, want only %s", ContainerLink, addrs, want)
	}
	lo, err := h.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	if lo.Attrs().Flags&net.FlagUp == 0 {
		t.Error("lo is down")
	}
	routes, err := h.RouteList(eth, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	hasDefault := false
	for _, r := range routes {
		if isDefaultRoute(r) && r.Gw.String() == n.Config().Gateway.String() {
			hasDefault = true
		}
	}
	if !hasDefault {
		t.Errorf("no default route via %s in %v", n.Config().Gateway, routes)
	}
}

// isDefaultRoute reports whether r is a default route. netlink v1.3 reports
// one with Dst 0.0.0.0/0, older versions with a nil Dst.
func isDefaultRoute(r netlink.Route) bool {
	if r.Dst == nil {
		return true
	}
	ones, _ := r.Dst.Mask.Size()
	return ones == 0
}

// checkNothingLeft checks that no link, address or route of n is left on the
// host.
func checkNothingLeft(t *testing.T, n *Network, allocs []Allocation) {
	t.Helper()
	ours := map[string]bool{n.Config().Bridge: true}
	for _, a := range allocs {
		ours[a.HostLink()] = true
	}

	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		name := l.Attrs().Name
		if strings.HasPrefix(name, LinkPrefix) && ours[name] {
			t.Errorf("link %s is left", name)
		}
	}

	addrs, err := netlink.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if addr, ok := netip.AddrFromSlice(a.IP); ok && n.Config().Subnet.Contains(addr.Unmap()) {
			t.Errorf("address %s is left on the host", a.IPNet)
		}
	}

	routes, err := HostRoutes()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if r.Dst.Bits() > 0 && r.Dst.Overlaps(n.Config().Subnet) {
			t.Errorf("route %s on %s is left", r.Dst, r.Link)
		}
	}
}

func TestEnsureBridgeIsIdempotent(t *testing.T) {
	n := newHostNetwork(t)
	for i := 0; i < 2; i++ {
		if err := n.EnsureBridge(); err != nil {
			t.Fatalf("EnsureBridge call %d: %v", i+1, err)
		}
		checkBridge(t, n)
	}
	if err := n.RemoveBridge(false); err != nil {
		t.Fatal(err)
	}
	if err := n.RemoveBridge(false); err != nil {
		t.Errorf("second RemoveBridge: %v", err)
	}
	checkNothingLeft(t, n, nil)
}

func TestTwoHousesPingEachOther(t *testing.T) {
	n := newHostNetwork(t)
	jakartaPID := startInNewNetns(t)
	bandungPID := startInNewNetns(t)
	jakarta := mustAttach(t, n, "rumah-jakarta", jakartaPID)
	bandung := mustAttach(t, n, "rumah-bandung", bandungPID)
	checkAttached(t, n, jakarta, jakartaPID)
	checkAttached(t, n, bandung, bandungPID)

	if err := ping(jakartaPID, bandung.Address); err != nil {
		t.Error(err)
	}
	if err := ping(bandungPID, jakarta.Address); err != nil {
		t.Error(err)
	}
	if err := ping(bandungPID, n.Config().Gateway); err != nil {
		t.Error(err)
	}

	// A second Attach replaces the pair, as a restart after a crash would.
	if err := n.AttachPID("rumah-jakarta", jakartaPID); err != nil {
		t.Fatalf("second AttachPID: %v", err)
	}
	checkAttached(t, n, jakarta, jakartaPID)
	if err := ping(bandungPID, jakarta.Address); err != nil {
		t.Errorf("after a second Attach: %v", err)
	}

	if err := n.RemoveBridge(false); !usererr.Is(err, "ErrNetBridgeInUse") {
		t.Errorf("RemoveBridge with houses = %v, want ErrNetBridgeInUse", err)
	}
	checkBridge(t, n)

	for i := 0; i < 2; i++ {
		if err := n.Detach("rumah-jakarta"); err != nil {
			t.Errorf("Detach call %d: %v", i+1, err)
		}
	}
	if _, err := netlink.LinkByName(jakarta.HostLink()); !isLinkNotFound(err) {
		t.Errorf("host end %s after Detach: %v", jakarta.HostLink(), err)
	}
	if _, err := netlinkIn(t, jakartaPID).LinkByName(ContainerLink); !isLinkNotFound(err) {
		t.Errorf("%s in rumah-jakarta after Detach: %v", ContainerLink, err)
	}

	for _, name := range []string{"rumah-jakarta", "rumah-bandung"} {
		if err := n.Release(name); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.RemoveBridge(false); !usererr.Is(err, "ErrNetBridgeHasLinks") {
		t.Errorf("RemoveBridge with an attached link = %v, want ErrNetBridgeHasLinks", err)
	}
	if err := n.Detach("rumah-bandung"); err != nil {
		t.Fatal(err)
	}
	// Detach finds the link by the allocation, so after Release the host end
	// has to go by name.
	if err := deleteLink(bandung.HostLink()); err != nil {
		t.Fatal(err)
	}
	if err := n.RemoveBridge(false); err != nil {
		t.Fatalf("RemoveBridge: %v", err)
	}
	checkNothingLeft(t, n, []Allocation{jakarta, bandung})
}

func TestAttachUndoesOnFailure(t *testing.T) {
	n := newHostNetwork(t)
	pid := startInNewNetns(t)
	// An eth0 that is already there makes creating the pair fail. A bridge
	// is used because this kernel may lack the dummy module.
	h := netlinkIn(t, pid)
	if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: ContainerLink}}); err != nil {
		t.Fatal(err)
	}
	a := mustAllocate(t, n, "rumah-jakarta")

	err := n.AttachPID("rumah-jakarta", pid)
	if !usererr.Is(err, "ErrNetAttachFailed") {
		t.Fatalf("AttachPID = %v, want ErrNetAttachFailed", err)
	}
	if _, err := netlink.LinkByName(a.HostLink()); !isLinkNotFound(err) {
		t.Errorf("host end %s is left after a failed Attach: %v", a.HostLink(), err)
	}
	eth, err := h.LinkByName(ContainerLink)
	if err != nil {
		t.Fatal(err)
	}
	if eth.Type() != "bridge" {
		t.Errorf("%s in the namespace is a %s, want the old bridge left alone", ContainerLink, eth.Type())
	}
}

func TestAttachWithoutAllocation(t *testing.T) {
	n := newHostNetwork(t)
	pid := startInNewNetns(t)
	if err := n.AttachPID("rumah-jakarta", pid); !usererr.Is(err, "ErrNetNoAddress") {
		t.Errorf("AttachPID = %v, want ErrNetNoAddress", err)
	}
}

func TestOpenRejectsBridgeSubnetOfOtherRoot(t *testing.T) {
	first := newHostNetwork(t)
	if err := first.EnsureBridge(); err != nil {
		t.Fatal(err)
	}
	subnet := first.Config().Subnet.String()
	root := t.TempDir()
	_, err := Open(root, Options{Subnet: subnet})
	if !usererr.Is(err, "ErrNetSubnetOverlap") {
		t.Fatalf("Open with the subnet of another root = %v, want ErrNetSubnetOverlap", err)
	}
	if code := usererr.ExitCode(err); code != usererr.ExitUsage {
		t.Errorf("exit code %d, want %d", code, usererr.ExitUsage)
	}
	for _, want := range []string{subnet, first.Config().Bridge, "--subnet"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not contain %q", err, want)
		}
	}
	if _, err := Load(root); err != ErrNotConfigured {
		t.Errorf("the rejected Open wrote a config: Load = %v", err)
	}
}

func TestEnsureBridgeRejectsOtherLinkType(t *testing.T) {
	testutil.RequireRoot(t)
	root := t.TempDir()
	name := LinkPrefix + "t-" + hashHex(root)
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: name + "p"}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteLink(name) })
	n, err := Open(root, Options{Subnet: freeTestSubnet(t, root), Bridge: name})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.EnsureBridge(); !usererr.Is(err, "ErrNetNotBridge") {
		t.Errorf("EnsureBridge over a veth = %v, want ErrNetNotBridge", err)
	}
	if err := n.RemoveBridge(false); err != nil {
		t.Errorf("RemoveBridge = %v, want nil for a link that is not ours", err)
	}
	if _, err := netlink.LinkByName(name); err != nil {
		t.Errorf("RemoveBridge deleted the veth %s: %v", name, err)
	}
}

func TestAttachConcurrent(t *testing.T) {
	n := newHostNetwork(t)
	pids := map[string]int{}
	for i := 0; i < 5; i++ {
		name := fmt.Sprintf("rumah-%d", i)
		pids[name] = startInNewNetns(t)
		mustAllocate(t, n, name)
	}
	errs := make(chan error, len(pids))
	for name, pid := range pids {
		go func() { errs <- n.AttachPID(name, pid) }()
	}
	for range pids {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}

	all, err := n.Allocations()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		checkAttached(t, n, a, pids[a.Name])
		if a.Name == "rumah-0" {
			continue
		}
		if err := ping(pids["rumah-0"], a.Address); err != nil {
			t.Error(err)
		}
	}
}

func TestRemoveOrphanLinks(t *testing.T) {
	n := newHostNetwork(t)
	kept := mustAttach(t, n, "rumah-jakarta", startInNewNetns(t))
	gone := mustAttach(t, n, "rumah-bandung", startInNewNetns(t))
	// A delete cut short after Release leaves the host end behind.
	if err := n.Release("rumah-bandung"); err != nil {
		t.Fatal(err)
	}

	removed, err := n.RemoveOrphanLinks()
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != gone.HostLink() {
		t.Errorf("removed %v, want only %s", removed, gone.HostLink())
	}
	if _, err := netlink.LinkByName(gone.HostLink()); !isLinkNotFound(err) {
		t.Errorf("orphan %s still exists: %v", gone.HostLink(), err)
	}
	if _, err := netlink.LinkByName(kept.HostLink()); err != nil {
		t.Errorf("link %s of a known house was removed: %v", kept.HostLink(), err)
	}
}

// BenchmarkAttachDetach measures connecting one container and disconnecting
// it again on a bridge that already exists.
func BenchmarkAttachDetach(b *testing.B) {
	n := newHostNetwork(b)
	pid := startInNewNetns(b)
	if _, err := n.Allocate("rumah-jakarta"); err != nil {
		b.Fatal(err)
	}
	if err := n.EnsureBridge(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := n.AttachPID("rumah-jakarta", pid); err != nil {
			b.Fatal(err)
		}
		if err := n.Detach("rumah-jakarta"); err != nil {
			b.Fatal(err)
		}
	}
}
