package network

import (
	"log/slog"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// tablePrefix starts the name of every nftables table rt-lab makes.
const tablePrefix = "rtlab_"

// Chains of a state folder's table.
const (
	forwardChain = "forward"     // drops traffic between this bridge and other rt-lab bridges
	natChain     = "postrouting" // masquerades the subnet, only with NAT on
)

// bridgePrefix starts the name of every bridge that BridgeName derives.
const bridgePrefix = LinkPrefix + "br-"

// TableName returns the name of the nftables table (family ip) of the state
// folder root. It holds the isolation rules of the root's bridge and, with NAT
// on, the masquerade rule.
func TableName(root string) string {
	return tablePrefix + hashHex(root)
}

// installRules makes the root's nftables table equal to
//
//	table ip rtlab_HASH {
//		chain forward {
//			type filter hook forward priority filter; policy accept;
//			iifname BRIDGE oifname != BRIDGE oifname "rt-br-*" drop
//			oifname BRIDGE iifname != BRIDGE iifname "rt-br-*" drop
//		}
//		chain postrouting {            # only with NAT on
//			type nat hook postrouting priority srcnat;
//			ip saddr SUBNET oifname != BRIDGE masquerade
//		}
//	}
//
// It reads the table first and writes it only when it is missing or differs,
// because every nftables change makes the kernel wait for an RCU grace period
// (about 10 ms in __flush_work from nft_rcv_nl_event) when the netlink socket
// closes. A write replaces the whole table in one transaction.
//
// The forward rules keep two complexes apart: once net.ipv4.ip_forward is 1,
// for NAT or for any other reason, the host would otherwise route packets from
// one rt-lab bridge to another. Traffic between two houses of one complex is
// bridged, not routed. With br_netfilter loaded and
// net.bridge.bridge-nf-call-iptables set, it passes the forward hook too, but
// with the bridge as both input and output device, so no rule matches it.
// With NAT on, installRules also records that the root needs ip_forward (see
// enableForward).
//
// NOTE: a FORWARD chain with policy drop in another table (Docker's iptables
// rules add one) still drops the forwarded packets, because every base chain on
// a hook must accept a packet. rt-lab does not change other tables.
func (n *Network) installRules() error {
	// One socket for the reads and the write, so that the kernel's wait on
	// close happens at most once.
	conn, err := nftables.New(nftables.AsLasting())
	if err != nil {
		return n.rulesUnavailable(err)
	}
	defer conn.CloseLasting()

	want := n.expectedTable()
	// A kernel without nf_tables answers a batch with one error where
	// google/nftables v0.3.0 waits for an answer to every message, so Flush
	// would block for good. The read fails at once instead.
	current, exists, err := readTable(conn, want)
	if err != nil {
		return n.rulesUnavailable(err)
	}
	if !current {
		if err := want.write(conn, exists); err != nil {
			return n.rulesError(err)
		}
	}

	if !n.cfg.NAT {
		return nil
	}
	if err := n.enableForward(); err != nil {
		return n.natError(err)
	}
	return nil
}

// isolationExprs returns the two drop rules of the forward chain as nftables
// expressions, outbound first.
func (n *Network) isolationExprs() [][]expr.Any {
	own := ifname(n.cfg.Bridge)
	// Without the terminating NUL, a comparison of the first bytes is a prefix
	// match, which is what nft makes of "rt-br-*".
	others := []byte(bridgePrefix)
	match := func(in, out expr.MetaKey) []expr.Any {
		return []expr.Any{
			&expr.Meta{Key: in, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: own},
			&expr.Meta{Key: out, Register: 1},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: own},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: others},
			&expr.Verdict{Kind: expr.VerdictDrop},
		}
	}
	return [][]expr.Any{
		match(expr.MetaKeyIIFNAME, expr.MetaKeyOIFNAME),
		match(expr.MetaKeyOIFNAME, expr.MetaKeyIIFNAME),
	}
}

// masqueradeExprs returns "ip saddr SUBNET oifname != BRIDGE masquerade" as
// nftables expressions.
func (n *Network) masqueradeExprs() []expr.Any {
	subnet := n.cfg.Subnet
	mask := ipNet(subnet).Mask
	network := subnet.Addr().As4()
	return []expr.Any{
		// The IPv4 source address is 4 bytes at offset 12 of the header.
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: network[:]},
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: ifname(n.cfg.Bridge)},
		&expr.Masq{},
	}
}

// ifname returns name as the kernel stores an interface name: IFNAMSIZ bytes,
// padded with NULs.
func ifname(name string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return b
}

// removeRules deletes the root's table if it exists and removes the root from
// the record of roots that need ip_forward (see disableForward).
func (n *Network) removeRules() error {
	conn, err := nftables.New()
	if err != nil {
		return n.rulesError(err)
	}
	tables, err := conn.ListTablesOfFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return n.rulesError(err)
	}
	for _, t := range tables {
		if t.Name == TableName(n.root) {
			conn.DelTable(t)
			if err := conn.Flush(); err != nil {
				return n.rulesError(err)
			}
		}
	}
	if err := n.disableForward(); err != nil {
		return n.natError(err)
	}
	return nil
}

// removeRulesLeniently is removeRules for a bridge that goes away. A failure
// is returned only with NAT on. Otherwise it is logged, so a kernel without
// nf_tables can still remove the bridge, and a table left behind only drops
// traffic of a bridge that no longer exists.
func (n *Network) removeRulesLeniently() error {
	err := n.removeRules()
	if err == nil || n.cfg.NAT {
		return err
	}
	slog.Warn("nftables table not removed", "table", TableName(n.root), "error", err)
	return nil
}

// RulesInstalled reports which chains of the root's table exist in the
// caller's network namespace: the forward chain with the isolation rules, and
// the postrouting chain that NAT adds.
func (n *Network) RulesInstalled() (isolation, nat bool, err error) {
	conn, err := nftables.New()
	if err != nil {
		return false, false, err
	}
	chains, err := conn.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return false, false, err
	}
	for _, c := range chains {
		if c.Table.Name != TableName(n.root) {
			continue
		}
		switch c.Name {
		case forwardChain:
			isolation = true
		case natChain:
			nat = true
		}
	}
	return isolation, nat, nil
}

// NATInstalled reports whether the masquerade chain of the state folder
// exists in the caller's network namespace.
func (n *Network) NATInstalled() (bool, error) {
	_, nat, err := n.RulesInstalled()
	return nat, err
}

// rulesUnavailable decides what a failed nftables request means for
// installRules. NAT cannot work without nftables. The isolation rules matter
// only while the host forwards packets, so with NAT off and ip_forward 0 the
// bridge goes ahead without them and a warning is logged.
//
// NOTE: a program that sets ip_forward to 1 later leaves such complexes
// without isolation until their next start, which fails then.
func (n *Network) rulesUnavailable(err error) error {
	if n.cfg.NAT {
		return n.rulesError(err)
	}
	on, ferr := readIPForward()
	if ferr != nil || on {
		return n.rulesError(err)
	}
	slog.Warn("nftables unavailable: the complex is not isolated from other complexes, "+
		"which matters only once net.ipv4.ip_forward is 1", "table", TableName(n.root), "error", err)
	return nil
}

func (n *Network) rulesError(err error) error {
	return usererr.Wrap(err, usererr.Failed, "ErrNetRulesFailed", "Table", TableName(n.root), "Bridge", n.cfg.Bridge)
}

func (n *Network) natError(err error) error {
	return usererr.Wrap(err, usererr.Failed, "ErrNetNATFailed", "Subnet", n.cfg.Subnet.String())
}
