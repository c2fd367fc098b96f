package network

import (
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// ContainerLink is the name of the container's end of its veth pair.
const ContainerLink = "eth0"

// AttachPID is Attach for the network namespace of process pid.
func (n *Network) AttachPID(name string, pid int) error {
	path := fmt.Sprintf("/proc/%d/ns/net", pid)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return usererr.Wrap(&os.PathError{Op: "open", Path: path, Err: err}, usererr.Failed,
			"ErrNetAttachFailed", "Name", name, "Bridge", n.cfg.Bridge)
	}
	defer unix.Close(fd)
	return n.Attach(name, fd)
}

// Attach connects container name, whose network namespace is open as netnsFD,
// to the bridge, which it creates if needed. The veth pair has its host end
// (HostLinkName of the container's id) on the bridge. The other end is created
// directly in the namespace as eth0, with the allocated address and
// ContainerMAC. Attach then brings eth0 and lo up and adds a default route via
// the bridge. A stale host end of the same name is deleted first. On error
// Attach deletes what it made, so a half-connected container never stays. The
// container needs an allocation. It takes ROOT/network.lock.
func (n *Network) Attach(name string, netnsFD int) error {
	l, err := n.lockConfig()
	if err != nil {
		return err
	}
	defer l.Unlock()
	a, ok, err := n.Allocation(name)
	if err != nil {
		return err
	}
	if !ok {
		return usererr.New(usererr.Failed, "ErrNetNoAddress", "Name", name)
	}
	bridge, err := n.ensureBridge()
	if err != nil {
		return err
	}
	if err := n.attach(a, bridge, netnsFD); err != nil {
		return usererr.Wrap(err, usererr.Failed, "ErrNetAttachFailed", "Name", name, "Bridge", n.cfg.Bridge)
	}
	return nil
}

func (n *Network) attach(a Allocation, bridge netlink.Link, netnsFD int) (retErr error) {
	hostName := a.HostLink()
	if err := removeStaleHostLink(hostName, bridge); err != nil {
		return err
	}
	veth := &netlink.Veth{
		LinkAttrs: netlink.LinkAttrs{
			Name:        hostName,
			MasterIndex: bridge.Attrs().Index,
			MTU:         bridge.Attrs().MTU,
		},
		PeerName:         ContainerLink,
		PeerHardwareAddr: ContainerMAC(a.Address),
		PeerNamespace:    netlink.NsFd(netnsFD),
	}
	if err := netlink.LinkAdd(veth); err != nil {
		return fmt.Errorf("create veth pair %s and %s in the container: %w", hostName, ContainerLink, err)
	}
	// Deleting one end of a veth pair deletes the other, wherever it is.
	defer func() {
		if retErr != nil {
			netlink.LinkDel(veth)
		}
	}()
	if err := netlink.LinkSetUp(veth); err != nil {
		return fmt.Errorf("set %s up: %w", hostName, err)
	}
	return n.configureContainer(a, netnsFD)
}

// ContainerMAC derives eth0's MAC address from the container's IPv4 address:
// 02:72 and the four address bytes. The 02 marks a locally administered unicast
// address. A container attached again keeps its MAC, so its neighbours' ARP
// entries stay valid, and distinct addresses never share a MAC.
func ContainerMAC(addr netip.Addr) net.HardwareAddr {
	b := addr.As4()
	return net.HardwareAddr{0x02, 0x72, b[0], b[1], b[2], b[3]}
}

// removeStaleHostLink deletes a leftover host end named hostName from a crash.
// A link of that name on another bridge belongs to someone else and is an
// error.
func removeStaleHostLink(hostName string, bridge netlink.Link) error {
	old, err := netlink.LinkByName(hostName)
	if isLinkNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	master := old.Attrs().MasterIndex
	if old.Type() != "veth" || (master != 0 && master != bridge.Attrs().Index) {
		return usererr.New(usererr.Failed, "ErrNetLinkTaken", "Link", hostName, "Bridge", bridge.Attrs().Name)
	}
	if err := netlink.LinkDel(old); err != nil && !isLinkNotFound(err) {
		return fmt.Errorf("delete stale link %s: %w", hostName, err)
	}
	return nil
}

// configureContainer sets up eth0 and lo inside the namespace netnsFD through
// a netlink socket opened in that namespace. NewHandleAt switches a locked
// thread into the namespace only while it opens the socket, so this goroutine's
// thread stays in the host's namespaces.
func (n *Network) configureContainer(a Allocation, netnsFD int) error {
	h, err := netlink.NewHandleAt(netns.NsHandle(netnsFD))
	if err != nil {
		return fmt.Errorf("open netlink in the container's network namespace: %w", err)
	}
	defer h.Close()

	eth, err := h.LinkByName(ContainerLink)
	if err != nil {
		return fmt.Errorf("find %s in the container: %w", ContainerLink, err)
	}
	addr := &netlink.Addr{IPNet: ipNet(netip.PrefixFrom(a.Address, n.cfg.Subnet.Bits()))}
	if err := h.AddrReplace(eth, addr); err != nil {
		return fmt.Errorf("add address %s to %s: %w", addr.IPNet, ContainerLink, err)
	}
	if err := h.LinkSetUp(eth); err != nil {
		return fmt.Errorf("set %s up: %w", ContainerLink, err)
	}
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo in the container: %w", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	route := &netlink.Route{
		LinkIndex: eth.Attrs().Index,
		Gw:        net.IP(n.cfg.Gateway.AsSlice()),
		Dst:       nil, // the default route
	}
	if err := h.RouteReplace(route); err != nil {
		return fmt.Errorf("add default route via %s: %w", n.cfg.Gateway, err)
	}
	return nil
}

// Detach deletes the host end of container name's veth pair, which deletes the
// container's eth0 with it. A container without an allocation or without the
// link is left as it is, so Detach is safe to repeat. A link of that name that
// is not a veth, or that is attached to another bridge, belongs to someone
// else: Detach leaves it alone. It takes ROOT/network.lock.
func (n *Network) Detach(name string) error {
	l, err := n.lock()
	if err != nil {
		return err
	}
	defer l.Unlock()

	a, ok, err := n.Allocation(name)
	if err != nil || !ok {
		return err
	}
	link, err := netlink.LinkByName(a.HostLink())
	if isLinkNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if link.Type() != "veth" || !n.onOwnBridge(link) {
		return nil
	}
	if err := netlink.LinkDel(link); err != nil && !isLinkNotFound(err) {
		return fmt.Errorf("delete link %s: %w", a.HostLink(), err)
	}
	return nil
}

// onOwnBridge reports whether link is attached to no bridge or to this
// network's bridge.
func (n *Network) onOwnBridge(link netlink.Link) bool {
	master := link.Attrs().MasterIndex
	if master == 0 {
		return true
	}
	bridge, err := netlink.LinkByName(n.cfg.Bridge)
	return err == nil && bridge.Attrs().Index == master
}

func deleteLink(name string) error {
	link, err := netlink.LinkByName(name)
	if isLinkNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := netlink.LinkDel(link); err != nil && !isLinkNotFound(err) {
		return fmt.Errorf("delete link %s: %w", name, err)
	}
	return nil
}

// OrphanLinks lists the links attached to the bridge that belong to no
// allocation, such as the host end of a container deleted during a crash. A
// stopped container has no link, because its network namespace and both veth
// ends went away with its processes, so it never shows up here.
func (n *Network) OrphanLinks() ([]string, error) {
	bridge, err := netlink.LinkByName(n.cfg.Bridge)
	if isLinkNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ports, err := bridgePorts(bridge)
	if err != nil {
		return nil, err
	}
	all, err := n.Allocations()
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, a := range all {
		known[a.HostLink()] = true
	}
	var orphans []string
	for _, p := range ports {
		if !known[p.Attrs().Name] {
			orphans = append(orphans, p.Attrs().Name)
		}
	}
	return orphans, nil
}

// RemoveOrphanLinks deletes the links that OrphanLinks lists and returns their
// names. It takes ROOT/network.lock, so no Attach runs in between.
func (n *Network) RemoveOrphanLinks() ([]string, error) {
	l, err := n.lock()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()

	orphans, err := n.OrphanLinks()
	if err != nil {
		return nil, err
	}
	for _, name := range orphans {
		if err := deleteLink(name); err != nil {
			return nil, err
		}
	}
	return orphans, nil
}
