package network

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync/atomic"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// tableWrites counts the table writes of this process, for tests.
var tableWrites atomic.Int64

// tableSpec is the content that the root's nftables table should have.
type tableSpec struct {
	table  *nftables.Table
	chains []chainSpec
}

// chainSpec is one base chain of a tableSpec and its rules in order.
type chainSpec struct {
	chain *nftables.Chain
	rules [][]expr.Any
}

// expectedTable returns the table that installRules describes, for the current
// config.
func (n *Network) expectedTable() *tableSpec {
	table := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: TableName(n.root)}
	accept := nftables.ChainPolicyAccept
	spec := &tableSpec{table: table}
	spec.chains = append(spec.chains, chainSpec{
		chain: &nftables.Chain{
			Name:     forwardChain,
			Table:    table,
			Type:     nftables.ChainTypeFilter,
			Hooknum:  nftables.ChainHookForward,
			Priority: nftables.ChainPriorityFilter,
			Policy:   &accept,
		},
		rules: n.isolationExprs(),
	})
	if n.cfg.NAT {
		spec.chains = append(spec.chains, chainSpec{
			chain: &nftables.Chain{
				Name:     natChain,
				Table:    table,
				Type:     nftables.ChainTypeNAT,
				Hooknum:  nftables.ChainHookPostrouting,
				Priority: nftables.ChainPriorityNATSource,
			},
			rules: [][]expr.Any{n.masqueradeExprs()},
		})
	}
	return spec
}

// write sends the table in one transaction. An existing table is deleted in
// the same transaction, so no packet is matched against a half-written table.
func (spec *tableSpec) write(conn *nftables.Conn, exists bool) error {
	if exists {
		// Adding the table first makes the delete succeed even when the
		// table went away since it was read.
		conn.AddTable(spec.table)
		conn.DelTable(spec.table)
	}
	conn.AddTable(spec.table)
	tableWrites.Add(1)
	for _, c := range spec.chains {
		chain := conn.AddChain(c.chain)
		for _, exprs := range c.rules {
			conn.AddRule(&nftables.Rule{Table: spec.table, Chain: chain, Exprs: exprs})
		}
	}
	return conn.Flush()
}

// readTable reads the table named like spec.table from the kernel and
// reports whether it exists and whether its flags, chains and rules are
// exactly those of spec. Reads change nothing, so closing the socket after
// them does not wait for the kernel's nftables cleanup (unless another
// process changed nftables just before).
func readTable(conn *nftables.Conn, spec *tableSpec) (current, exists bool, err error) {
	family := spec.table.Family
	table, err := conn.ListTableOfFamily(spec.table.Name, family)
	if errors.Is(err, unix.ENOENT) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	// Use counts the chains, sets, objects and flowtables of the table, so a
	// set or chain that someone added makes the table differ too. Flags is
	// not 0 for a dormant table, in either byte order.
	if table.Flags != 0 || bigEndianAttr(table.Use) != uint32(len(spec.chains)) {
		return false, true, nil
	}

	chains, err := conn.ListChainsOfTableFamily(family)
	if err != nil {
		return false, true, err
	}
	got := make(map[string]*nftables.Chain)
	for _, c := range chains {
		if c.Table.Name == spec.table.Name {
			got[c.Name] = c
		}
	}
	if len(got) != len(spec.chains) {
		return false, true, nil
	}
	for _, want := range spec.chains {
		c, ok := got[want.chain.Name]
		if !ok || !sameChain(c, want.chain) {
			return false, true, nil
		}
		rules, err := conn.GetRules(spec.table, c)
		if err != nil {
			return false, true, err
		}
		if !sameRules(family, rules, want.rules) {
			return false, true, nil
		}
	}
	return true, true, nil
}

// bigEndianAttr returns a 32-bit netlink attribute that google/nftables
// v0.3.0 decoded in host byte order, such as Table.Use, as the kernel's
// big-endian value.
//
// NOTE: once the library decodes Table.Use correctly, this turns the count
// around and every installRules call rewrites the table; its test then
// fails (TestEnsureBridgeKeepsCurrentTable).
func bigEndianAttr(v uint32) uint32 {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], v)
	return binary.BigEndian.Uint32(b[:])
}

// sameChain compares the hook settings of a chain read from the kernel with
// the wanted ones. The kernel reports policy accept for a base chain made
// without a policy.
func sameChain(got, want *nftables.Chain) bool {
	if got.Type != want.Type || got.Hooknum == nil || got.Priority == nil ||
		*got.Hooknum != *want.Hooknum || *got.Priority != *want.Priority {
		return false
	}
	policy := func(c *nftables.Chain) nftables.ChainPolicy {
		if c.Policy == nil {
			return nftables.ChainPolicyAccept
		}
		return *c.Policy
	}
	return policy(got) == policy(want)
}

// sameRules compares rules read from the kernel with the wanted expressions
// in their netlink encoding, the form that the kernel stores.
func sameRules(family nftables.TableFamily, got []*nftables.Rule, want [][]expr.Any) bool {
	if len(got) != len(want) {
		return false
	}
	for i, r := range got {
		if len(r.Exprs) != len(want[i]) {
			return false
		}
		for j, e := range r.Exprs {
			a, errA := expr.Marshal(byte(family), e)
			b, errB := expr.Marshal(byte(family), want[i][j])
			if errA != nil || errB != nil || !bytes.Equal(a, b) {
				return false
			}
		}
	}
	return true
}
