package network

import (
	"net/netip"

	"github.com/vishvananda/netlink"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// Renumber moves the network to subnet, a CIDR that ParseSubnet accepts, and
// returns the new allocations. Every container that exists (see SetExists)
// gets an address in subnet, in the order of its old address, and keeps its
// link id. Orphan allocations are dropped. The bridge, when it exists, gets
// the new gateway address and a new nftables table.
//
// The caller makes sure that no container runs, and Renumber rejects the move
// while a link is attached to the bridge. A subnet that overlaps a host route
// other than the bridge's own is a usage error, and so is one with fewer
// addresses than there are containers. The current subnet is a usage error
// too: ErrNetSubnetTaken when a route took it, else ErrNetSubnetSame.
//
// The address table is written before network.json. When Renumber is cut
// short between the two, readAddresses reports the mismatch, and Renumber
// with the same subnet finishes the move. It takes ROOT/network.lock.
func (n *Network) Renumber(subnet string) ([]Allocation, error) {
	prefix, err := ParseSubnet(subnet)
	if err != nil {
		return nil, err
	}
	l, err := n.lockConfig()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	table, err := n.readTable()
	if err != nil {
		return nil, err
	}
	resume := len(table.Allocations) > 0 && table.Subnet == prefix && prefix != n.cfg.Subnet
	if prefix == n.cfg.Subnet {
		// The subnet that cannot be kept is the likely reason for the call.
		if err := checkStoredSubnetFree(prefix, n.cfg.Bridge); err != nil {
			return nil, err
		}
		return nil, usererr.New(usererr.Usage, "ErrNetSubnetSame", "Subnet", prefix.String())
	}
	if err := checkSubnetFree(prefix, n.cfg.Bridge); err != nil {
		return nil, err
	}
	bridge, err := n.portlessBridge()
	if err != nil {
		return nil, err
	}

	moved := table
	if !resume {
		if moved, err = n.renumberTable(table, prefix); err != nil {
			return nil, err
		}
		if err := n.writeTable(moved, prefix); err != nil {
			return nil, err
		}
	}
	n.cfg.Subnet, n.cfg.Gateway = prefix, prefix.Addr().Next()
	if err := n.writeConfig(); err != nil {
		return nil, err
	}
	if bridge != nil {
		if err := n.setBridgeAddress(bridge); err != nil {
			return nil, n.bridgeError(err)
		}
		if err := n.installRules(); err != nil {
			return nil, err
		}
	}
	return sortedAllocations(moved.Allocations), nil
}

// renumberTable returns a table for subnet with the live allocations of table
// at consecutive addresses after the gateway, in the order of their old ones.
func (n *Network) renumberTable(table *addressTable, subnet netip.Prefix) (*addressTable, error) {
	live := n.liveAllocations(table)
	moved := &addressTable{Allocations: make(map[string]Allocation, len(live))}
	for _, a := range live {
		addr, ok := freeAddress(subnet, moved.Allocations)
		if !ok {
			return nil, usererr.New(usererr.Usage, "ErrNetSubnetTooSmallFor",
				"Subnet", subnet.String(), "Count", len(live))
		}
		a.Address = addr
		moved.Allocations[a.Name] = a
	}
	return moved, nil
}

// portlessBridge returns the bridge, or nil when it does not exist, and
// rejects a bridge that has links attached: a running container would lose
// its address under it.
func (n *Network) portlessBridge() (netlink.Link, error) {
	link, err := netlink.LinkByName(n.cfg.Bridge)
	if isLinkNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if link.Type() != "bridge" {
		return nil, usererr.New(usererr.Usage, "ErrNetNotBridge", "Name", n.cfg.Bridge, "Type", link.Type())
	}
	if err := n.removePorts(link, false); err != nil {
		return nil, err
	}
	return link, nil
}
