package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// EnsureBridge creates the bridge if it is missing, gives it the gateway
// address, brings it up and installs its nftables table: the isolation rules,
// and the masquerade rule when the config enables NAT (see installRules).
// Calling it again changes nothing. It takes ROOT/network.lock.
func (n *Network) EnsureBridge() error {
	l, err := n.lockConfig()
	if err != nil {
		return err
	}
	defer l.Unlock()
	_, err = n.ensureBridge()
	return err
}

// ensureBridge does EnsureBridge's work with the lock held and returns the
// bridge.
func (n *Network) ensureBridge() (_ netlink.Link, retErr error) {
	name := n.cfg.Bridge
	link, err := netlink.LinkByName(name)
	if err != nil && !isLinkNotFound(err) {
		return nil, err
	}
	if link == nil {
		// Routes may have changed since network.json was written, for example
		// when a VPN came up, or another root took the subnet after a reboot.
		if err := checkStoredSubnetFree(n.cfg.Subnet, name); err != nil {
			return nil, err
		}
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
		if err := netlink.LinkAdd(br); err != nil {
			return nil, n.bridgeError(err)
		}
		defer func() {
			if retErr != nil {
				netlink.LinkDel(br)
			}
		}()
		if link, err = netlink.LinkByName(name); err != nil {
			return nil, n.bridgeError(err)
		}
	} else if link.Type() != "bridge" {
		return nil, usererr.New(usererr.Usage, "ErrNetNotBridge", "Name", name, "Type", link.Type())
	}

	if err := n.setBridgeAddress(link); err != nil {
		return nil, n.bridgeError(err)
	}
	if link.Attrs().Flags&net.FlagUp == 0 {
		if err := netlink.LinkSetUp(link); err != nil {
			return nil, n.bridgeError(err)
		}
	}
	// The alias names the state folder, so `ip link` shows which complex a
	// switchboard serves and recover-state --leftovers can tell whether that
	// folder still exists. The kernel keeps at most maxAlias bytes.
	if link.Attrs().Alias != n.root && len(n.root) <= maxAlias {
		if err := netlink.LinkSetAlias(link, n.root); err != nil {
			return nil, n.bridgeError(err)
		}
	}
	if err := n.installRules(); err != nil {
		return nil, err
	}
	return link, nil
}

// maxAlias is the longest interface alias Linux keeps: IFALIASZ (256) less
// the terminating NUL.
const maxAlias = 255

func (n *Network) bridgeError(err error) error {
	return usererr.Wrap(err, usererr.Failed, "ErrNetBridgeFailed",
		"Bridge", n.cfg.Bridge, "Address", n.gatewayPrefix().String())
}

// gatewayPrefix returns the bridge's address with the subnet's prefix length.
func (n *Network) gatewayPrefix() netip.Prefix {
	return netip.PrefixFrom(n.cfg.Gateway, n.cfg.Subnet.Bits())
}

// setBridgeAddress makes the gateway the bridge's only IPv4 address. An older
// address stays behind when the subnet changed while no container had one.
// A bridge that has the gateway already is left unchanged.
func (n *Network) setBridgeAddress(link netlink.Link) error {
	want := ipNet(n.gatewayPrefix())
	addrs, err := addrList(link, netlink.FAMILY_V4)
	if err != nil {
		return err
	}
	present := false
	for _, a := range addrs {
		if a.IPNet.String() == want.String() {
			present = true
			continue
		}
		if err := netlink.AddrDel(link, &a); err != nil {
			return err
		}
	}
	if present {
		return nil
	}
	return netlink.AddrReplace(link, &netlink.Addr{IPNet: want})
}

// RemoveBridge deletes the bridge and its nftables table. It rejects the
// removal while any container that exists has an address (see SetExists) or any
// link is attached to the bridge, unless force is set, which deletes the
// attached links too but keeps the addresses. A missing bridge is not an
// error. It takes ROOT/network.lock.
func (n *Network) RemoveBridge(force bool) error {
	l, table, err := n.lockTable()
	if err != nil {
		return err
	}
	defer l.Unlock()
	if live := n.liveAllocations(table); len(live) > 0 && !force {
		var names []string
		for _, a := range live {
			names = append(names, a.Name)
		}
		return usererr.New(usererr.Usage, "ErrNetBridgeInUse",
			"Bridge", n.cfg.Bridge, "Count", len(names), "Names", strings.Join(names, ", "))
	}

	link, err := netlink.LinkByName(n.cfg.Bridge)
	if err != nil && !isLinkNotFound(err) {
		return err
	}
	if link != nil && link.Type() != "bridge" {
		link = nil // someone else's link with that name: leave it alone
	}
	if link != nil {
		if err := n.removePorts(link, force); err != nil {
			return err
		}
	}
	if err := n.removeRulesLeniently(); err != nil {
		return err
	}
	if link == nil {
		return nil
	}
	if err := netlink.LinkDel(link); err != nil && !isLinkNotFound(err) {
		return n.bridgeError(err)
	}
	return nil
}

// removePorts deletes the links attached to bridge when force is set and
// rejects the removal otherwise.
func (n *Network) removePorts(bridge netlink.Link, force bool) error {
	ports, err := bridgePorts(bridge)
	if err != nil {
		return err
	}
	if len(ports) == 0 {
		return nil
	}
	if !force {
		var names []string
		for _, p := range ports {
			names = append(names, p.Attrs().Name)
		}
		return usererr.New(usererr.Usage, "ErrNetBridgeHasLinks",
			"Bridge", n.cfg.Bridge, "Count", len(names), "Links", strings.Join(names, ", "))
	}
	for _, p := range ports {
		if err := netlink.LinkDel(p); err != nil && !isLinkNotFound(err) {
			return err
		}
	}
	return nil
}

// bridgePorts lists the links whose master is bridge.
func bridgePorts(bridge netlink.Link) ([]netlink.Link, error) {
	links, err := linkList()
	if err != nil {
		return nil, err
	}
	var ports []netlink.Link
	for _, l := range links {
		if l.Attrs().MasterIndex == bridge.Attrs().Index {
			ports = append(ports, l)
		}
	}
	return ports, nil
}

// isLinkNotFound reports whether err means that a link does not exist:
// netlink's lookup error, or ENODEV from a change to a link that is gone.
func isLinkNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf) || errors.Is(err, unix.ENODEV)
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), 32)}
}

// RemoveUnconfiguredBridge removes the bridge and the nftables table that
// state folder root would have (BridgeName, TableName) when root has no
// network.json, as after the folder's files were removed while its bridge
// stayed. Links on the bridge are removed only with force. It reports whether
// there was a bridge to remove.
func RemoveUnconfiguredBridge(root string, force bool) (bool, error) {
	n := &Network{root: root, cfg: Config{Bridge: BridgeName(root)}}
	link, err := netlink.LinkByName(n.cfg.Bridge)
	if isLinkNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if link.Type() != "bridge" {
		return false, nil // someone else's link with that name: leave it alone
	}
	if err := n.removePorts(link, force); err != nil {
		return false, err
	}
	if err := n.removeRulesLeniently(); err != nil {
		return false, err
	}
	if err := netlink.LinkDel(link); err != nil && !isLinkNotFound(err) {
		return false, fmt.Errorf("delete bridge %s: %w", n.cfg.Bridge, err)
	}
	return true, nil
}
