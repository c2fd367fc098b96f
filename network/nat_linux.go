package network

import (
	"os"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// natTablePrefix starts the name of every nftables table rt-lab makes.
const natTablePrefix = "rtlab_"

// natChain is the chain in the NAT table that masquerades.
const natChain = "postrouting"

// ipForwardPath is the sysctl net.ipv4.ip_forward of the caller's network
// namespace. Without it the host does not route the containers' packets out.
var ipForwardPath = "/proc/sys/net/ipv4/ip_forward"

// NATTableName returns the name of the nftables table (family ip) that holds the
// NAT rule of the state folder root.
func NATTableName(root string) string {
	return natTablePrefix + hashHex(root)
}

// SetNAT turns NAT for the subnet on or off and stores the choice in
// network.json. Turning it on installs the rule at once when the bridge exists,
// and otherwise at the next EnsureBridge. Turning it off removes the rule. It
// takes ROOT/network.lock.
func (n *Network) SetNAT(on bool) error {
	l, err := n.lock()
	if err != nil {
		return err
	}
	defer l.Unlock()

	if err := n.readConfig(); err != nil {
		return err
	}
	if n.cfg.NAT != on {
		n.cfg.NAT = on
		if err := n.writeConfig(); err != nil {
			return err
		}
	}
	if !on {
		return n.removeNAT()
	}
	if _, err := netlink.LinkByName(n.cfg.Bridge); isLinkNotFound(err) {
		return nil // EnsureBridge installs the rule with the bridge
	}
	return n.installNAT()
}

// installNAT installs, in one nftables transaction, the table
//
//	table ip rtlab_HASH {
//		chain postrouting {
//			type nat hook postrouting priority srcnat
//			ip saddr SUBNET oifname != BRIDGE masquerade
//		}
//	}
//
// replacing the rules of an older one, and sets net.ipv4.ip_forward to 1.
//
// NOTE: a FORWARD chain with policy drop in another table (Docker's iptables
// rules add one) still drops the forwarded packets, because every base chain on
// a hook must accept a packet. rt-lab does not change other tables.
func (n *Network) installNAT() error {
	conn, err := nftables.New()
	if err != nil {
		return n.natError(err)
	}
	table := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: NATTableName(n.root)}
	conn.AddTable(table)
	conn.FlushTable(table)
	chain := conn.AddChain(&nftables.Chain{
		Name:     natChain,
		Table:    table,
		Type:     nftables.ChainTypeNAT,
		Hooknum:  nftables.ChainHookPostrouting,
		Priority: nftables.ChainPriorityNATSource,
	})
	conn.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: n.masqueradeExprs()})
	if err := conn.Flush(); err != nil {
		return n.natError(err)
	}
	if err := n.enableIPForward(); err != nil {
		return n.natError(err)
	}
	return nil
}

// masqueradeExprs returns "ip saddr SUBNET oifname != BRIDGE masquerade" as
// nftables expressions.
func (n *Network) masqueradeExprs() []expr.Any {
	subnet := n.cfg.Subnet
	mask := ipNet(subnet).Mask
	network := subnet.Addr().As4()
	ifname := make([]byte, unix.IFNAMSIZ)
	copy(ifname, n.cfg.Bridge)
	return []expr.Any{
		// The IPv4 source address is 4 bytes at offset 12 of the header.
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: network[:]},
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: ifname},
		&expr.Masq{},
	}
}

// enableIPForward sets net.ipv4.ip_forward to 1 and records in network.json
// whether it was 0 before.
func (n *Network) enableIPForward() error {
	data, err := os.ReadFile(ipForwardPath)
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(data)) == "1" {
		return nil
	}
	if err := os.WriteFile(ipForwardPath, []byte("1\n"), 0o644); err != nil {
		return err
	}
	n.cfg.IPForwardChanged = true
	return n.writeConfig()
}

// removeNAT deletes the NAT table if it exists, and keeps the NAT setting so
// the next EnsureBridge installs the rule again. When installNAT switched
// ip_forward on and no other rt-lab table remains, it switches ip_forward off.
func (n *Network) removeNAT() error {
	conn, err := nftables.New()
	if err != nil {
		return n.natError(err)
	}
	name := NATTableName(n.root)
	tables, err := conn.ListTablesOfFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return n.natError(err)
	}
	othersLeft := false
	for _, t := range tables {
		switch {
		case t.Name == name:
			conn.DelTable(t)
		case strings.HasPrefix(t.Name, natTablePrefix):
			othersLeft = true
		}
	}
	if err := conn.Flush(); err != nil {
		return n.natError(err)
	}
	if !n.cfg.IPForwardChanged || othersLeft {
		return nil
	}
	if err := os.WriteFile(ipForwardPath, []byte("0\n"), 0o644); err != nil {
		return n.natError(err)
	}
	n.cfg.IPForwardChanged = false
	return n.writeConfig()
}

// NATInstalled reports whether the NAT table of the state folder exists in the
// caller's network namespace.
func (n *Network) NATInstalled() (bool, error) {
	conn, err := nftables.New()
	if err != nil {
		return false, err
	}
	tables, err := conn.ListTablesOfFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return false, err
	}
	for _, t := range tables {
		if t.Name == NATTableName(n.root) {
			return true, nil
		}
	}
	return false, nil
}

func (n *Network) natError(err error) error {
	return usererr.Wrap(err, usererr.Failed, "ErrNetNATFailed", "Subnet", n.cfg.Subnet.String())
}
