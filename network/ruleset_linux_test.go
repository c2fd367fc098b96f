package network

import (
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

func TestEnsureBridgeKeepsCurrentTable(t *testing.T) {
	enterNewNetns(t)
	n, err := Open(t.TempDir(), Options{Subnet: "10.0.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	setIPForward(t, "0")
	for _, nat := range []bool{false, true} {
		if err := n.SetNAT(nat); err != nil {
			t.Fatal(err)
		}
		if err := n.EnsureBridge(); err != nil {
			t.Fatal(err)
		}
		before := tableWrites.Load()
		if err := n.EnsureBridge(); err != nil {
			t.Fatal(err)
		}
		if writes := tableWrites.Load() - before; writes != 0 {
			t.Errorf("NAT %v: EnsureBridge wrote the current table %d times, want 0", nat, writes)
		}
		checkIsolationRules(t, n)
	}
	if err := n.RemoveBridge(false); err != nil {
		t.Fatal(err)
	}
}

func TestEnsureBridgeRestoresTamperedTable(t *testing.T) {
	table := func(n *Network) *nftables.Table {
		return &nftables.Table{Family: nftables.TableFamilyIPv4, Name: TableName(n.root)}
	}
	tests := []struct {
		name   string
		nat    bool
		tamper func(t *testing.T, c *nftables.Conn, n *Network)
	}{
		{"table deleted", false, func(t *testing.T, c *nftables.Conn, n *Network) {
			c.DelTable(table(n))
		}},
		{"rule deleted", false, func(t *testing.T, c *nftables.Conn, n *Network) {
			rules := chainRules(t, n, forwardChain)
			if err := c.DelRule(rules[0]); err != nil {
				t.Fatal(err)
			}
		}},
		{"rule added", false, func(t *testing.T, c *nftables.Conn, n *Network) {
			chain := &nftables.Chain{Name: forwardChain, Table: table(n)}
			c.AddRule(&nftables.Rule{Table: table(n), Chain: chain,
				Exprs: []expr.Any{&expr.Verdict{Kind: expr.VerdictAccept}}})
		}},
		{"rule changed", false, func(t *testing.T, c *nftables.Conn, n *Network) {
			rules := chainRules(t, n, forwardChain)
			r := rules[1]
			r.Exprs = append(r.Exprs[:len(r.Exprs)-1], &expr.Verdict{Kind: expr.VerdictAccept})
			c.ReplaceRule(r)
		}},
		{"policy drop", false, func(t *testing.T, c *nftables.Conn, n *Network) {
			drop := nftables.ChainPolicyDrop
			c.AddChain(&nftables.Chain{Name: forwardChain, Table: table(n), Type: nftables.ChainTypeFilter,
				Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &drop})
		}},
		{"chain added", false, func(t *testing.T, c *nftables.Conn, n *Network) {
			c.AddChain(&nftables.Chain{Name: "extra", Table: table(n)})
		}},
		{"NAT chain deleted", true, func(t *testing.T, c *nftables.Conn, n *Network) {
			c.FlushChain(&nftables.Chain{Name: natChain, Table: table(n)})
			c.DelChain(&nftables.Chain{Name: natChain, Table: table(n)})
		}},
		{"masquerade deleted", true, func(t *testing.T, c *nftables.Conn, n *Network) {
			c.FlushChain(&nftables.Chain{Name: natChain, Table: table(n)})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enterNewNetns(t)
			n, err := Open(t.TempDir(), Options{Subnet: "10.0.0.0/24"})
			if err != nil {
				t.Fatal(err)
			}
			setIPForward(t, "0")
			if err := n.SetNAT(tt.nat); err != nil {
				t.Fatal(err)
			}
			if err := n.EnsureBridge(); err != nil {
				t.Fatal(err)
			}
			conn, err := nftables.New()
			if err != nil {
				t.Fatal(err)
			}
			tt.tamper(t, conn, n)
			if err := conn.Flush(); err != nil {
				t.Fatalf("tamper: %v", err)
			}
			current, _, err := readTable(conn, n.expectedTable())
			if err != nil {
				t.Fatal(err)
			}
			if current {
				t.Fatal("readTable reports the tampered table as current")
			}

			if err := n.EnsureBridge(); err != nil {
				t.Fatal(err)
			}
			checkIsolationRules(t, n)
			if tt.nat {
				checkMasqueradeRule(t, n)
			}
			if current, _, err := readTable(conn, n.expectedTable()); err != nil || !current {
				t.Errorf("after EnsureBridge: table current %v, error %v; want current", current, err)
			}
			if err := n.RemoveBridge(false); err != nil {
				t.Fatal(err)
			}
		})
	}
}
