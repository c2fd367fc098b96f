package network

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/testutil"
)

// enterNewNetns moves the test's goroutine into a new network namespace, so
// nftables rules and net.ipv4.ip_forward change there and not on the host. The
// thread stays locked and Go ends it with the goroutine, which takes the
// namespace and everything in it away. The record of roots that need
// ip_forward moves to a temporary folder too.
func enterNewNetns(t *testing.T) {
	t.Helper()
	testutil.RequireRoot(t)
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		t.Fatalf("unshare network namespace: %v", err)
	}
	old := forwardStateDir
	forwardStateDir = filepath.Join(t.TempDir(), "ip-forward")
	t.Cleanup(func() { forwardStateDir = old })
}

func ipForward(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(ipForwardPath)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

func setIPForward(t *testing.T, value string) {
	t.Helper()
	if err := os.WriteFile(ipForwardPath, []byte(value+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// chainRules returns the rules of chain in n's table, or nil when the chain
// is missing.
func chainRules(t *testing.T, n *Network, chain string) []*nftables.Rule {
	t.Helper()
	conn, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	table := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: TableName(n.root)}
	if _, err := conn.ListChain(table, chain); err != nil {
		return nil
	}
	rules, err := conn.GetRules(table, &nftables.Chain{Name: chain, Table: table})
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

func checkMasqueradeRule(t *testing.T, n *Network) {
	t.Helper()
	rules := chainRules(t, n, natChain)
	if len(rules) != 1 {
		t.Fatalf("%d rules in chain %s of %s, want 1", len(rules), natChain, TableName(n.root))
	}
	exprs := rules[0].Exprs
	if _, ok := exprs[len(exprs)-1].(*expr.Masq); !ok {
		t.Errorf("rule ends with %T, want masquerade", exprs[len(exprs)-1])
	}
	var source []byte
	for _, e := range exprs {
		if cmp, ok := e.(*expr.Cmp); ok && cmp.Op == expr.CmpOpEq {
			source = cmp.Data
		}
	}
	want := n.Config().Subnet.Addr().As4()
	if !bytes.Equal(source, want[:]) {
		t.Errorf("rule matches source %v, want %v", source, want)
	}
}

// checkIsolationRules checks the forward chain: a base chain on the forward
// hook at filter priority with policy accept, and two drop rules, one for each
// direction between the bridge and the other rt-br- bridges.
func checkIsolationRules(t *testing.T, n *Network) {
	t.Helper()
	conn, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	table := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: TableName(n.root)}
	chain, err := conn.ListChain(table, forwardChain)
	if err != nil {
		t.Fatalf("chain %s of %s: %v", forwardChain, table.Name, err)
	}
	if chain.Hooknum == nil || *chain.Hooknum != *nftables.ChainHookForward {
		t.Errorf("chain %s hooks %v, want forward", forwardChain, chain.Hooknum)
	}
	if chain.Priority == nil || *chain.Priority != *nftables.ChainPriorityFilter {
		t.Errorf("chain %s has priority %v, want filter (0)", forwardChain, chain.Priority)
	}
	if chain.Policy == nil || *chain.Policy != nftables.ChainPolicyAccept {
		t.Errorf("chain %s has policy %v, want accept", forwardChain, chain.Policy)
	}
	rules := chainRules(t, n, forwardChain)
	if len(rules) != 2 {
		t.Fatalf("%d rules in chain %s, want 2", len(rules), forwardChain)
	}
	own := ifname(n.Config().Bridge)
	for i, key := range []expr.MetaKey{expr.MetaKeyIIFNAME, expr.MetaKeyOIFNAME} {
		exprs := rules[i].Exprs
		if len(exprs) != 6 {
			t.Errorf("rule %d has %d expressions, want 6: %v", i, len(exprs), exprs)
			continue
		}
		if m, ok := exprs[0].(*expr.Meta); !ok || m.Key != key {
			t.Errorf("rule %d starts with %#v, want meta key %d", i, exprs[0], key)
		}
		if c, ok := exprs[1].(*expr.Cmp); !ok || c.Op != expr.CmpOpEq || !bytes.Equal(c.Data, own) {
			t.Errorf("rule %d: %#v, want == %s", i, exprs[1], n.Config().Bridge)
		}
		if c, ok := exprs[3].(*expr.Cmp); !ok || c.Op != expr.CmpOpNeq || !bytes.Equal(c.Data, own) {
			t.Errorf("rule %d: %#v, want != %s", i, exprs[3], n.Config().Bridge)
		}
		if c, ok := exprs[4].(*expr.Cmp); !ok || c.Op != expr.CmpOpEq || string(c.Data) != "rt-br-" {
			t.Errorf("rule %d: %#v, want the prefix rt-br-", i, exprs[4])
		}
		if v, ok := exprs[5].(*expr.Verdict); !ok || v.Kind != expr.VerdictDrop {
			t.Errorf("rule %d ends with %#v, want drop", i, exprs[5])
		}
	}
}

func TestNATInstallAndRemove(t *testing.T) {
	n := newNetnsBridge(t)
	root := n.Root()
	if rules := chainRules(t, n, natChain); rules != nil {
		t.Fatalf("NAT is installed before SetNAT: %v", rules)
	}
	checkIsolationRules(t, n)
	// Start from ip_forward 0, which a new namespace has unless
	// net.core.devconf_inherit_init_net copies the host's value, so the test
	// checks that SetNAT switches it on and back off.
	setIPForward(t, "0")

	for i := 0; i < 2; i++ {
		if err := n.SetNAT(true); err != nil {
			t.Fatalf("SetNAT(true) call %d: %v", i+1, err)
		}
		checkMasqueradeRule(t, n)
		checkIsolationRules(t, n)
	}
	if got := ipForward(t); got != "1" {
		t.Errorf("ip_forward = %s with NAT on, want 1", got)
	}
	reloaded, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if !reloaded.Config().NAT {
		t.Error("network.json does not record NAT as on")
	}

	// Removing the bridge removes the table but keeps the setting.
	if err := n.RemoveBridge(false); err != nil {
		t.Fatal(err)
	}
	if isolation, nat, err := n.RulesInstalled(); err != nil || isolation || nat {
		t.Errorf("after RemoveBridge: isolation %v, NAT %v, error %v; want no table", isolation, nat, err)
	}
	if got := ipForward(t); got != "0" {
		t.Errorf("ip_forward = %s after RemoveBridge, want 0 as before", got)
	}
	if err := n.EnsureBridge(); err != nil {
		t.Fatal(err)
	}
	checkMasqueradeRule(t, n)
	if got := ipForward(t); got != "1" {
		t.Errorf("ip_forward = %s with the bridge back, want 1", got)
	}

	if err := n.SetNAT(false); err != nil {
		t.Fatal(err)
	}
	if rules := chainRules(t, n, natChain); rules != nil {
		t.Errorf("rules left after SetNAT(false): %v", rules)
	}
	checkIsolationRules(t, n)
	if got := ipForward(t); got != "0" {
		t.Errorf("ip_forward = %s after SetNAT(false), want 0 as before", got)
	}
	reloaded, err = Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if reloaded.Config().NAT {
		t.Error("network.json still records NAT as on")
	}
	if err := n.RemoveBridge(false); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(forwardStateDir); len(entries) > 1 {
		t.Errorf("forward records left: %v, want only the lock file", entries)
	}
}

func TestNATOffByDefault(t *testing.T) {
	enterNewNetns(t)
	n, err := Open(t.TempDir(), Options{Subnet: "10.0.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.EnsureBridge(); err != nil {
		t.Fatal(err)
	}
	if rules := chainRules(t, n, natChain); rules != nil {
		t.Errorf("NAT rules without SetNAT: %v", rules)
	}
	checkIsolationRules(t, n)
	if err := n.RemoveBridge(false); err != nil {
		t.Fatal(err)
	}
}

// TestIPForwardFollowsLastRoot turns NAT on in two roots and off again in
// every order: ip_forward stays 1 while either root needs it and goes back to
// 0 after the last one, whichever root switched it on.
func TestIPForwardFollowsLastRoot(t *testing.T) {
	enterNewNetns(t)
	var roots [2]*Network
	for i, subnet := range []string{"10.0.1.0/24", "10.0.2.0/24"} {
		n, err := Open(t.TempDir(), Options{Subnet: subnet})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.EnsureBridge(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.RemoveBridge(true) })
		roots[i] = n
	}
	orders := []struct {
		name     string
		on, off  [2]int
		forward0 string // ip_forward before the first nat on
	}{
		{"first on, first off", [2]int{0, 1}, [2]int{0, 1}, "0"},
		{"first on, second off first", [2]int{0, 1}, [2]int{1, 0}, "0"},
		{"already on", [2]int{1, 0}, [2]int{0, 1}, "1"},
	}
	// No subtests: t.Run starts a goroutine on another thread, outside the
	// namespace, where ip_forward is the host's.
	for _, tt := range orders {
		setIPForward(t, tt.forward0)
		for _, i := range tt.on {
			if err := roots[i].SetNAT(true); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if got := ipForward(t); got != "1" {
				t.Errorf("%s: ip_forward = %s after nat on in root %d, want 1", tt.name, got, i)
			}
		}
		first, last := tt.off[0], tt.off[1]
		if err := roots[first].SetNAT(false); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := ipForward(t); got != "1" {
			t.Errorf("%s: ip_forward = %s after nat off in root %d while root %d has NAT, want 1",
				tt.name, got, first, last)
		}
		if err := roots[last].SetNAT(false); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := ipForward(t); got != tt.forward0 {
			t.Errorf("%s: ip_forward = %s after the last nat off, want %s as before", tt.name, got, tt.forward0)
		}
	}
}

// TestIPForwardIgnoresVanishedRoot turns NAT on in a root whose folder is then
// deleted without nat off: the next root to turn NAT off restores ip_forward.
func TestIPForwardIgnoresVanishedRoot(t *testing.T) {
	enterNewNetns(t)
	setIPForward(t, "0")
	gone, err := Open(filepath.Join(t.TempDir(), "hilang"), Options{Subnet: "10.0.1.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	kept, err := Open(t.TempDir(), Options{Subnet: "10.0.2.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*Network{gone, kept} {
		if err := n.EnsureBridge(); err != nil {
			t.Fatal(err)
		}
		if err := n.SetNAT(true); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.RemoveAll(gone.Root()); err != nil {
		t.Fatal(err)
	}
	if err := kept.SetNAT(false); err != nil {
		t.Fatal(err)
	}
	if got := ipForward(t); got != "0" {
		t.Errorf("ip_forward = %s with only a deleted root left, want 0", got)
	}
}

// TestLegacyIPForwardChanged reads a network.json of an older rt-lab that
// recorded the switch of ip_forward itself.
func TestLegacyIPForwardChanged(t *testing.T) {
	enterNewNetns(t)
	n, err := Open(t.TempDir(), Options{Subnet: "10.0.1.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	n.cfg.NAT, n.cfg.IPForwardChanged = true, true
	if err := n.writeConfig(); err != nil {
		t.Fatal(err)
	}
	setIPForward(t, "1")
	if err := n.SetNAT(false); err != nil {
		t.Fatal(err)
	}
	if got := ipForward(t); got != "0" {
		t.Errorf("ip_forward = %s, want 0 restored for the older network.json", got)
	}
	reloaded, err := Load(n.Root())
	if err != nil {
		t.Fatal(err)
	}
	if reloaded.Config().IPForwardChanged {
		t.Error("network.json still records the switch")
	}
}

// TestRulesUnavailable gives installRules' error path a failed nftables
// request with ip_forward read from a file of the test.
func TestRulesUnavailable(t *testing.T) {
	old := ipForwardPath
	ipForwardPath = filepath.Join(t.TempDir(), "ip_forward")
	t.Cleanup(func() { ipForwardPath = old })
	cause := unix.EINVAL
	tests := []struct {
		name    string
		nat     bool
		forward string
		wantErr bool
	}{
		{"no NAT, no forwarding", false, "0", false},
		{"no NAT, forwarding", false, "1", true},
		{"NAT", true, "0", true},
	}
	for _, tt := range tests {
		setIPForward(t, tt.forward)
		n := &Network{root: "/r", cfg: Config{NAT: tt.nat, Bridge: "rt-br-1"}}
		err := n.rulesUnavailable(cause)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: error %v, want error %v", tt.name, err, tt.wantErr)
		}
		if err != nil && !errors.Is(err, cause) {
			t.Errorf("%s: error %v does not wrap the cause", tt.name, err)
		}
	}
}
