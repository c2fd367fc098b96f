package network

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// TestRenumber moves a network with two houses and an orphan allocation to a
// new subnet, in a network namespace of the test.
func TestRenumber(t *testing.T) {
	enterNewNetns(t)
	n, err := Open(t.TempDir(), Options{Subnet: "10.0.1.0/24", Exists: only("rumah-a", "rumah-b")})
	if err != nil {
		t.Fatal(err)
	}
	before := map[string]Allocation{}
	for _, name := range []string{"rumah-x", "rumah-b", "rumah-a"} {
		before[name] = mustAllocate(t, n, name)
	}
	if err := n.Release("rumah-x"); err != nil {
		t.Fatal(err)
	}
	mustAllocate(t, n, "rumah-hilang") // takes the first free address again, 10.0.1.2
	if err := n.SetNAT(true); err != nil {
		t.Fatal(err)
	}
	if err := n.EnsureBridge(); err != nil {
		t.Fatal(err)
	}

	moved, err := n.Renumber("10.0.7.0/24")
	if err != nil {
		t.Fatalf("Renumber: %v", err)
	}
	// rumah-b had 10.0.1.3 and rumah-a 10.0.1.4, so their order stays.
	want := []struct{ name, addr string }{{"rumah-b", "10.0.7.2"}, {"rumah-a", "10.0.7.3"}}
	if len(moved) != len(want) {
		t.Fatalf("allocations %v, want %v", moved, want)
	}
	for i, w := range want {
		got := moved[i]
		if got.Name != w.name || got.Address.String() != w.addr {
			t.Errorf("allocation %d = %s %s, want %s %s", i, got.Name, got.Address, w.name, w.addr)
		}
		if got.ID != before[w.name].ID {
			t.Errorf("%s has link id %s, want %s kept", got.Name, got.ID, before[w.name].ID)
		}
	}

	reloaded, err := Load(n.Root())
	if err != nil {
		t.Fatal(err)
	}
	cfg := reloaded.Config()
	if cfg.Subnet.String() != "10.0.7.0/24" || cfg.Gateway.String() != "10.0.7.1" {
		t.Errorf("network.json has %s via %s, want 10.0.7.0/24 via 10.0.7.1", cfg.Subnet, cfg.Gateway)
	}
	all, err := reloaded.Allocations()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Errorf("stored allocations %v, want the two houses only", all)
	}
	checkBridge(t, reloaded)
	checkMasqueradeRule(t, reloaded)
	checkIsolationRules(t, reloaded)

	if _, err := n.Renumber("10.0.7.0/24"); !usererr.Is(err, "ErrNetSubnetSame") {
		t.Errorf("Renumber to the same subnet = %v, want ErrNetSubnetSame", err)
	}
	if _, err := n.Renumber("10.0.9.0/30"); !usererr.Is(err, "ErrNetSubnetTooSmallFor") {
		t.Errorf("Renumber to a /30 for two houses = %v, want ErrNetSubnetTooSmallFor", err)
	}
	if _, err := n.Renumber("10.0.9.5/24"); !usererr.Is(err, "ErrNetSubnetNotNetwork") {
		t.Errorf("Renumber to 10.0.9.5/24 = %v, want ErrNetSubnetNotNetwork", err)
	}
}

func TestRenumberRejectsAttachedLink(t *testing.T) {
	enterNewNetns(t)
	n, err := Open(t.TempDir(), Options{Subnet: "10.0.1.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	a := mustAttach(t, n, "rumah-a", startInNewNetns(t))
	_, err = n.Renumber("10.0.2.0/24")
	if !usererr.Is(err, "ErrNetBridgeHasLinks") {
		t.Fatalf("Renumber with a running house = %v, want ErrNetBridgeHasLinks", err)
	}
	if got, _, _ := n.Allocation("rumah-a"); got.Address != a.Address {
		t.Errorf("address of rumah-a changed to %s by a rejected Renumber", got.Address)
	}
	if cfg, err := Load(n.Root()); err != nil || cfg.Config().Subnet.String() != "10.0.1.0/24" {
		t.Errorf("network.json after a rejected Renumber: %+v, %v", cfg, err)
	}
}

func TestRenumberRejectsTakenSubnet(t *testing.T) {
	enterNewNetns(t)
	other, err := Open(t.TempDir(), Options{Subnet: "10.0.2.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.EnsureBridge(); err != nil {
		t.Fatal(err)
	}
	n, err := Open(t.TempDir(), Options{Subnet: "10.0.1.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	mustAllocate(t, n, "rumah-a")
	_, err = n.Renumber("10.0.2.0/24")
	if !usererr.Is(err, "ErrNetSubnetOverlap") {
		t.Fatalf("Renumber onto another bridge's subnet = %v, want ErrNetSubnetOverlap", err)
	}
	if code := usererr.ExitCode(err); code != usererr.ExitUsage {
		t.Errorf("exit code %d, want %d", code, usererr.ExitUsage)
	}
}

// TestRenumberCutShort leaves the address table on the new subnet and
// network.json on the old one, as a crash between the two writes does, and
// finishes the move with a second Renumber.
func TestRenumberCutShort(t *testing.T) {
	n := newTestNetwork(t, "10.0.1.0/24")
	mustAllocate(t, n, "rumah-a")
	table, err := n.readTable()
	if err != nil {
		t.Fatal(err)
	}
	next := netip.MustParsePrefix("10.0.8.0/24")
	moved, err := n.renumberTable(table, next)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.writeTable(moved, next); err != nil {
		t.Fatal(err)
	}

	_, err = n.Allocations()
	if !usererr.Is(err, "ErrNetRenumberCut") {
		t.Fatalf("Allocations after the cut = %v, want ErrNetRenumberCut", err)
	}
	if !strings.Contains(err.Error(), "set-subnet 10.0.8.0/24") {
		t.Errorf("message %q does not name the command that finishes the move", err)
	}
	if _, err := n.Renumber("10.0.8.0/24"); err != nil {
		t.Fatalf("second Renumber: %v", err)
	}
	a, ok, err := n.Allocation("rumah-a")
	if err != nil || !ok || a.Address.String() != "10.0.8.2" {
		t.Errorf("rumah-a after the second Renumber: %+v %v %v, want 10.0.8.2", a, ok, err)
	}
}

// TestEnsureBridgeNamesSetSubnet takes a root's subnet with a route on
// another link, as another root does after a reboot, and expects the error of
// EnsureBridge to name network set-subnet with a free subnet.
func TestEnsureBridgeNamesSetSubnet(t *testing.T) {
	enterNewNetns(t)
	n, err := Open(t.TempDir(), Options{Subnet: "10.0.1.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	mustAllocate(t, n, "rumah-a")
	taker := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "rt-br-taker"}}
	if err := netlink.LinkAdd(taker); err != nil {
		t.Fatal(err)
	}
	if err := netlink.AddrAdd(taker, &netlink.Addr{IPNet: ipNet(netip.MustParsePrefix("10.0.1.1/24"))}); err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(taker); err != nil {
		t.Fatal(err)
	}

	err = n.EnsureBridge()
	if !usererr.Is(err, "ErrNetSubnetTaken") {
		t.Fatalf("EnsureBridge = %v, want ErrNetSubnetTaken", err)
	}
	if code := usererr.ExitCode(err); code != usererr.ExitUsage {
		t.Errorf("exit code %d, want %d", code, usererr.ExitUsage)
	}
	for _, want := range []string{"10.0.1.0/24", "rt-br-taker", "rt-lab network set-subnet 10.0.0.0/24"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not contain %q", err, want)
		}
	}
	if _, err := netlink.LinkByName(n.Config().Bridge); !isLinkNotFound(err) {
		t.Errorf("bridge %s made although its subnet is taken: %v", n.Config().Bridge, err)
	}
	if _, err := n.Renumber("10.0.0.0/24"); err != nil {
		t.Fatalf("Renumber to the suggested subnet: %v", err)
	}
	if err := n.EnsureBridge(); err != nil {
		t.Errorf("EnsureBridge after the move: %v", err)
	}
}
