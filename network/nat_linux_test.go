package network

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/testutil"
)

// enterNewNetns moves the test's goroutine into a new network namespace, so
// NAT rules and net.ipv4.ip_forward change there and not on the host. The
// thread stays locked and Go ends it with the goroutine, which takes the
// namespace and everything in it away.
func enterNewNetns(t *testing.T) {
	t.Helper()
	testutil.RequireRoot(t)
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		t.Fatalf("unshare network namespace: %v", err)
	}
}

func readIPForward(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(ipForwardPath)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// natRules returns the rules of n's NAT chain, or nil when the table is
// missing.
func natRules(t *testing.T, n *Network) []*nftables.Rule {
	t.Helper()
	installed, err := n.NATInstalled()
	if err != nil {
		t.Fatal(err)
	}
	if !installed {
		return nil
	}
	conn, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	table := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: NATTableName(n.root)}
	rules, err := conn.GetRules(table, &nftables.Chain{Name: natChain, Table: table})
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

func checkMasqueradeRule(t *testing.T, n *Network) {
	t.Helper()
	rules := natRules(t, n)
	if len(rules) != 1 {
		t.Fatalf("%d rules in table %s, want 1", len(rules), NATTableName(n.root))
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
	if string(source) != string(want[:]) {
		t.Errorf("rule matches source %v, want %v", source, want)
	}
}

func TestNATInstallAndRemove(t *testing.T) {
	enterNewNetns(t)
	root := t.TempDir()
	n, err := Open(root, Options{Subnet: "10.0.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.EnsureBridge(); err != nil {
		t.Fatal(err)
	}
	if rules := natRules(t, n); rules != nil {
		t.Fatalf("NAT is installed before SetNAT: %v", rules)
	}
	// Start from ip_forward 0, which a new namespace has unless
	// net.core.devconf_inherit_init_net copies the host's value, so the test
	// checks that SetNAT switches it on and back off.
	if err := os.WriteFile(ipForwardPath, []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	forwardBefore := readIPForward(t)

	for i := 0; i < 2; i++ {
		if err := n.SetNAT(true); err != nil {
			t.Fatalf("SetNAT(true) call %d: %v", i+1, err)
		}
		checkMasqueradeRule(t, n)
	}
	if got := readIPForward(t); got != "1" {
		t.Errorf("ip_forward = %s with NAT on, want 1", got)
	}
	reloaded, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if !reloaded.Config().NAT {
		t.Error("network.json does not record NAT as on")
	}

	// Removing the bridge removes the rule but keeps the setting.
	if err := n.RemoveBridge(false); err != nil {
		t.Fatal(err)
	}
	if rules := natRules(t, n); rules != nil {
		t.Errorf("rules left after RemoveBridge: %v", rules)
	}
	if got := readIPForward(t); got != forwardBefore {
		t.Errorf("ip_forward = %s after RemoveBridge, want %s as before", got, forwardBefore)
	}
	if err := n.EnsureBridge(); err != nil {
		t.Fatal(err)
	}
	checkMasqueradeRule(t, n)

	if err := n.SetNAT(false); err != nil {
		t.Fatal(err)
	}
	if rules := natRules(t, n); rules != nil {
		t.Errorf("rules left after SetNAT(false): %v", rules)
	}
	if got := readIPForward(t); got != forwardBefore {
		t.Errorf("ip_forward = %s after SetNAT(false), want %s as before", got, forwardBefore)
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
	if rules := natRules(t, n); rules != nil {
		t.Errorf("NAT rules without SetNAT: %v", rules)
	}
	if err := n.RemoveBridge(false); err != nil {
		t.Fatal(err)
	}
}
