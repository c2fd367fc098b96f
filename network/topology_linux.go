package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sort"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Topology is a bridge and the links attached to it, as the kernel has them.
type Topology struct {
	Bridge    string
	Present   bool // the bridge exists and is a bridge
	Up        bool
	Addresses []netip.Prefix // the bridge's IPv4 addresses
	Ports     []Port         // sorted by name
}

// Port is one link attached to the bridge.
type Port struct {
	Name  string // such as rt-v-1a2b3c4d
	Index int
	Type  string // "veth" for the host end of a container's cable
	Up    bool
	// PeerIndex is the index of the other end of a veth in its own network
	// namespace, and PeerNetnsID the id of that namespace in the caller's
	// (IFLA_LINK_NETNSID), or -1 when the kernel reports none.
	PeerIndex   int
	PeerNetnsID int
	// Peer is the other end, when ReadTopology found it in the network
	// namespace of one of the processes it was given.
	Peer *Peer
}

// Peer is the other end of a port's veth pair.
type Peer struct {
	PID       int // the process whose network namespace holds the link
	Name      string
	Up        bool
	Addresses []netip.Prefix // IPv4
}

// ReadTopology reads bridge and the links attached to it in the caller's
// network namespace, and looks for the other end of each veth in the network
// namespaces of pids. A process that has exited is skipped.
//
// A veth's host end names its peer by index and namespace id, and the index
// alone is ambiguous: every container's eth0 may have index 2. So a peer
// matches when the id that the caller's namespace gives to the process's
// namespace is the port's PeerNetnsID and a link there has PeerIndex. When the
// kernel reports no id, a link matches instead when its index is PeerIndex and
// its own peer index points back at the port.
func ReadTopology(bridge string, pids []int) (Topology, error) {
	topo := Topology{Bridge: bridge}
	link, err := netlink.LinkByName(bridge)
	if isLinkNotFound(err) {
		return topo, nil
	}
	if err != nil {
		return topo, fmt.Errorf("read bridge %s: %w", bridge, err)
	}
	if link.Type() != "bridge" {
		return topo, nil
	}

	topo.Present = true
	topo.Up = link.Attrs().Flags&net.FlagUp != 0
	if topo.Addresses, err = ipv4Addresses(addrList(link, netlink.FAMILY_V4)); err != nil {
		return topo, fmt.Errorf("read addresses of %s: %w", bridge, err)
	}
	ports, err := bridgePorts(link)
	if err != nil {
		return topo, err
	}
	for _, p := range ports {
		a := p.Attrs()
		topo.Ports = append(topo.Ports, Port{Name: a.Name, Index: a.Index, Type: p.Type(),
			Up: a.Flags&net.FlagUp != 0, PeerIndex: a.ParentIndex, PeerNetnsID: a.NetNsID})
	}
	sort.Slice(topo.Ports, func(i, j int) bool { return topo.Ports[i].Name < topo.Ports[j].Name })

	for _, pid := range pids {
		if err := findPeers(topo.Ports, pid); err != nil {
			return topo, err
		}
	}
	return topo, nil
}

// findPeers fills in Peer for the ports whose other end is in the network
// namespace of pid.
func findPeers(ports []Port, pid int) error {
	path := fmt.Sprintf("/proc/%d/ns/net", pid)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
			return nil // the process has exited
		}
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	nsid, err := netlink.GetNetNsIdByFd(fd)
	if err != nil {
		nsid = -1
	}
	h, err := netlink.NewHandleAt(netns.NsHandle(fd))
	if err != nil {
		return fmt.Errorf("open netlink in the network namespace of pid %d: %w", pid, err)
	}
	defer h.Close()
	links, err := retryDump(h.LinkList)
	if err != nil {
		return fmt.Errorf("list links of pid %d: %w", pid, err)
	}

	for i := range ports {
		p := &ports[i]
		if p.Peer != nil || p.Type != "veth" {
			continue
		}
		for _, l := range links {
			if !isPeer(*p, l, nsid) {
				continue
			}
			addrs, err := ipv4Addresses(retryDump(func() ([]netlink.Addr, error) {
				return h.AddrList(l, netlink.FAMILY_V4)
			}))
			if err != nil {
				return fmt.Errorf("read addresses of %s in pid %d: %w", l.Attrs().Name, pid, err)
			}
			p.Peer = &Peer{PID: pid, Name: l.Attrs().Name, Up: l.Attrs().Flags&net.FlagUp != 0, Addresses: addrs}
			break
		}
	}
	return nil
}

// isPeer reports whether l is the other end of port p. l is a link in a
// namespace whose id in the caller's namespace is nsid, or -1 when it has none.
func isPeer(p Port, l netlink.Link, nsid int) bool {
	if l.Attrs().Index != p.PeerIndex || l.Type() != "veth" {
		return false
	}
	if p.PeerNetnsID >= 0 && nsid >= 0 {
		return p.PeerNetnsID == nsid
	}
	return l.Attrs().ParentIndex == p.Index
}

func ipv4Addresses(addrs []netlink.Addr, err error) ([]netip.Prefix, error) {
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ones, _ := a.Mask.Size()
		out = append(out, netip.PrefixFrom(ip.Unmap(), ones))
	}
	return out, nil
}
